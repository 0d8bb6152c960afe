#include "server/get_call.h"

#include <utility>

#include "common/grpc_status.h"

namespace netpool {

grpc::ServerUnaryReactor* GetCall::Start(SchedulerRuntime* runtime, const Identity& caller,
                                         const std::string& job_id, absl::Time deadline,
                                         PerClientLimit::Lease waiting, v1::GetResponse* response) {
  auto* call = new GetCall(runtime, std::move(waiting), response);
  absl::StatusOr<std::optional<v1::JobResult>> now =
      runtime->WaitForResult(job_id, caller, call->subscription_);
  if (!now.ok() || now->has_value()) {
    call->Answer(now);
  } else if (deadline != absl::InfiniteFuture()) {
    // gRPC cannot end the call (so OnDone cannot run) before this returns.
    call->refs_.fetch_add(1);
    call->timeout_set_ = true;
    call->timeout_.Set(absl::ToChronoTime(deadline), [call](bool fired) {
      if (fired) call->Answer(std::nullopt);
      call->Unref();
    });
  }
  return call;
}

GetCall::GetCall(SchedulerRuntime* runtime, PerClientLimit::Lease waiting,
                 v1::GetResponse* response)
    : runtime_(runtime),
      waiting_(std::move(waiting)),
      response_(response),
      subscription_(std::make_shared<Subscription>(this)) {}

void GetCall::Answer(const absl::StatusOr<std::optional<v1::JobResult>>& answer) {
  {
    absl::MutexLock lock(&mu_);
    if (answered_) return;
    answered_ = true;
  }
  if (!answer.ok()) return Finish(ToGrpcStatus(answer.status()));
  response_->set_ready(answer->has_value());
  if (answer->has_value()) *response_->mutable_result() = **answer;
  Finish(grpc::Status::OK);
}

void GetCall::OnCancel() { Answer(absl::CancelledError("the Get was cancelled")); }

void GetCall::OnDone() {
  runtime_->Unwatch(subscription_);
  // Now, not when the alarm lets go of the call: the limit belongs to the
  // service, which may be gone by then.
  waiting_ = PerClientLimit::Lease();
  if (timeout_set_) timeout_.Cancel();
  Unref();
}

void GetCall::Unref() {
  if (refs_.fetch_sub(1) == 1) delete this;
}

}  // namespace netpool
