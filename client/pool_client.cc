#include "client/pool_client.h"

#include <exception>
#include <thread>
#include <utility>

#include "common/job_id.h"
#include "spdlog/spdlog.h"

namespace netpool {
namespace internal {
namespace {

// User callbacks must not take a library thread down with them.
template <typename Callback, typename Arg>
void RunCallback(const Callback& callback, const Arg& arg, const std::string& job_id) {
  if (!callback) return;
  try {
    callback(arg);
  } catch (const std::exception& e) {
    spdlog::error("callback of job {} threw: {}", job_id, e.what());
  } catch (...) {
    spdlog::error("callback of job {} threw a non-standard exception", job_id);
  }
}

// Errors about what was sent rather than about getting it there.
bool IsRequestError(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kNotFound:
    case absl::StatusCode::kAlreadyExists:
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kUnimplemented:
    case absl::StatusCode::kResourceExhausted:
      return true;
    default:
      return false;
  }
}

}  // namespace

absl::StatusOr<std::shared_ptr<PoolClient>> PoolClient::Connect(
    std::string address, const ConnectOptions& options, SchedulerClient::ConnectMode mode) {
  SchedulerClient::Options rpc_options;
  rpc_options.wait_for_ready = mode == SchedulerClient::ConnectMode::kRetryUntilTimeout;
  auto scheduler = std::make_unique<SchedulerClient>(std::move(address), rpc_options);
  absl::Status connected = scheduler->WaitForConnection(options.connect_timeout, mode);
  if (!connected.ok()) return connected;
  return std::shared_ptr<PoolClient>(new PoolClient(std::move(scheduler)), &PoolClient::Delete);
}

PoolClient::PoolClient(std::unique_ptr<SchedulerClient> scheduler)
    : scheduler_(std::move(scheduler)) {
  watcher_ = std::make_unique<ResultWatcher>(
      scheduler_.get(), [this](v1::JobResult result) { OnResult(std::move(result)); });
  submit_queue_ = std::make_unique<SubmitQueue>(
      [this](std::vector<v1::JobSpec> batch) { SendBatch(std::move(batch)); });
}

PoolClient::~PoolClient() {
  // Queued jobs still go out: a caller that dropped its handles still meant
  // them to run. They need the watcher, so it stops second.
  submit_queue_.reset();
  watcher_.reset();
}

void PoolClient::Delete(PoolClient* client) {
  if (client->submit_queue_->OnSenderThread() || client->watcher_->OnReaderThread()) {
    std::thread([client] { delete client; }).detach();
  } else {
    delete client;
  }
}

std::shared_ptr<ResultState> PoolClient::Submit(v1::JobSpec spec, const CallOptions& options) {
  spec.set_job_id(NewJobId());
  if (options.timeout > absl::ZeroDuration()) {
    spec.set_timeout_seconds(absl::ToDoubleSeconds(options.timeout));
  }
  spec.set_max_attempts(options.max_attempts);
  spec.set_priority(options.priority);
  spec.mutable_labels()->insert(options.labels.begin(), options.labels.end());

  auto state = std::make_shared<ResultState>(spec.job_id(), weak_from_this());
  {
    absl::MutexLock lock(&mutex_);
    pending_[spec.job_id()] = Pending{state, options.callback, options.error_callback};
  }
  submit_queue_->Push(std::move(spec));
  // The handle owns the client as well as the state (aliasing constructor).
  struct Handle {
    std::shared_ptr<PoolClient> client;
    std::shared_ptr<ResultState> state;
  };
  auto handle = std::make_shared<Handle>(Handle{shared_from_this(), std::move(state)});
  return std::shared_ptr<ResultState>(handle, handle->state.get());
}

absl::Status PoolClient::Cancel(const ResultState& job) {
  job.WaitSubmitted();
  if (job.Ready() && job.outcome().state == v1::JOB_STATE_UNSPECIFIED) return absl::OkStatus();
  v1::CancelRequest request;
  request.add_job_ids(job.job_id);
  return scheduler_->Cancel(request).status();
}

void PoolClient::SendBatch(std::vector<v1::JobSpec> batch) {
  v1::SubmitRequest request;
  request.mutable_jobs()->Reserve(static_cast<int>(batch.size()));
  for (v1::JobSpec& spec : batch) *request.add_jobs() = std::move(spec);
  absl::StatusOr<v1::SubmitResponse> response = scheduler_->Submit(request);
  if (!response.ok() && request.jobs_size() > 1 && IsRequestError(response.status().code())) {
    // A Submit is all or nothing, and coalescing put unrelated calls in this
    // one: send each job alone so that only the bad one fails.
    for (v1::JobSpec& spec : *request.mutable_jobs()) SendBatch({std::move(spec)});
    return;
  }
  if (!response.ok()) {
    spdlog::debug("Submit of {} jobs failed: {}", request.jobs_size(),
                  response.status().ToString());
    for (const v1::JobSpec& spec : request.jobs()) {
      Finish(spec.job_id(), Outcome{v1::JOB_STATE_UNSPECIFIED, response.status(), Value()});
    }
    return;
  }
  std::vector<std::string> ids;
  ids.reserve(request.jobs_size());
  {
    absl::MutexLock lock(&mutex_);
    for (const v1::JobSpec& spec : request.jobs()) {
      ids.push_back(spec.job_id());
      auto it = pending_.find(spec.job_id());
      if (it != pending_.end()) it->second.state->MarkSubmitted();
    }
  }
  watcher_->Watch(std::move(ids));
}

void PoolClient::OnResult(v1::JobResult result) {
  Finish(result.job_id(), OutcomeFromProto(result));
}

void PoolClient::Finish(const std::string& job_id, Outcome outcome) {
  Pending pending;
  {
    absl::MutexLock lock(&mutex_);
    auto it = pending_.find(job_id);
    if (it == pending_.end()) return;
    pending = std::move(it->second);
    pending_.erase(it);
  }
  if (outcome.value.ok()) {
    RunCallback(pending.callback, *outcome.value, job_id);
  } else {
    RunCallback(pending.error_callback, outcome.value.status(), job_id);
  }
  pending.state->Complete(std::move(outcome));
}

}  // namespace internal
}  // namespace netpool
