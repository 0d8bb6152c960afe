// SchedulerService is the client-facing gRPC service (netpool.v1.Scheduler):
// it authenticates each call (before anything else), validates its request,
// calls SchedulerRuntime for the caller's identity and converts the answer.
// Clients and admins may call it; only admins may list worker nodes.
//
// Watch and Get, which wait, are served on gRPC's callback API (WatchCall,
// GetCall) and hold no thread while they wait; each client identity may
// hold only so many of them open, and a Watch stream only so many bytes of
// unsent results. The other calls answer at once and stay synchronous.
#ifndef NETPOOL_SERVER_SCHEDULER_SERVICE_H_
#define NETPOOL_SERVER_SCHEDULER_SERVICE_H_

#include "netpool/v1/netpool.grpc.pb.h"
#include "server/auth/authenticator.h"
#include "server/per_client_limit.h"
#include "server/scheduler_runtime.h"

namespace netpool {

// What one client identity may hold on the scheduler; 0 is no limit for
// the counts.
struct ClientLimits {
  // Bytes of results queued for one Watch stream (--max-client-buffer).
  size_t max_client_buffer = size_t{64} << 20;
  // Open Watch streams (--max-streams-per-client).
  int max_streams_per_client = 64;
  // Gets waiting for their result (--max-waiting-per-client).
  int max_waiting_per_client = 1000;
};

class SchedulerService final : public v1::Scheduler::WithCallbackMethod_Watch<
                                   v1::Scheduler::WithCallbackMethod_Get<v1::Scheduler::Service>> {
 public:
  // REQUIRES: both outlive the service.
  SchedulerService(SchedulerRuntime* runtime, const Authenticator* authenticator,
                   ClientLimits limits = ClientLimits());

  grpc::Status Submit(grpc::ServerContext* context, const v1::SubmitRequest* request,
                      v1::SubmitResponse* response) override;
  grpc::ServerBidiReactor<v1::WatchRequest, v1::WatchResponse>* Watch(
      grpc::CallbackServerContext* context) override;
  grpc::ServerUnaryReactor* Get(grpc::CallbackServerContext* context, const v1::GetRequest* request,
                                v1::GetResponse* response) override;
  grpc::Status Cancel(grpc::ServerContext* context, const v1::CancelRequest* request,
                      v1::CancelResponse* response) override;
  grpc::Status GetStatus(grpc::ServerContext* context, const v1::GetStatusRequest* request,
                         v1::GetStatusResponse* response) override;
  grpc::Status ListJobs(grpc::ServerContext* context, const v1::ListJobsRequest* request,
                        v1::ListJobsResponse* response) override;
  grpc::Status ListWorkers(grpc::ServerContext* context, const v1::ListWorkersRequest* request,
                           v1::ListWorkersResponse* response) override;
  grpc::Status GetStats(grpc::ServerContext* context, const v1::GetStatsRequest* request,
                        v1::GetStatsResponse* response) override;

 private:
  absl::StatusOr<Identity> Authenticate(const grpc::ServerContextBase& context,
                                        absl::string_view method) const;

  SchedulerRuntime* const runtime_;
  const Authenticator* const authenticator_;
  const size_t max_client_buffer_;
  PerClientLimit streams_;
  PerClientLimit waiting_;
};

}  // namespace netpool

#endif  // NETPOOL_SERVER_SCHEDULER_SERVICE_H_
