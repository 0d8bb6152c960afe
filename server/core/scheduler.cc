#include "server/core/scheduler.h"

#include <algorithm>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "common/job_id.h"
#include "server/core/job_spec_validation.h"

namespace netpool {
namespace {

v1::JobResult ErrorResult(absl::StatusCode code, std::string message) {
  v1::JobResult result;
  result.mutable_error()->set_code(static_cast<int>(code));
  result.mutable_error()->set_message(std::move(message));
  return result;
}

}  // namespace

Scheduler::Scheduler(const Clock* clock, Store* store, SchedulerListener* listener,
                     SchedulerOptions options)
    : clock_(clock), store_(store), listener_(listener), options_(options) {}

absl::StatusOr<std::vector<std::string>> Scheduler::Submit(std::vector<v1::JobSpec> specs) {
  if (specs.size() > static_cast<size_t>(kMaxJobsPerSubmit)) {
    return absl::InvalidArgumentError(absl::StrCat("a Submit carries at most ", kMaxJobsPerSubmit,
                                                   " jobs; got ", specs.size()));
  }
  absl::flat_hash_set<std::string> functions;
  for (size_t i = 0; i < specs.size(); ++i) {
    if (absl::Status s = ValidateJobSpec(specs[i]); !s.ok()) {
      return absl::Status(s.code(), absl::StrCat("job ", i, ": ", s.message()));
    }
    functions.insert(specs[i].function());
  }
  if (!workers_.empty()) {
    for (const std::string& fn : functions) {
      if (!SomeWorkerOffers(fn)) {
        return absl::NotFoundError(
            absl::StrCat("unknown function \"", fn, "\": no connected worker offers it"));
      }
    }
  }

  const absl::Time now = clock_->Now();
  std::vector<Job> jobs;
  jobs.reserve(specs.size());
  std::vector<std::string> ids;
  ids.reserve(specs.size());
  for (v1::JobSpec& spec : specs) {
    if (spec.job_id().empty()) spec.set_job_id(NewJobId());
    ids.push_back(spec.job_id());
    Job job;
    job.spec = std::move(spec);
    job.sequence = next_sequence_++;
    job.submitted = now;
    jobs.push_back(std::move(job));
  }
  std::vector<JobQueue::Entry> entries;
  entries.reserve(jobs.size());
  for (const Job& job : jobs) {
    entries.push_back({job.spec.function(), job.spec.priority(), job.sequence, job.id()});
  }
  if (absl::Status s = store_->Insert(std::move(jobs)); !s.ok()) return s;
  for (JobQueue::Entry& entry : entries) queue_.Push(std::move(entry));
  CountState(v1::PENDING, static_cast<int>(ids.size()));
  Dispatch();
  return ids;
}

absl::StatusOr<v1::JobState> Scheduler::Cancel(const std::string& job_id) {
  Job* job = store_->Find(job_id);
  if (job == nullptr) return absl::NotFoundError(absl::StrCat("no job ", job_id));
  switch (job->state) {
    case v1::PENDING:
      queue_.Remove(job->spec.function(), job->spec.priority(), job->sequence);
      break;
    case v1::RUNNING:
      if (auto w = workers_.find(job->worker); w != workers_.end()) {
        w->second.running.erase(job_id);
        w->second.snapshot.running = static_cast<int>(w->second.running.size());
        listener_->OnCancelRunning(job->worker, job_id);
      }
      break;
    default:
      return job->state;
  }
  Finish(*job, v1::CANCELLED, ErrorResult(absl::StatusCode::kCancelled, "cancelled"));
  return job->state;
}

WorkerId Scheduler::AddWorker(WorkerInfo info) {
  const WorkerId id = next_worker_id_++;
  WorkerState& worker = workers_[id];
  worker.snapshot.id = id;
  worker.snapshot.connected = worker.snapshot.last_seen = clock_->Now();
  worker.snapshot.info = std::move(info);
  stats_.workers = static_cast<int>(workers_.size());
  stats_.slots += std::max(worker.snapshot.info.slots, 0);
  return id;
}

void Scheduler::AddCredits(WorkerId worker, int credits) {
  auto it = workers_.find(worker);
  if (it == workers_.end() || credits <= 0) return;
  WorkerSnapshot& snapshot = it->second.snapshot;
  // A node never has more free slots than it has slots.
  snapshot.credits = std::min(snapshot.credits + credits,
                              snapshot.info.slots - static_cast<int>(it->second.running.size()));
  snapshot.last_seen = clock_->Now();
  Dispatch();
}

void Scheduler::Heartbeat(WorkerId worker) {
  if (auto it = workers_.find(worker); it != workers_.end()) {
    it->second.snapshot.last_seen = clock_->Now();
  }
}

void Scheduler::ReportResult(WorkerId worker, const v1::JobResult& result) {
  auto w = workers_.find(worker);
  if (w == workers_.end()) return;
  w->second.snapshot.last_seen = clock_->Now();
  Job* job = store_->Find(result.job_id());
  if (job == nullptr || job->state != v1::RUNNING || job->worker != worker ||
      w->second.running.erase(result.job_id()) == 0) {
    return;  // stale: the job was cancelled or moved on
  }
  w->second.snapshot.running = static_cast<int>(w->second.running.size());
  ++w->second.snapshot.jobs_done;
  if (Job::IsFinal(result.state())) {
    Finish(*job, result.state(), result);
  } else {
    Finish(*job, v1::FAILED,
           ErrorResult(absl::StatusCode::kInternal,
                       absl::StrCat("worker reported the job in non-final state ",
                                    v1::JobState_Name(result.state()))));
  }
}

void Scheduler::RemoveWorker(WorkerId worker) {
  auto it = workers_.find(worker);
  if (it == workers_.end()) return;
  WorkerState gone = std::move(it->second);
  workers_.erase(it);
  stats_.workers = static_cast<int>(workers_.size());
  stats_.slots -= std::max(gone.snapshot.info.slots, 0);
  // Requeue in submission order so the lost jobs keep their place.
  std::vector<Job*> lost;
  for (const std::string& id : gone.running) {
    Job* job = store_->Find(id);
    if (job != nullptr && job->state == v1::RUNNING) lost.push_back(job);
  }
  std::sort(lost.begin(), lost.end(),
            [](const Job* a, const Job* b) { return a->sequence < b->sequence; });
  for (Job* job : lost) {
    const int max_attempts =
        job->spec.max_attempts() > 0 ? job->spec.max_attempts() : options_.default_max_attempts;
    if (job->attempt >= max_attempts) {
      Finish(*job, v1::FAILED,
             ErrorResult(absl::StatusCode::kUnavailable,
                         absl::StrCat("worker node ", gone.snapshot.info.name,
                                      " was lost while running the job (attempt ", job->attempt,
                                      " of ", max_attempts, ")")));
    } else {
      Requeue(*job);
    }
  }
  Dispatch();
}

std::vector<const Job*> Scheduler::ListJobs(v1::JobState state, size_t limit) const {
  std::vector<const Job*> jobs;
  store_->ForEach([&](const Job& job) {
    if (state == v1::JOB_STATE_UNSPECIFIED || job.state == state) jobs.push_back(&job);
    return jobs.size() < limit;
  });
  return jobs;
}

std::vector<WorkerSnapshot> Scheduler::ListWorkers() const {
  std::vector<WorkerSnapshot> workers;
  workers.reserve(workers_.size());
  for (const auto& [id, worker] : workers_) workers.push_back(worker.snapshot);
  return workers;
}

SchedulerStats Scheduler::Stats() const { return stats_; }

void Scheduler::Dispatch() {
  bool progress = true;
  while (progress && !queue_.empty() && !workers_.empty()) {
    progress = false;
    // One job per node per round, starting after the node served last.
    auto it = workers_.upper_bound(dispatch_cursor_);
    for (size_t n = 0; n < workers_.size() && !queue_.empty(); ++n, ++it) {
      if (it == workers_.end()) it = workers_.begin();
      if (AssignOne(it->second)) {
        progress = true;
        dispatch_cursor_ = it->first;
      }
    }
  }
}

bool Scheduler::AssignOne(WorkerState& worker) {
  WorkerSnapshot& snapshot = worker.snapshot;
  if (snapshot.credits <= 0) return false;
  std::optional<JobQueue::Entry> entry = queue_.PopFor(snapshot.info.functions);
  if (!entry) return false;
  Job* job = store_->Find(entry->job_id);
  if (job == nullptr || job->state != v1::PENDING) return true;  // queue and store disagree; skip
  job->state = v1::RUNNING;
  ++job->attempt;
  job->worker = snapshot.id;
  job->worker_name = snapshot.info.name;
  job->started = clock_->Now();
  CountState(v1::PENDING, -1);
  CountState(v1::RUNNING, +1);
  --snapshot.credits;
  worker.running.insert(job->id());
  snapshot.running = static_cast<int>(worker.running.size());
  // MemoryStore cannot fail; how a failed durable write surfaces belongs to the durable store.
  store_->Update(*job).IgnoreError();

  v1::Assignment assignment;
  assignment.set_job_id(job->id());
  assignment.set_function(job->spec.function());
  *assignment.mutable_args() = job->spec.args();
  *assignment.mutable_chunk() = job->spec.chunk();
  assignment.set_timeout_seconds(job->spec.timeout_seconds());
  assignment.set_attempt(job->attempt);
  listener_->OnAssign(snapshot.id, assignment);
  return true;
}

void Scheduler::Requeue(Job& job) {
  job.state = v1::PENDING;
  CountState(v1::RUNNING, -1);
  CountState(v1::PENDING, +1);
  queue_.Push({job.spec.function(), job.spec.priority(), job.sequence, job.id()});
  store_->Update(job).IgnoreError();
}

void Scheduler::Finish(Job& job, v1::JobState state, const v1::JobResult& result) {
  CountState(job.state, -1);
  CountState(state, +1);
  job.state = state;
  job.finished = clock_->Now();
  job.result = result;
  job.result.set_job_id(job.id());
  job.result.set_state(state);
  if (state == v1::SUCCEEDED) {
    job.result.clear_error();
  } else {
    job.result.clear_value();
  }
  store_->Update(job).IgnoreError();
  listener_->OnFinished(job);
}

void Scheduler::CountState(v1::JobState state, int delta) {
  switch (state) {
    case v1::PENDING: stats_.pending += delta; break;
    case v1::RUNNING: stats_.running += delta; break;
    case v1::SUCCEEDED: stats_.succeeded += delta; break;
    case v1::FAILED: stats_.failed += delta; break;
    case v1::CANCELLED: stats_.cancelled += delta; break;
    default: break;
  }
}

bool Scheduler::SomeWorkerOffers(const std::string& function) const {
  for (const auto& [id, worker] : workers_) {
    const auto& fns = worker.snapshot.info.functions;
    if (std::find(fns.begin(), fns.end(), function) != fns.end()) return true;
  }
  return false;
}

}  // namespace netpool
