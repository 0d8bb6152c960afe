// SchedulerClient is the one typed door to a netpoold scheduler for the client
// library and the CLI: each Scheduler RPC becomes a method returning
// absl::StatusOr of its response, with gRPC errors turned into absl::Status
// and an unreachable scheduler reported as kUnavailable naming its address.
// Every call carries the caller's token (see common/transport.h for where it
// comes from); a scheduler that refuses it answers kUnauthenticated or
// kPermissionDenied, saying why.
//
//   netpool::SchedulerClient scheduler("127.0.0.1:7340");
//   absl::StatusOr<netpool::v1::GetStatsResponse> stats = scheduler.GetStats();
#ifndef NETPOOL_CLIENT_SCHEDULER_CLIENT_H_
#define NETPOOL_CLIENT_SCHEDULER_CLIENT_H_

#include <memory>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "grpcpp/channel.h"
#include "grpcpp/client_context.h"
#include "grpcpp/support/sync_stream.h"
#include "common/transport.h"
#include "netpool/v1/netpool.grpc.pb.h"

namespace netpool {

class SchedulerClient {
 public:
  struct Options {
    // Deadline of every unary RPC except Get, whose deadline follows its own
    // timeout.
    absl::Duration rpc_timeout = absl::Seconds(30);
    // When true, RPCs wait (up to their deadline) for a connection that is
    // down instead of failing at once: right for a library riding out a
    // scheduler restart, wrong for a CLI that should say "unavailable" now.
    bool wait_for_ready = false;
    // TLS and token; resolved against the address and the environment.
    ClientSecurity security;
    // Used as is instead of `security` when set (Pool::Local's own token).
    std::optional<ClientTransport> transport;
  };

  // How WaitForConnection treats a failed connection attempt.
  enum class ConnectMode {
    kFailFast,          // the first refused attempt is the answer
    kRetryUntilTimeout  // keep trying (the scheduler may still be starting)
  };

  // Creates a channel to `address` (HOST:PORT). Nothing is sent until the
  // first call. When the security options cannot be resolved (an unreadable
  // or public token file, say) every call fails with that error.
  explicit SchedulerClient(std::string address, Options options);
  explicit SchedulerClient(std::string address) : SchedulerClient(std::move(address), Options()) {}

  SchedulerClient(const SchedulerClient&) = delete;
  SchedulerClient& operator=(const SchedulerClient&) = delete;

  // Connects the channel. Error kUnavailable when the scheduler does not
  // answer within `timeout` (or, with kFailFast, refuses the connection).
  absl::Status WaitForConnection(absl::Duration timeout, ConnectMode mode);

  absl::StatusOr<v1::SubmitResponse> Submit(const v1::SubmitRequest& request);
  // Submits one job and returns its id.
  absl::StatusOr<std::string> SubmitOne(v1::JobSpec spec);
  // Waits as the request's timeout_seconds says (< 0: forever), so the RPC
  // deadline is that timeout plus rpc_timeout.
  absl::StatusOr<v1::GetResponse> Get(const v1::GetRequest& request);
  absl::StatusOr<v1::CancelResponse> Cancel(const v1::CancelRequest& request);
  absl::StatusOr<v1::GetStatusResponse> GetStatus(const v1::GetStatusRequest& request);
  absl::StatusOr<v1::ListJobsResponse> ListJobs(const v1::ListJobsRequest& request);
  absl::StatusOr<v1::ListWorkersResponse> ListWorkers();
  absl::StatusOr<v1::GetStatsResponse> GetStats(
      const v1::GetStatsRequest& request = v1::GetStatsRequest());

  using WatchStream = grpc::ClientReaderWriter<v1::WatchRequest, v1::WatchResponse>;
  // Opens a Watch stream on `context`, which must outlive it. The stream
  // waits for the connection when wait_for_ready is set.
  std::unique_ptr<WatchStream> OpenWatch(grpc::ClientContext* context);

  // Turns a failed RPC's status into the absl::Status callers see.
  absl::Status RpcError(const grpc::Status& status, const char* method) const;

  const std::string& address() const { return address_; }

 private:
  template <typename Request, typename Response>
  using UnaryMethod = grpc::Status (v1::Scheduler::Stub::*)(grpc::ClientContext*, const Request&,
                                                            Response*);
  // One unary RPC with the given deadline (InfiniteDuration: none).
  template <typename Request, typename Response>
  absl::StatusOr<Response> Call(UnaryMethod<Request, Response> method, const char* name,
                                const Request& request, absl::Duration deadline);

  const std::string address_;
  const Options options_;
  const absl::StatusOr<ClientTransport> transport_;
  const std::shared_ptr<grpc::Channel> channel_;
  const std::unique_ptr<v1::Scheduler::Stub> stub_;
};

}  // namespace netpool

#endif  // NETPOOL_CLIENT_SCHEDULER_CLIENT_H_
