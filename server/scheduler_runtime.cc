#include "server/scheduler_runtime.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/worker_protocol.h"
#include "netpool/v1/worker.pb.h"
#include "server/store/job_record.h"
#include "spdlog/spdlog.h"

namespace netpool {
namespace {

// The longest the timer thread sleeps: far below the core's stall_threshold.
constexpr absl::Duration kTimerSlice = absl::Milliseconds(100);

// A Watch answer for an id that has no result to give: unknown, or another
// identity's job.
v1::JobResult ErrorResult(const std::string& job_id, const absl::Status& status) {
  v1::JobResult result;
  result.set_job_id(job_id);
  result.mutable_error()->set_code(static_cast<int>(status.code()));
  result.mutable_error()->set_message(std::string(status.message()));
  return result;
}

// Errors about what a Submit holds rather than about the scheduler's state.
bool IsRequestError(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kNotFound:
    case absl::StatusCode::kAlreadyExists:
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kResourceExhausted:
      return true;
    default:
      return false;
  }
}

// Waits, without the runtime's lock, until `write` is durable; what failed
// to be stored is `what`.
absl::Status WaitDurable(Store& store, uint64_t write, const char* what) {
  absl::Status durable = store.WaitDurable(write);
  if (durable.ok()) return durable;
  return absl::UnavailableError(
      absl::StrCat("the ", what, " could not be stored durably: ", durable.message()));
}

}  // namespace

SchedulerRuntime::SchedulerRuntime(const Clock* clock, std::unique_ptr<Store> store,
                                   Options options)
    : clock_(clock),
      options_(options),
      started_(clock->Now()),
      store_(std::move(store)),
      scheduler_(clock, store_.get(), this, options.scheduler) {
  store_->SetDurableListener([this](uint64_t write) { OnDurable(write); });
  {
    absl::MutexLock lock(&mu_);
    scheduler_.Recover();
  }
  timer_thread_ = std::thread([this] { RunTimers(); });
}

SchedulerRuntime::~SchedulerRuntime() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    timers_changed_.SignalAll();
  }
  timer_thread_.join();
  // Commits what is still queued; its last durable notice finds stopping_.
  std::unique_ptr<Store> store;
  {
    absl::MutexLock lock(&mu_);
    store = std::move(store_);
  }
  store.reset();
}

void SchedulerRuntime::RunTimers() {
  absl::MutexLock lock(&mu_);
  while (!stopping_) {
    const absl::Time stalled_before = scheduler_.listening_since();
    const absl::Time ticked = clock_->Monotonic();
    scheduler_.Tick();
    if (scheduler_.listening_since() != stalled_before) {
      spdlog::warn("the scheduler was stalled (stopped, or its host or disk hung): every "
                   "node's lease restarts now");
    }
    // Also wake often enough to see timers that new work added, and, since
    // the wait is on the wall clock, a jump of it.
    const absl::Duration wait = std::min(scheduler_.NextTick() - ticked, kTimerSlice);
    timers_changed_.WaitWithTimeout(&mu_, wait);
  }
}

absl::StatusOr<Job> SchedulerRuntime::FindOwnedJob(const std::string& job_id,
                                                    const Identity& caller) const {
  absl::StatusOr<std::optional<Job>> job = scheduler_.FindJob(job_id);
  if (!job.ok()) return job.status();
  if (!*job) return absl::NotFoundError(absl::StrCat("no job ", job_id));
  if (!caller.Owns((*job)->owner())) {
    return absl::PermissionDeniedError(absl::StrCat(
        "job ", job_id, " was submitted by another identity; ", caller.name,
        " may only see its own jobs"));
  }
  return **std::move(job);
}

absl::StatusOr<std::vector<std::string>> SchedulerRuntime::Submit(std::vector<v1::JobSpec> specs,
                                                                  const Identity& caller) {
  absl::StatusOr<std::vector<std::string>> ids;
  uint64_t write = 0;
  Store* store = nullptr;
  {
    absl::MutexLock lock(&mu_);
    ids = SubmitLocked(std::move(specs), caller);
    if (!ids.ok()) return ids;
    write = store_->last_write();
    store = store_.get();
  }
  // Many Submits wait here together and share one commit.
  if (absl::Status durable = WaitDurable(*store, write, "jobs"); !durable.ok()) return durable;
  return ids;
}

