#include "server/watch_call.h"

#include <utility>

#include "server/request_validation.h"

namespace netpool {

grpc::ServerBidiReactor<v1::WatchRequest, v1::WatchResponse>* WatchCall::Start(
    SchedulerRuntime* runtime, Identity caller, PerClientLimit::Lease stream,
    size_t max_queued_bytes, const std::string& peer) {
  auto* call = new WatchCall(runtime, std::move(caller), std::move(stream), max_queued_bytes, peer);
  call->StartReading();
  return call;
}

WatchCall::WatchCall(SchedulerRuntime* runtime, Identity caller, PerClientLimit::Lease stream,
                     size_t max_queued_bytes, const std::string& peer)
    : OutboxBidiReactor(max_queued_bytes, absl::StrCat(caller.name, " at ", peer),
                        "the client stopped reading its Watch stream; its jobs run on and their "
                        "results can still be fetched (netpoold --max-client-buffer)"),
      runtime_(runtime),
      caller_(std::move(caller)),
      stream_(std::move(stream)),
      subscription_(std::make_shared<Subscription>(this)) {}

void WatchCall::Subscription::OnResult(const v1::JobResult& result) {
  v1::WatchResponse response;
  *response.add_results() = result;
  call_->Send(std::move(response));
}

void WatchCall::Subscription::OnSubmitted(std::vector<std::string> job_ids) {
  v1::WatchResponse response;
  response.mutable_submitted_job_ids()->Reserve(static_cast<int>(job_ids.size()));
  for (std::string& id : job_ids) response.add_submitted_job_ids(std::move(id));
  call_->Send(std::move(response));
}

absl::Status WatchCall::OnRequest(const v1::WatchRequest& request) {
  if (absl::Status s = ValidateWatchRequest(request); !s.ok()) return s;
  if (!request.submit().empty()) runtime_->SubmitAndWatch(subscription_, request.submit(), caller_);
  if (request.job_ids().empty()) return absl::OkStatus();
  runtime_->Watch(subscription_, {request.job_ids().begin(), request.job_ids().end()}, caller_);
  return absl::OkStatus();
}

v1::WatchResponse WatchCall::Pack(std::vector<v1::WatchResponse>& batch) {
  v1::WatchResponse response;
  for (v1::WatchResponse& part : batch) {
    for (v1::JobResult& result : *part.mutable_results()) response.add_results()->Swap(&result);
    for (std::string& id : *part.mutable_submitted_job_ids()) {
      response.add_submitted_job_ids(std::move(id));
    }
  }
  return response;
}

void WatchCall::OnEnd() { runtime_->Unwatch(subscription_); }

}  // namespace netpool
