#include "client/pool_client.h"

#include <algorithm>
#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"
#include "client/user_callback.h"
#include "common/job_id.h"
#include "spdlog/spdlog.h"

namespace netpool {
namespace internal {
namespace {

// Ids per Cancel RPC, well below the scheduler's limit per request.
constexpr size_t kMaxIdsPerCancel = 10'000;

// How long Terminate waits for the cancelled jobs' results to come back.
constexpr absl::Duration kTerminateWait = absl::Seconds(10);

absl::Status PoolIsClosed() { return absl::FailedPreconditionError("pool is closed"); }

}  // namespace

absl::StatusOr<std::shared_ptr<PoolClient>> PoolClient::Connect(
    std::string address, const ConnectOptions& options, SchedulerClient::ConnectMode mode) {
  SchedulerClient::Options rpc_options;
  rpc_options.wait_for_ready = mode == SchedulerClient::ConnectMode::kRetryUntilTimeout;
  rpc_options.security.tls_ca_file = options.tls_ca_file;
  rpc_options.security.token = options.token;
  rpc_options.security.token_file = options.token_file;
  return Connect(std::move(address), options.connect_timeout, rpc_options, mode);
}

absl::StatusOr<std::shared_ptr<PoolClient>> PoolClient::Connect(
    std::string address, absl::Duration connect_timeout,
    const SchedulerClient::Options& rpc_options, SchedulerClient::ConnectMode mode,
    Reconnector::Options reconnect) {
  auto scheduler = std::make_unique<SchedulerClient>(std::move(address), rpc_options);
  absl::Status connected = scheduler->WaitForConnection(connect_timeout, mode);
  if (!connected.ok()) return connected;
  // Jobs go out on the Watch stream, which an older scheduler reads only for
  // ids: it would never answer them. (An error here, a refused token say,
  // shows on the first call instead, as with every other call.)
  if (absl::StatusOr<v1::GetStatsResponse> stats = scheduler->GetStats();
      stats.ok() && !stats->watch_submit()) {
    return absl::FailedPreconditionError(
        absl::StrCat("the scheduler at ", scheduler->address(),
                     " is older than this client (it takes no jobs on its Watch stream): "
                     "upgrade netpoold first"));
  }
  return std::shared_ptr<PoolClient>(new PoolClient(std::move(scheduler), std::move(reconnect)),
                                     &PoolClient::Delete);
}

PoolClient::PoolClient(std::unique_ptr<SchedulerClient> scheduler,
                       Reconnector::Options reconnect)
    : scheduler_(std::move(scheduler)), reconnector_(std::move(reconnect)) {
  watcher_ = std::make_unique<ResultWatcher>(
      scheduler_.get(), [this](v1::JobResult result) { OnResult(std::move(result)); },
      &reconnector_,
      [this](const std::vector<std::string>& job_ids, const absl::Status& error) {
        OnGiveUp(job_ids, error);
      });
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
  if (client->OnLibraryThread()) {
    std::thread([client] { delete client; }).detach();
  } else {
    delete client;
  }
}

bool PoolClient::OnLibraryThread() const {
  return submit_queue_->OnSenderThread() || watcher_->OnReaderThread();
}

std::shared_ptr<ResultState> PoolClient::Handle(std::shared_ptr<ResultState> state) {
  // The handle owns the client as well as the state (aliasing constructor).
  struct Owner {
    std::shared_ptr<PoolClient> client;
    std::shared_ptr<ResultState> state;
  };
  auto owner = std::make_shared<Owner>(Owner{shared_from_this(), std::move(state)});
  return std::shared_ptr<ResultState>(owner, owner->state.get());
}

std::shared_ptr<ResultState> PoolClient::Submit(v1::JobSpec spec, const CallOptions& options) {
  std::vector<v1::JobSpec> specs;
  specs.push_back(std::move(spec));
  absl::StatusOr<std::vector<std::shared_ptr<ResultState>>> submitted =
      SubmitAll(std::move(specs), {options});
  if (submitted.ok()) return std::move(submitted->front());
  auto refused = std::make_shared<ResultState>("", weak_from_this());
  refused->Complete(Outcome{v1::JOB_STATE_UNSPECIFIED, submitted.status(), Value()});
  return Handle(std::move(refused));
}

absl::StatusOr<std::vector<std::shared_ptr<ResultState>>> PoolClient::SubmitAll(
    std::vector<v1::JobSpec> specs, const std::vector<CallOptions>& options,
    std::vector<ResultSink> sinks) {
  std::vector<std::shared_ptr<ResultState>> states;
  states.reserve(specs.size());
  for (size_t i = 0; i < specs.size(); ++i) {
    v1::JobSpec& spec = specs[i];
    spec.set_job_id(options[i].idempotency_key.empty()
                        ? NewJobId()
                        : JobIdForIdempotencyKey(options[i].idempotency_key));
    if (options[i].timeout > absl::ZeroDuration()) {
      spec.set_timeout_seconds(absl::ToDoubleSeconds(options[i].timeout));
    }
    spec.set_max_attempts(options[i].max_attempts);
    spec.set_retry_on_error(options[i].retry_on_error);
    spec.set_retry_backoff_seconds(absl::ToDoubleSeconds(options[i].retry_backoff));
    spec.set_idempotency_key(options[i].idempotency_key);
    spec.set_priority(options[i].priority);
    spec.mutable_labels()->insert(options[i].labels.begin(), options[i].labels.end());
    states.push_back(std::make_shared<ResultState>(spec.job_id(), weak_from_this()));
  }
  {
    absl::MutexLock lock(&mutex_);
    if (closed_) return PoolIsClosed();
    for (size_t i = 0; i < specs.size(); ++i) {
      pending_[specs[i].job_id()] =
          Pending{states[i], options[i].callback, options[i].error_callback,
                  sinks.empty() ? nullptr : std::move(sinks[i])};
    }
    outstanding_ += specs.size();
  }
  for (v1::JobSpec& spec : specs) submit_queue_->Push(std::move(spec));
  for (std::shared_ptr<ResultState>& state : states) state = Handle(std::move(state));
  return states;
}

absl::Status PoolClient::Cancel(const ResultState& job) {
  job.WaitSubmitted();
  if (job.Ready()) return absl::OkStatus();
  return CancelIds({job.job_id});
}

absl::Status PoolClient::Cancel(const std::vector<std::shared_ptr<ResultState>>& jobs) {
  std::vector<std::string> ids;
  for (const std::shared_ptr<ResultState>& job : jobs) {
    job->WaitSubmitted();
    if (!job->Ready()) ids.push_back(job->job_id);
  }
  return CancelIds(ids);
}

absl::Status PoolClient::CancelIds(const std::vector<std::string>& ids) {
  absl::Status first_error;
  for (size_t first = 0; first < ids.size(); first += kMaxIdsPerCancel) {
    v1::CancelRequest request;
    const size_t last = std::min(ids.size(), first + kMaxIdsPerCancel);
    for (size_t i = first; i < last; ++i) request.add_job_ids(ids[i]);
    absl::Status status = scheduler_->Cancel(request).status();
    if (absl::IsNotFound(status) && request.job_ids_size() > 1) {
      // The scheduler stops at an id it no longer knows (its result was
      // fetched and has expired): cancel each alone so the others still go.
      status = absl::OkStatus();
      for (const std::string& id : request.job_ids()) {
        v1::CancelRequest one;
        one.add_job_ids(id);
        absl::Status alone = scheduler_->Cancel(one).status();
        if (!absl::IsNotFound(alone) && status.ok()) status = alone;
      }
    }
    if (first_error.ok()) first_error = status;
  }
  return first_error;
}

void PoolClient::Close() {
  absl::MutexLock lock(&mutex_);
  closed_ = true;
}

absl::Status PoolClient::CheckOpen() const {
  absl::MutexLock lock(&mutex_);
  return closed_ ? PoolIsClosed() : absl::OkStatus();
}

absl::Status PoolClient::Join() {
  if (OnLibraryThread()) {
    return absl::FailedPreconditionError("Join called from a callback would wait for itself");
  }
  absl::MutexLock lock(&mutex_);
  if (!closed_) {
    return absl::FailedPreconditionError(
        "the pool is still running: call Close() or Terminate() before Join()");
  }
  mutex_.Await(absl::Condition(
      +[](size_t* outstanding) { return *outstanding == 0; }, &outstanding_));
  return absl::OkStatus();
}

void PoolClient::Terminate() {
  std::vector<std::string> submitted;
  {
    absl::MutexLock lock(&mutex_);
    closed_ = true;
    terminated_ = true;
    for (const auto& [id, pending] : pending_) {
      if (pending.submitted) submitted.push_back(id);
    }
  }
  // The others are still on their way to the scheduler; SendBatch cancels
  // them once their submission is confirmed.
  if (absl::Status status = CancelIds(submitted); !status.ok()) {
    spdlog::warn("Terminate could not cancel {} jobs: {}", submitted.size(), status.ToString());
  }
  // A callback that terminates must not wait for results that only its own
  // thread can deliver.
  if (OnLibraryThread()) return;
  absl::MutexLock lock(&mutex_);
  mutex_.AwaitWithTimeout(
      absl::Condition(+[](size_t* outstanding) { return *outstanding == 0; }, &outstanding_),
      kTerminateWait);
}

void PoolClient::SendBatch(std::vector<v1::JobSpec> batch) {
  // The jobs carry their ids, and the scheduler takes a job it already holds
  // as the same job: jobs cut off by a broken stream are simply sent again,
  // and none is lost or doubled. Those it cannot take for now (its disk is
  // full, it is shutting down) are sent again as long as the reconnector
  // says, as if it were unreachable.
  std::vector<std::string> accepted;
  while (!batch.empty()) {
    ResultWatcher::Submission submission = watcher_->SubmitAndWatch(std::move(batch));
    accepted.insert(accepted.end(), std::make_move_iterator(submission.accepted.begin()),
                    std::make_move_iterator(submission.accepted.end()));
    batch = std::move(submission.refused_for_now);
    if (batch.empty()) break;
    absl::StatusOr<absl::Duration> pause = reconnector_.Failed(submission.unavailable);
    if (!pause.ok()) {
      spdlog::debug("Submit of {} jobs failed: {}", batch.size(), pause.status().ToString());
      for (const v1::JobSpec& spec : batch) {
        Finish(spec.job_id(), Outcome{v1::JOB_STATE_UNSPECIFIED, pause.status(), Value()});
      }
      break;
    }
    absl::SleepFor(*pause);
  }
  // A Terminate that came meanwhile cancels them now, except those whose
  // result has already arrived.
  std::vector<std::string> to_cancel;
  {
    absl::MutexLock lock(&mutex_);
    for (const std::string& id : accepted) {
      auto it = pending_.find(id);
      if (it == pending_.end()) continue;
      it->second.submitted = true;
      it->second.state->MarkSubmitted();
      if (terminated_) to_cancel.push_back(id);
    }
  }
  if (to_cancel.empty()) return;
  if (absl::Status status = CancelIds(to_cancel); !status.ok()) {
    spdlog::warn("Terminate could not cancel {} jobs: {}", to_cancel.size(), status.ToString());
  }
}

void PoolClient::OnResult(v1::JobResult result) {
  Finish(result.job_id(), OutcomeFromProto(result));
}

void PoolClient::OnGiveUp(const std::vector<std::string>& job_ids, const absl::Status& error) {
  for (const std::string& id : job_ids) {
    Finish(id, Outcome{v1::JOB_STATE_UNSPECIFIED, error, Value()});
  }
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
  const std::string what = "job " + job_id;
  if (pending.sink) {
    absl::StatusOr<Value> value = std::move(outcome.value);
    outcome.value = value.ok() ? absl::StatusOr<Value>(Value()) : value.status();
    pending.sink(std::move(value));
  } else if (outcome.value.ok()) {
    RunUserCallback(pending.callback, *outcome.value, what);
  } else {
    RunUserCallback(pending.error_callback, outcome.value.status(), what);
  }
  pending.state->Complete(std::move(outcome));
  absl::MutexLock lock(&mutex_);
  --outstanding_;
}

}  // namespace internal
}  // namespace netpool