absl::StatusOr<std::vector<std::string>> SchedulerRuntime::SubmitLocked(
    std::vector<v1::JobSpec> specs, const Identity& caller) {
  if (shutting_down_) return absl::UnavailableError("the scheduler is shutting down");
  const size_t count = specs.size();
  const std::string function = count > 0 ? specs[0].function() : "";
  // What the events hear: the batch's functions, each with its count, in
  // runs (a map's batch is one run).
  std::vector<std::pair<std::string, int>> functions;
  if (options_.events != nullptr) {
    for (const v1::JobSpec& spec : specs) {
      if (functions.empty() || functions.back().first != spec.function()) {
        functions.emplace_back(spec.function(), 0);
      }
      ++functions.back().second;
    }
  }
  absl::StatusOr<std::vector<std::string>> ids = scheduler_.Submit(std::move(specs), caller.name);
  if (!ids.ok()) {
    spdlog::info("audit: {} submit of {} jobs refused: {}", caller.name, count,
                 std::string(ids.status().message()));
    return ids;
  }
  for (const auto& [name, jobs] : functions) options_.events->OnSubmitted(name, jobs);
  spdlog::info("audit: {} submitted {} {} jobs, first {}", caller.name, count, function,
               ids->empty() ? "" : ids->front());
  return ids;
}

void SchedulerRuntime::SubmitAndWatch(const std::shared_ptr<ResultSubscription>& watcher,
                                      const google::protobuf::RepeatedPtrField<v1::JobSpec>& specs,
                                      const Identity& caller) {
  absl::MutexLock lock(&mu_);
  // The client's names for its jobs: an id the scheduler picked only for a
  // job sent without one.
  std::vector<std::string> accepted;
  auto accept = [&](const v1::JobSpec& spec, const std::string& id) {
    accepted.push_back(spec.job_id().empty() ? id : spec.job_id());
  };
  absl::StatusOr<std::vector<std::string>> ids =
      SubmitLocked({specs.begin(), specs.end()}, caller);
  if (ids.ok()) {
    for (int i = 0; i < specs.size(); ++i) accept(specs[i], (*ids)[i]);
  } else if (specs.size() > 1 && IsRequestError(ids.status().code())) {
    for (const v1::JobSpec& spec : specs) {
      absl::StatusOr<std::vector<std::string>> alone = SubmitLocked({spec}, caller);
      if (alone.ok()) {
        accept(spec, alone->front());
      } else {
        watcher->OnResult(ErrorResult(spec.job_id(), alone.status()));
      }
    }
  } else {
    for (const v1::JobSpec& spec : specs) {
      watcher->OnResult(ErrorResult(spec.job_id(), ids.status()));
    }
  }
  if (accepted.empty()) return;
  WatchLocked(watcher, accepted, caller);
  const uint64_t write = store_->last_write();
  if (write <= store_->durable_write()) {
    watcher->OnSubmitted(std::move(accepted));
  } else {
    pending_submits_.push_back({write, watcher, std::move(accepted)});
  }
}

