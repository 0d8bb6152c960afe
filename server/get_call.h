// GetCall is one Scheduler.Get that waits for its job's result, on gRPC's
// callback API: it holds no thread while it waits, answers ready=false when
// the request's timeout passes first, and lets go of its wait as soon as the
// client cancels (or its deadline passes).
#ifndef NETPOOL_SERVER_GET_CALL_H_
#define NETPOOL_SERVER_GET_CALL_H_

#include <atomic>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "grpcpp/alarm.h"
#include "grpcpp/support/server_callback.h"
#include "netpool/v1/netpool.pb.h"
#include "server/auth/identity.h"
#include "server/per_client_limit.h"
#include "server/scheduler_runtime.h"

namespace netpool {

class GetCall final : public grpc::ServerUnaryReactor {
 public:
  // Waits for `job_id`'s result for `caller` until `deadline` and answers in
  // `response`; `waiting` is the caller's waiting Get, given back when the
  // call is done, as is the call itself (it deletes itself).
  // REQUIRES: `runtime` outlives the call; `response` is gRPC's for the call.
  static grpc::ServerUnaryReactor* Start(SchedulerRuntime* runtime, const Identity& caller,
                                         const std::string& job_id, absl::Time deadline,
                                         PerClientLimit::Lease waiting, v1::GetResponse* response);

 private:
  // Hands the runtime's result to the call.
  class Subscription final : public ResultSubscription {
   public:
    explicit Subscription(GetCall* call) : call_(call) {}
    void OnResult(const v1::JobResult& result) override { call_->Answer(result); }

   private:
    GetCall* const call_;
  };

  GetCall(SchedulerRuntime* runtime, PerClientLimit::Lease waiting, v1::GetResponse* response);

  // The first answer finishes the call; later ones are dropped. nullopt:
  // not ready.
  void Answer(const absl::StatusOr<std::optional<v1::JobResult>>& answer);
  void OnCancel() override;
  void OnDone() override;
  // Drops one of the references of OnDone and the alarm's callback.
  void Unref();

  SchedulerRuntime* const runtime_;
  PerClientLimit::Lease waiting_;  // given back in OnDone
  v1::GetResponse* const response_;
  const std::shared_ptr<Subscription> subscription_;
  grpc::Alarm timeout_;
  bool timeout_set_ = false;  // written before the call can be done
  std::atomic<int> refs_{1};
  absl::Mutex mu_;
  bool answered_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace netpool

#endif  // NETPOOL_SERVER_GET_CALL_H_
