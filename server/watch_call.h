// WatchCall is one client's Scheduler.Watch stream on gRPC's callback API:
// it submits the jobs and registers the ids the client sends with
// SchedulerRuntime and writes the results (and which jobs the store holds)
// back in batches, holding no thread while it waits. A client that
// stops reading is cut off once more than `max_queued_bytes` of its results
// wait to be sent; its jobs are not affected.
#ifndef NETPOOL_SERVER_WATCH_CALL_H_
#define NETPOOL_SERVER_WATCH_CALL_H_

#include <memory>
#include <string>
#include <vector>

#include "netpool/v1/netpool.pb.h"
#include "server/auth/identity.h"
#include "server/outbox_bidi_reactor.h"
#include "server/per_client_limit.h"
#include "server/scheduler_runtime.h"

namespace netpool {

class WatchCall final
    : public OutboxBidiReactor<v1::WatchRequest, v1::WatchResponse, v1::WatchResponse> {
 public:
  // Starts serving the stream; the call deletes itself when it is done.
  // `stream` is what the client holds open, given back then.
  // REQUIRES: `runtime` outlives the call.
  static grpc::ServerBidiReactor<v1::WatchRequest, v1::WatchResponse>* Start(
      SchedulerRuntime* runtime, Identity caller, PerClientLimit::Lease stream,
      size_t max_queued_bytes, const std::string& peer);

 private:
  // Hands the runtime's results to the stream.
  class Subscription final : public ResultSubscription {
   public:
    explicit Subscription(WatchCall* call) : call_(call) {}
    void OnResult(const v1::JobResult& result) override;
    void OnSubmitted(std::vector<std::string> job_ids) override;

   private:
    WatchCall* const call_;
  };

  WatchCall(SchedulerRuntime* runtime, Identity caller, PerClientLimit::Lease stream,
            size_t max_queued_bytes, const std::string& peer);

  absl::Status OnRequest(const v1::WatchRequest& request) override;
  v1::WatchResponse Pack(std::vector<v1::WatchResponse>& batch) override;
  void OnEnd() override;

  SchedulerRuntime* const runtime_;
  const Identity caller_;
  const PerClientLimit::Lease stream_;
  const std::shared_ptr<Subscription> subscription_;
};

}  // namespace netpool

#endif  // NETPOOL_SERVER_WATCH_CALL_H_