absl::StatusOr<std::vector<v1::JobStatus>> SchedulerRuntime::Cancel(
    const std::vector<std::string>& job_ids, const Identity& caller) {
  std::vector<v1::JobStatus> statuses;
  uint64_t write = 0;
  Store* store = nullptr;
  {
    absl::MutexLock lock(&mu_);
    for (const std::string& id : job_ids) {
      if (absl::StatusOr<Job> job = FindOwnedJob(id, caller); !job.ok()) {
        spdlog::info("audit: {} cancel of {} jobs refused: {}", caller.name, job_ids.size(),
                     std::string(job.status().message()));
        return job.status();
      }
    }
    spdlog::info("audit: {} cancelled {} jobs, first {}", caller.name, job_ids.size(),
                 job_ids.empty() ? "" : job_ids.front());
    statuses.reserve(job_ids.size());
    for (const std::string& id : job_ids) {
      absl::StatusOr<v1::JobState> state = scheduler_.Cancel(id);
      if (!state.ok()) return state.status();
      absl::StatusOr<std::optional<Job>> job = scheduler_.FindJob(id);
      if (!job.ok()) return job.status();
      if (!*job) return absl::NotFoundError(absl::StrCat("no job ", id));
      statuses.push_back(ToJobStatus(**job));
    }
    write = store_->last_write();
    store = store_.get();
  }
  // A cancel the caller was told of must not be undone by a crash. The
  // whole batch shares one commit.
  if (absl::Status durable = WaitDurable(*store, write, "cancel"); !durable.ok()) return durable;
  return statuses;
}

absl::StatusOr<v1::JobStatus> SchedulerRuntime::Status(const std::string& job_id,
                                                       const Identity& caller) {
  absl::MutexLock lock(&mu_);
  absl::StatusOr<Job> job = FindOwnedJob(job_id, caller);
  if (!job.ok()) return job.status();
  return ToJobStatus(*job);
}

std::vector<v1::JobStatus> SchedulerRuntime::ListJobs(v1::JobState state, size_t limit,
                                                      const Identity& caller) {
  absl::MutexLock lock(&mu_);
  std::vector<v1::JobStatus> out;
  for (const Job& job :
       scheduler_.ListJobs(state, limit, caller.admin() ? nullptr : &caller.name)) {
    out.push_back(ToJobStatus(job));
  }
  return out;
}

absl::StatusOr<SchedulerRuntime::JobStatusPage> SchedulerRuntime::ListJobPage(
    JobListing listing, const std::string& before_job_id, const Identity& caller) {
  absl::MutexLock lock(&mu_);
  JobStatusPage out;
  if (!before_job_id.empty()) {
    absl::StatusOr<std::optional<Job>> before = scheduler_.FindJob(before_job_id);
    if (!before.ok()) return before.status();
    if (!before->has_value()) return out;
    listing.before_sequence = (*before)->sequence;
  }
  if (!caller.admin()) listing.owner = &caller.name;
  JobPage page = netpool::ListJobPage(*store_, listing);
  out.jobs.reserve(page.jobs.size());
  for (const Job& job : page.jobs) out.jobs.push_back(ToJobStatus(job));
  out.next_before_job_id = std::move(page.next_before_job_id);
  return out;
}

std::vector<v1::WorkerStatus> SchedulerRuntime::ListWorkers() {
  absl::MutexLock lock(&mu_);
  std::vector<v1::WorkerStatus> out;
  for (const WorkerSnapshot& w : scheduler_.ListWorkers()) {
    v1::WorkerStatus& status = out.emplace_back();
    status.set_worker_id(absl::StrCat("w-", w.id));
    status.set_name(w.info.name);
    status.set_slots(w.info.slots);
    status.set_running(w.running);
    for (const std::string& fn : w.info.functions) status.add_functions(fn);
    status.mutable_labels()->insert(w.info.labels.begin(), w.info.labels.end());
    status.set_connected_unix(UnixSecondsOrZero(w.connected));
    status.set_jobs_done(w.jobs_done);
  }
  return out;
}

v1::GetStatsResponse SchedulerRuntime::Stats() {
  absl::MutexLock lock(&mu_);
  const SchedulerStats stats = scheduler_.Stats();
  v1::GetStatsResponse out;
  out.set_pending(stats.pending);
  out.set_running(stats.running);
  out.set_succeeded(stats.succeeded);
  out.set_failed(stats.failed);
  out.set_cancelled(stats.cancelled);
  out.set_workers(stats.workers);
  out.set_slots(stats.slots);
  out.set_uptime_seconds(absl::ToDoubleSeconds(clock_->Now() - started_));
  const absl::Status health = store_->health();
  out.set_ready(health.ok() && !shutting_down_);
  out.set_watch_submit(true);
  if (!health.ok()) {
    out.set_not_ready_reason(
        absl::StrCat("the job store cannot write: ", health.message()));
  } else if (shutting_down_) {
    out.set_not_ready_reason("the scheduler is shutting down");
  }
  return out;
}

std::vector<QueueDepth> SchedulerRuntime::QueueDepths() {
  absl::MutexLock lock(&mu_);
  return scheduler_.QueueDepths();
}

absl::StatusOr<std::optional<v1::JobResult>> SchedulerRuntime::PeekResult(
    const std::string& job_id, const Identity& caller) {
  absl::MutexLock lock(&mu_);
  absl::StatusOr<Job> job = FindOwnedJob(job_id, caller);
  if (!job.ok()) return job.status();
  if (!Deliverable(*job)) return std::nullopt;
  return job->result();
}

absl::StatusOr<std::optional<v1::JobResult>> SchedulerRuntime::WaitForResult(
    const std::string& job_id, const Identity& caller,
    const std::shared_ptr<ResultSubscription>& waiter) {
  absl::MutexLock lock(&mu_);
  absl::StatusOr<Job> job = FindOwnedJob(job_id, caller);
  if (!job.ok()) return job.status();
  if (Deliverable(*job)) {
    v1::JobResult result = job->result();
    scheduler_.MarkFetched(job_id);
    return result;
  }
  if (waiter != nullptr) {
    waiter->asked.insert(job_id);
    if (waiter->watching.insert(job_id).second) watchers_[job_id].push_back(waiter);
  }
  return std::nullopt;
}

void SchedulerRuntime::Watch(const std::shared_ptr<ResultSubscription>& watcher,
                             const std::vector<std::string>& ids, const Identity& caller) {
  absl::MutexLock lock(&mu_);
  WatchLocked(watcher, ids, caller);
}

void SchedulerRuntime::WatchLocked(const std::shared_ptr<ResultSubscription>& watcher,
                                   const std::vector<std::string>& ids, const Identity& caller) {
  for (const std::string& id : ids) {
    // However often a client names an id, one copy of its result is queued.
    if (!watcher->asked.insert(id).second) continue;
    absl::StatusOr<Job> job = FindOwnedJob(id, caller);
    if (!job.ok()) {
      watcher->OnResult(ErrorResult(id, job.status()));
    } else if (Deliverable(*job)) {
      watcher->OnResult(job->result());
      scheduler_.MarkFetched(id);
    } else {
      watcher->watching.insert(id);
      watchers_[id].push_back(watcher);
    }
  }
}

void SchedulerRuntime::Unwatch(const std::shared_ptr<ResultSubscription>& watcher) {
  absl::MutexLock lock(&mu_);
  for (const std::string& id : watcher->watching) {
    auto it = watchers_.find(id);
    if (it == watchers_.end()) continue;
    auto& list = it->second;
    list.erase(std::remove(list.begin(), list.end(), watcher), list.end());
    if (list.empty()) watchers_.erase(it);
  }
  watcher->watching.clear();
  watcher->ended = true;
}

absl::StatusOr<WorkerId> SchedulerRuntime::ConnectWorker(WorkerInfo info,
                                                         std::shared_ptr<WorkerConnection> stream,
                                                         const Identity& caller) {
  absl::MutexLock lock(&mu_);
  if (absl::Status s = scheduler_.CheckNewWorker(info); !s.ok()) {
    spdlog::warn("audit: node {} refused for {}: {}", info.name, caller.name,
                 std::string(s.message()));
    return s;
  }
  const int slots = info.slots;
  const std::string name = info.name;
  const bool acks_results = info.protocol_version >= kFirstVersionWithResultAcks;
  std::vector<std::string> drop;
  const WorkerId worker = scheduler_.AddWorker(std::move(info), &drop);
  v1::SchedulerMessage welcome;
  welcome.mutable_welcome()->set_worker_id(absl::StrCat("w-", worker));
  welcome.mutable_welcome()->set_heartbeat_seconds(
      absl::ToDoubleSeconds(options_.heartbeat_interval));
  welcome.mutable_welcome()->set_protocol_version(kWorkerProtocolVersion);
  for (std::string& id : drop) welcome.add_drop_job_ids(std::move(id));
  stream->Send(std::move(welcome));
  worker_streams_[worker] = {std::move(stream), caller, acks_results};
  spdlog::info("audit: worker node {} joined as w-{} with {} slots (credential {}, role {})",
               name, worker, slots, caller.name, std::string(RoleName(caller.role)));
  scheduler_.AddCredits(worker, slots);
  return worker;
}

void SchedulerRuntime::HandleWorkerMessage(WorkerId worker, const v1::WorkerMessage& message) {
  absl::MutexLock lock(&mu_);
  // Draining first: a result can release dependents, which must not go to
  // a node that is leaving.
  if (message.draining()) {
    spdlog::info("worker node w-{} is draining", worker);
    scheduler_.SetDraining(worker);
  }
  for (const v1::JobResult& result : message.results()) scheduler_.ReportResult(worker, result);
  if (!message.results().empty()) {
    // Also a result the scheduler ignored (a resent one it already holds,
    // or one for a job no longer running there): the node may forget it.
    std::vector<std::string> job_ids;
    job_ids.reserve(message.results_size());
    for (const v1::JobResult& result : message.results()) job_ids.push_back(result.job_id());
    AcknowledgeResults(worker, store_->last_write(), std::move(job_ids));
  }
  if (message.credits() > 0) scheduler_.AddCredits(worker, message.credits());
  if (message.heartbeat()) scheduler_.Heartbeat(worker);
}

void SchedulerRuntime::EndRevokedWorkerStreams(
    const std::function<bool(const Identity&)>& still_valid) {
  absl::MutexLock lock(&mu_);
  for (auto& [worker, stream] : worker_streams_) {
    if (still_valid(stream.caller)) continue;
    spdlog::warn("audit: credential {} of worker node w-{} was revoked: ending its stream",
                 stream.caller.name, worker);
    // The stream's end disconnects the node.
    stream.connection->End();
  }
}

void SchedulerRuntime::BeginShutdown() {
  absl::MutexLock lock(&mu_);
  shutting_down_ = true;
}

void SchedulerRuntime::DisconnectWorker(WorkerId worker) {
  absl::MutexLock lock(&mu_);
  worker_streams_.erase(worker);
  // A scheduler that is stopping leaves the node's jobs running: the node
  // comes back to the next scheduler holding them, as after a crash.
  if (scheduler_.HasWorker(worker) && !shutting_down_) {
    spdlog::info("worker node w-{} disconnected", worker);
    scheduler_.RemoveWorker(worker);
  }
}

void SchedulerRuntime::OnAssign(WorkerId worker, std::vector<v1::Assignment> assignments) {
  auto it = worker_streams_.find(worker);
  if (it == worker_streams_.end()) return;
  v1::SchedulerMessage message;
  message.mutable_assignments()->Reserve(static_cast<int>(assignments.size()));
  // Moved, not copied: assignments carry the jobs' arguments.
  for (v1::Assignment& assignment : assignments) message.add_assignments()->Swap(&assignment);
  it->second.connection->Send(std::move(message));
}

void SchedulerRuntime::OnCancelRunning(WorkerId worker, const std::string& job_id) {
  auto it = worker_streams_.find(worker);
  if (it == worker_streams_.end()) return;
  v1::SchedulerMessage message;
  message.add_cancel_job_ids(job_id);
  it->second.connection->Send(std::move(message));
}

void SchedulerRuntime::OnWorkerLost(WorkerId worker) {
  spdlog::warn("worker node w-{} stopped answering; its jobs go to other nodes", worker);
  auto it = worker_streams_.find(worker);
  if (it == worker_streams_.end()) return;
  it->second.connection->End();
  worker_streams_.erase(it);
}

void SchedulerRuntime::OnRetry(const Job& job) {
  if (options_.events != nullptr) options_.events->OnRetried(job);
}

void SchedulerRuntime::OnFinished(const Job& job, uint64_t write) {
  if (options_.events != nullptr) options_.events->OnFinished(job);
  if (write <= store_->durable_write()) {
    Deliver(job.result());
    return;
  }
  not_durable_ids_.emplace(job.id());
  not_durable_.emplace_back(write, job.result());
}

void SchedulerRuntime::AcknowledgeResults(WorkerId worker, uint64_t write,
                                          std::vector<std::string> job_ids) {
  auto it = worker_streams_.find(worker);
  if (it == worker_streams_.end() || !it->second.acks_results) return;
  if (write > store_->durable_write()) {
    pending_acks_.push_back({write, worker, std::move(job_ids)});
    return;
  }
  v1::SchedulerMessage message;
  for (std::string& id : job_ids) message.add_acked_job_ids(std::move(id));
  it->second.connection->Send(std::move(message));
}

void SchedulerRuntime::OnDurable(uint64_t write) {
  absl::MutexLock lock(&mu_);
  if (stopping_) return;
  while (!pending_acks_.empty() && pending_acks_.front().write <= write) {
    PendingAck ack = std::move(pending_acks_.front());
    pending_acks_.pop_front();
    AcknowledgeResults(ack.worker, ack.write, std::move(ack.job_ids));
  }
  while (!pending_submits_.empty() && pending_submits_.front().write <= write) {
    PendingSubmit submitted = std::move(pending_submits_.front());
    pending_submits_.pop_front();
    if (!submitted.watcher->ended) submitted.watcher->OnSubmitted(std::move(submitted.job_ids));
  }
  while (!not_durable_.empty() && not_durable_.front().first <= write) {
    not_durable_ids_.erase(not_durable_.front().second.job_id());
    Deliver(not_durable_.front().second);
    not_durable_.pop_front();
  }
}

void SchedulerRuntime::Deliver(const v1::JobResult& result) {
  auto it = watchers_.find(result.job_id());
  if (it == watchers_.end()) return;
  for (const std::shared_ptr<ResultSubscription>& watcher : it->second) {
    watcher->watching.erase(result.job_id());
    watcher->OnResult(result);
  }
  watchers_.erase(it);
  scheduler_.MarkFetched(result.job_id());
}

bool SchedulerRuntime::Deliverable(const Job& job) const {
  return job.finished_state() && !not_durable_ids_.contains(job.id());
}

v1::JobStatus SchedulerRuntime::ToJobStatus(const Job& job) const {
  v1::JobStatus status;
  status.set_job_id(std::string(job.id()));
  status.set_state(job.state);
  status.set_function(std::string(job.function()));
  status.set_attempt(job.attempt);
  status.set_worker(job.worker_name());
  status.set_submitted_unix(UnixSecondsOrZero(job.submitted));
  status.set_started_unix(UnixSecondsOrZero(job.started));
  status.set_finished_unix(UnixSecondsOrZero(job.finished));
  status.set_max_attempts(scheduler_.MaxAttempts(job));
  status.set_owner(job.owner());
  status.set_priority(job.priority);
  status.mutable_labels()->insert(job.labels().begin(), job.labels().end());
  // Listing many jobs must not copy megabytes of arguments.
  constexpr size_t kMaxListedArgsBytes = 4096;
  v1::JobSpec spec = job.DecodeSpec();
  size_t args_bytes = 0;
  for (const v1::Value& arg : spec.args()) args_bytes += arg.ByteSizeLong();
  if (args_bytes <= kMaxListedArgsBytes) {
    status.mutable_args()->Swap(spec.mutable_args());
  } else {
    status.set_args_omitted(true);
  }
  for (const Attempt& attempt : job.attempts) *status.add_attempts() = ToAttemptRecord(attempt);
  for (std::string& id : scheduler_.WaitingFor(job)) status.add_waiting_for(std::move(id));
  return status;
}

}  // namespace netpool
