#include "server/core/scheduler.h"

#include <algorithm>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "common/job_id.h"
#include "common/packed_chunk.h"
#include "common/worker_protocol.h"
#include "netpool/v1/worker.pb.h"
#include "server/core/job_refs.h"
#include "server/core/job_spec_validation.h"
#include "server/core/retry_policy.h"
#include "spdlog/spdlog.h"

namespace netpool {
namespace {

v1::JobError Error(absl::StatusCode code, std::string message) {
  v1::JobError error;
  error.set_code(static_cast<int>(code));
  error.set_message(std::move(message));
  return error;
}

v1::JobResult ErrorResult(v1::JobError error) {
  v1::JobResult result;
  *result.mutable_error() = std::move(error);
  return result;
}

// Why a job fails when its dependency `ref` did not succeed: it ended in
// `state` with `error`, or (JOB_STATE_UNSPECIFIED) its record is gone.
v1::JobError DependencyError(const std::string& ref, v1::JobState state,
                             const v1::JobError& error) {
  const std::string why = state == v1::JOB_STATE_UNSPECIFIED ? " is no longer kept"
                          : state == v1::CANCELLED
                              ? absl::StrCat(" was cancelled: ", error.message())
                              : absl::StrCat(" failed: ", error.message());
  return Error(absl::StatusCode::kFailedPrecondition, absl::StrCat("dependency ", ref, why));
}

// A job as the store holds it, for telling a resent Submit from a clash.
bool SameJob(const Job& held, const v1::JobSpec& sent) {
  return held.spec.serialized_spec() == Job::Serialize(sent);
}

// Whether an attempt of `job` ran on the node called `name`.
bool RanOn(const Job& job, const std::string& name) {
  for (const Attempt& attempt : job.attempts) {
    if (attempt.worker == name) return true;
  }
  return false;
}

// Whether the node could have been given `job`: it offers the function and
// has every label the job asks for.
bool CouldRun(const Job& job, const WorkerInfo& node) {
  if (std::find(node.functions.begin(), node.functions.end(), job.function()) ==
      node.functions.end()) {
    return false;
  }
  for (const auto& [key, value] : job.labels()) {
    auto it = node.labels.find(key);
    if (it == node.labels.end() || it->second != value) return false;
  }
  return true;
}

}  // namespace

Scheduler::Scheduler(const Clock* clock, Store* store, SchedulerListener* listener,
                     SchedulerOptions options)
    : clock_(clock),
      store_(store),
      listener_(listener),
      options_(options),
      next_erase_(clock->Monotonic() + std::min(options.result_ttl, absl::Minutes(1))),
      random_(options.random_seed != 0 ? options.random_seed : std::random_device{}()) {}

void Scheduler::Recover() {
  next_sequence_ = store_->MaxSequence() + 1;
  const FinishedCounts finished = store_->CountFinished();
  stats_.succeeded = finished.succeeded;
  stats_.failed = finished.failed;
  stats_.cancelled = finished.cancelled;

  const absl::Time orphan_deadline = clock_->Monotonic() + options_.lease_timeout;
  std::vector<std::string> pending;
  store_->ForEachUnfinished([&](Job& job) {
    CountState(job.state, +1);
    OwnerJobs& owner = unfinished_by_owner_[job.owner()];
    ++owner.unfinished;
    // The owner's jobs share one copy of its name.
    if (owner.name == nullptr) {
      owner.name = job.owner_name;
    } else {
      job.owner_name = owner.name;
    }
    if (job.state == v1::RUNNING) {
      job.worker = kNoWorker;
      orphaned_.emplace(orphan_deadline, std::string(job.id()));
    } else {
      pending.emplace_back(job.id());
    }
  });
  // Admitting may finish jobs (a dependency that failed), which writes to
  // the store: not while iterating it.
  for (const std::string& id : pending) {
    Job* job = store_->FindLive(id);
    if (job == nullptr || job->state != v1::PENDING) continue;
    std::vector<std::string> unfinished;
    for (std::string& ref : CollectJobRefs(job->DecodeSpec())) {
      // Admit tells a failed, cancelled, lost or unreadable one apart.
      absl::StatusOr<std::optional<Job>> dependency = store_->Lookup(ref);
      if (!dependency.ok() || !*dependency || (*dependency)->state != v1::SUCCEEDED) {
        unfinished.push_back(std::move(ref));
      }
    }
    Admit(*job, unfinished);
  }
  // A job handed out just before the crash may be PENDING here (the store
  // did not have its assignment yet) while its node still runs it.
  if (!pending.empty()) holding_for_nodes_ = true;
}

absl::StatusOr<std::vector<std::string>> Scheduler::Submit(std::vector<v1::JobSpec> specs,
                                                           const std::string& owner) {
  if (absl::Status health = store_->health(); !health.ok()) {
    return absl::UnavailableError(absl::StrCat(
        "not accepting jobs while the job store cannot write (", health.message(), ")",
        absl::IsDataLoss(health) ? ""
                                 : "; it keeps retrying and accepts jobs again once it can"));
  }
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

  // Resent and idempotent jobs resolve to the job already held; the rest
  // are new.
  std::vector<std::string> ids(specs.size());
  std::vector<v1::JobSpec> fresh;
  std::vector<size_t> fresh_index;
  absl::flat_hash_map<std::string, size_t> batch_keys;
  for (size_t i = 0; i < specs.size(); ++i) {
    v1::JobSpec& spec = specs[i];
    const std::string& key = spec.idempotency_key();
    if (!key.empty()) {
      absl::StatusOr<std::optional<std::string>> existing = store_->FindByIdempotencyKey(key);
      if (!existing.ok()) return existing.status();
      if (*existing) {
        absl::StatusOr<std::optional<Job>> job = store_->Lookup(**existing);
        if (!job.ok()) return job.status();
        if (*job && (*job)->owner() != owner) {
          return absl::AlreadyExistsError(absl::StrCat(
              "job ", i, ": idempotency key \"", key, "\" is taken by another identity's job"));
        }
        ids[i] = **existing;
        continue;
      }
      if (auto [it, inserted] = batch_keys.emplace(key, i); !inserted) {
        ids[i] = ids[it->second];
        continue;
      }
    }
    if (spec.job_id().empty()) {
      spec.set_job_id(NewJobId());
    } else {
      // The one lookup of a caller-given id: Insert hands back the records.
      absl::StatusOr<std::optional<Job>> existing = store_->Lookup(spec.job_id());
      if (!existing.ok()) return existing.status();
      if (*existing) {
        if ((*existing)->owner() != owner || !SameJob(**existing, spec)) {
          return absl::AlreadyExistsError(
              absl::StrCat("job ", i, ": job id ", spec.job_id(), " is already taken"));
        }
        ids[i] = spec.job_id();
        continue;
      }
    }
    ids[i] = spec.job_id();
    fresh_index.push_back(i);
    fresh.push_back(std::move(spec));
  }

  std::vector<std::vector<std::string>> waiting;
  if (absl::Status s = CheckJobRefs(fresh, owner, waiting); !s.ok()) return s;
  if (options_.max_unfinished_per_owner > 0 && !fresh.empty()) {
    auto it = unfinished_by_owner_.find(owner);
    const int64_t unfinished = it == unfinished_by_owner_.end() ? 0 : it->second.unfinished;
    if (unfinished + static_cast<int64_t>(fresh.size()) > options_.max_unfinished_per_owner) {
      return absl::ResourceExhaustedError(absl::StrCat(
          owner, " has ", unfinished, " unfinished jobs; ", fresh.size(),
          " more would pass the limit of ", options_.max_unfinished_per_owner,
          " per client (--max-pending-per-client): wait for some to finish"));
    }
  }

  // The owner's jobs share one copy of its name.
  std::shared_ptr<const std::string> owner_name;
  if (auto it = unfinished_by_owner_.find(owner); it != unfinished_by_owner_.end()) {
    owner_name = it->second.name;
  } else if (!owner.empty()) {
    owner_name = std::make_shared<const std::string>(owner);
  }
  const absl::Time now = clock_->Now();
  std::vector<Job> jobs;
  jobs.reserve(fresh.size());
  for (const v1::JobSpec& spec : fresh) {
    Job job = Job::FromSpec(spec);
    job.sequence = next_sequence_++;
    job.submitted = now;
    job.owner_name = owner_name;
    jobs.push_back(std::move(job));
  }
  absl::StatusOr<std::vector<Job*>> inserted = store_->Insert(std::move(jobs));
  if (!inserted.ok()) return inserted.status();
  CountState(v1::PENDING, static_cast<int>(inserted->size()));
  if (!inserted->empty()) {
    OwnerJobs& owner_jobs = unfinished_by_owner_[owner];
    owner_jobs.unfinished += static_cast<int64_t>(inserted->size());
    if (owner_jobs.name == nullptr) owner_jobs.name = std::move(owner_name);
  }
  // Admitting may finish a job, not another's record: the records stay.
  for (size_t i = 0; i < inserted->size(); ++i) Admit(*(*inserted)[i], waiting[i]);
  Dispatch();
  return ids;
}

absl::Status Scheduler::CheckJobRefs(const std::vector<v1::JobSpec>& specs,
                                     const std::string& owner,
                                     std::vector<std::vector<std::string>>& waiting) {
  waiting.assign(specs.size(), {});
  absl::flat_hash_set<absl::string_view> earlier_in_batch;
  for (size_t i = 0; i < specs.size(); ++i) {
    for (const std::string& ref : CollectJobRefs(specs[i])) {
      if (!IsValidJobId(ref)) {
        return absl::InvalidArgumentError(
            absl::StrCat("job ", i, ": job_ref \"", ref, "\" is not a valid job id"));
      }
      if (ref == specs[i].job_id()) {
        return absl::InvalidArgumentError(absl::StrCat("job ", i, ": refers to its own result"));
      }
      if (earlier_in_batch.contains(ref)) {
        waiting[i].push_back(ref);
        continue;
      }
      absl::StatusOr<std::optional<Job>> dependency = store_->Lookup(ref);
      if (!dependency.ok()) return dependency.status();
      if (!*dependency) {
        return absl::NotFoundError(absl::StrCat("job ", i, ": dependency ", ref,
                                                ": no such job (a job can only refer to jobs "
                                                "submitted before it)"));
      }
      if ((*dependency)->owner() != owner) {
        // Its result would reach this job's function: another identity's data.
        return absl::PermissionDeniedError(absl::StrCat(
            "job ", i, ": dependency ", ref, " was submitted by another identity"));
      }
      if ((*dependency)->state != v1::SUCCEEDED) waiting[i].push_back(ref);
    }
    earlier_in_batch.insert(specs[i].job_id());
  }
  return absl::OkStatus();
}

void Scheduler::Admit(Job& job, const std::vector<std::string>& unfinished_refs) {
  int unfinished = 0;
  for (const std::string& ref : unfinished_refs) {
    if (store_->FindLive(ref) == nullptr) {
      // Only a failed or cancelled dependency is still listed as unfinished.
      absl::StatusOr<std::optional<Job>> dependency = store_->Lookup(ref);
      if (!dependency.ok()) {
        // The job cannot be told whether it may run: it fails, with why.
        Finish(job, v1::FAILED,
               ErrorResult(Error(dependency.status().code(),
                                 absl::StrCat("dependency ", ref, " cannot be read: ",
                                              dependency.status().message()))));
        return;
      }
      Finish(job, v1::FAILED,
             ErrorResult(!*dependency ? DependencyError(ref, v1::JOB_STATE_UNSPECIFIED, {})
                                      : DependencyError(ref, (*dependency)->state,
                                                        (*dependency)->result().error())));
      return;
    }
    dependents_[ref].emplace_back(job.id());
    ++unfinished;
  }
  if (unfinished > 0) {
    unfinished_dependencies_[std::string(job.id())] = unfinished;
  } else {
    Enqueue(job);
  }
}

void Scheduler::Enqueue(Job& job) {
  // not_before is kept on the wall clock, to survive a restart; the wait
  // itself is measured on the monotonic one.
  const absl::Duration wait = job.not_before - clock_->Now();
  if (wait > absl::ZeroDuration()) {
    delayed_.emplace(clock_->Monotonic() + wait, &job);
    return;
  }
  queue_.Push(&job);
}

absl::StatusOr<v1::JobState> Scheduler::Cancel(const std::string& job_id) {
  Job* job = store_->FindLive(job_id);
  if (job == nullptr) {
    // Finished (left as it is) or unknown.
    absl::StatusOr<std::optional<Job>> held = store_->Lookup(job_id);
    if (!held.ok()) return held.status();
    if (!*held) return absl::NotFoundError(absl::StrCat("no job ", job_id));
    return (*held)->state;
  }
  switch (job->state) {
    case v1::PENDING:
      if (!queue_.Remove(*job)) {
        auto delayed = std::find_if(delayed_.begin(), delayed_.end(),
                                    [&](const auto& entry) { return entry.second == job; });
        if (delayed != delayed_.end()) delayed_.erase(delayed);
      }
      break;
    case v1::RUNNING:
      if (job->worker != kNoWorker) listener_->OnCancelRunning(job->worker, job_id);
      DropRunning(*job);
      break;
    default:
      return job->state;
  }
  Finish(*job, v1::CANCELLED, ErrorResult(Error(absl::StatusCode::kCancelled, "cancelled")));
  return v1::CANCELLED;
}

absl::Status Scheduler::CheckNewWorker(const WorkerInfo& info) const {
  for (const auto& [id, worker] : workers_) {
    const WorkerInfo& live = worker.snapshot.info;
    if (live.name == info.name && (info.instance.empty() || live.instance != info.instance)) {
      return absl::AlreadyExistsError(absl::StrCat(
          "a worker node named ", info.name,
          " is already connected (another process: give each node its own --name)"));
    }
  }
  return absl::OkStatus();
}

WorkerId Scheduler::AddWorker(WorkerInfo info, std::vector<std::string>* drop_job_ids) {
  const WorkerId id = next_worker_id_++;
  if (workers_.empty()) nodes_present_since_ = clock_->Monotonic();
  WorkerState& worker = workers_[id];
  worker.snapshot.id = id;
  worker.snapshot.connected = clock_->Now();
  worker.snapshot.last_seen = clock_->Monotonic();
  std::vector<std::string> held = std::move(info.held_job_ids);
  worker.snapshot.info = std::move(info);
  worker.name = Job::SharedName(worker.snapshot.info.name);
  by_last_seen_.emplace(worker.snapshot.last_seen, id);
  for (const std::string& fn : worker.snapshot.info.functions) ++nodes_offering_[fn];
  stats_.workers = static_cast<int>(workers_.size());
  stats_.slots += std::max(worker.snapshot.info.slots, 0);
  for (auto& [other_id, other] : workers_) {
    if (other_id != id && other.snapshot.info.name == worker.snapshot.info.name) {
      // The node's old stream, not noticed gone yet: it must take no more work.
      other.snapshot.credits = 0;
      other.snapshot.draining = true;
    }
  }

  for (std::string& job_id : held) {
    Job* job = store_->FindLive(job_id);
    bool adopt = false;
    if (job != nullptr && job->state == v1::RUNNING) {
      // Still running on the node's old stream (not noticed gone yet) or
      // waiting for it since a scheduler restart.
      auto old = workers_.find(job->worker);
      // Only by the node it runs on: a node cannot claim another's job by id.
      adopt = job->worker_name() == worker.snapshot.info.name &&
              (job->worker == kNoWorker || (old != workers_.end() && old->first != id));
      if (adopt && old != workers_.end()) {
        old->second.running.erase(job_id);
        old->second.snapshot.running = static_cast<int>(old->second.running.size());
      }
      // An adopted orphan stays in orphaned_; Tick skips it once it has a node.
    } else if (job != nullptr && job->state == v1::PENDING &&
               // Also a job the node ran without the store knowing: the
               // scheduler crashed before it recorded the assignment.
               (RanOn(*job, worker.snapshot.info.name) ||
                CouldRun(*job, worker.snapshot.info)) &&
               !unfinished_dependencies_.contains(job_id) &&
               queue_.Remove(*job)) {
      // Requeued when the node was lost, not handed to anyone since.
      adopt = true;
      CountState(v1::PENDING, -1);
      CountState(v1::RUNNING, +1);
      job->state = v1::RUNNING;
      job->not_before = absl::InfinitePast();
      if (job->attempt > 0 && !job->attempts.empty() &&
          job->attempts.back().worker == worker.snapshot.info.name) {
        // The attempt the node was presumed lost in goes on after all.
        job->attempts.back().finished = absl::InfinitePast();
        job->attempts.back().error.Clear();
      } else {
        ++job->attempt;
        Attempt& attempt = job->attempts.emplace_back();
        attempt.number = job->attempt;
        attempt.worker = worker.snapshot.info.name;
        attempt.started = clock_->Now();
      }
    }
    if (!adopt) {
      if (drop_job_ids != nullptr) drop_job_ids->push_back(std::move(job_id));
      continue;
    }
    job->worker = id;
    job->set_worker_name(worker.name);
    worker.running.insert(job_id);
    // Kept even if the store missed it: the node runs the job already, and
    // after a restart it comes back holding it like any node.
    Stored(store_->Update(*job), job->id(), "adoption by its node");
  }
  worker.snapshot.running = static_cast<int>(worker.running.size());
  return id;
}

void Scheduler::AddCredits(WorkerId worker, int credits) {
  auto it = workers_.find(worker);
  if (it == workers_.end() || credits <= 0) return;
  WorkerSnapshot& snapshot = it->second.snapshot;
  Heard(it->second);
  if (snapshot.draining) return;
  // A node never holds more jobs than its slots and prefetch allow.
  snapshot.credits = std::min(snapshot.credits + credits,
                              snapshot.info.slots + snapshot.info.prefetch -
                                  static_cast<int>(it->second.running.size()));
  if (snapshot.credits > 0) with_credits_.insert(worker);
  Dispatch();
}

void Scheduler::Heartbeat(WorkerId worker) {
  if (auto it = workers_.find(worker); it != workers_.end()) Heard(it->second);
}

void Scheduler::Heard(WorkerState& worker) {
  const absl::Time now = clock_->Monotonic();
  WorkerSnapshot& snapshot = worker.snapshot;
  if (snapshot.last_seen == now) return;
  by_last_seen_.erase({snapshot.last_seen, snapshot.id});
  snapshot.last_seen = now;
  by_last_seen_.emplace(now, snapshot.id);
}

void Scheduler::SetDraining(WorkerId worker) {
  if (auto it = workers_.find(worker); it != workers_.end()) {
    it->second.snapshot.draining = true;
    it->second.snapshot.credits = 0;
    Heard(it->second);
  }
}

void Scheduler::ReportResult(WorkerId worker, const v1::JobResult& result) {
  auto w = workers_.find(worker);
  if (w == workers_.end()) return;
  Heard(w->second);
  Job* job = store_->FindLive(result.job_id());
  if (job == nullptr || job->state != v1::RUNNING || job->worker != worker ||
      !w->second.running.contains(result.job_id())) {
    return;  // stale: the job was cancelled or moved on
  }
  DropRunning(*job);
  ++w->second.snapshot.jobs_done;
  if (result.state() == v1::SUCCEEDED || result.state() == v1::CANCELLED) {
    EndAttempt(*job, result.state() == v1::SUCCEEDED ? nullptr : &result.error());
    Finish(*job, result.state(), result);
    return;
  }
  v1::JobError error = result.error();
  if (result.state() != v1::FAILED) {
    error = Error(absl::StatusCode::kInternal,
                  absl::StrCat("worker reported the job in non-final state ",
                               v1::JobState_Name(result.state())));
  }
  if (result.worker_failure() || job->retry_on_error) {
    RetryOrFail(*job, error, BackoffFor(*job));
  } else {
    EndAttempt(*job, &error);
    Finish(*job, v1::FAILED, ErrorResult(error));
  }
}

void Scheduler::RemoveWorker(WorkerId worker) {
  LoseWorker(worker, "was lost while running the job", /*silent=*/false);
}

void Scheduler::LoseWorker(WorkerId worker, const std::string& why, bool silent) {
  auto it = workers_.find(worker);
  if (it == workers_.end()) return;
  WorkerState gone = std::move(it->second);
  workers_.erase(it);
  with_credits_.erase(worker);
  by_last_seen_.erase({gone.snapshot.last_seen, worker});
  for (const std::string& fn : gone.snapshot.info.functions) {
    if (auto offering = nodes_offering_.find(fn); --offering->second == 0) {
      nodes_offering_.erase(offering);
    }
  }
  stats_.workers = static_cast<int>(workers_.size());
  stats_.slots -= std::max(gone.snapshot.info.slots, 0);
  if (workers_.empty()) nodes_present_since_ = absl::InfiniteFuture();
  const absl::Time now = clock_->Monotonic();
  // Whether some node was heard within half a lease (the last heard is
  // enough to tell): a node silent for longer is likely cut off too, and
  // its lease ends moments later.
  const bool some_heard_lately =
      !by_last_seen_.empty() &&
      std::max(by_last_seen_.rbegin()->first, listening_since_) + options_.lease_timeout / 2 >=
          now;
  if (silent && !some_heard_lately) {
    // Every node went silent together: more likely the network between
    // them and the scheduler than all of them at once. Their jobs wait for
    // their nodes, which hold the results of those that finished meanwhile,
    // as after a restart, instead of going to whichever node is back first.
    for (const std::string& id : gone.running) {
      Job* job = store_->FindLive(id);
      if (job == nullptr || job->state != v1::RUNNING || job->worker != worker) continue;
      job->worker = kNoWorker;
      orphaned_.emplace(now + options_.lease_timeout, id);
    }
    return;
  }
  // Requeue in submission order so the lost jobs keep their place.
  std::vector<Job*> lost;
  for (const std::string& id : gone.running) {
    Job* job = store_->FindLive(id);
    if (job != nullptr && job->state == v1::RUNNING && job->worker == worker) lost.push_back(job);
  }
  std::sort(lost.begin(), lost.end(),
            [](const Job* a, const Job* b) { return a->sequence < b->sequence; });
  for (Job* job : lost) {
    job->worker = kNoWorker;
    // Another node can take the job at once: no backoff.
    RetryOrFail(*job,
                Error(absl::StatusCode::kUnavailable,
                      absl::StrCat("worker node ", gone.snapshot.info.name, " ", why)),
                absl::ZeroDuration());
  }
  Dispatch();
}

void Scheduler::RetryOrFail(Job& job, const v1::JobError& error, absl::Duration delay) {
  EndAttempt(job, &error);
  const int max_attempts = MaxAttempts(job);
  if (job.attempt >= max_attempts) {
    v1::JobError final_error = error;
    final_error.set_message(absl::StrCat(error.message(), " (attempt ", job.attempt, " of ",
                                         max_attempts, ")"));
    Finish(job, v1::FAILED, ErrorResult(std::move(final_error)));
    return;
  }
  job.state = v1::PENDING;
  job.worker = kNoWorker;
  job.not_before = clock_->Now() + delay;
  CountState(v1::RUNNING, -1);
  CountState(v1::PENDING, +1);
  // Queued even if the store missed it: nothing is dispatched while the
  // store cannot write, and a restart finds the job running and requeues it
  // after a lease, so it runs again either way.
  Stored(store_->Update(job), job.id(), "requeue");
  Enqueue(job);
  listener_->OnRetry(job);
}

void Scheduler::EndAttempt(Job& job, const v1::JobError* error) {
  if (job.attempts.empty()) return;
  Attempt& attempt = job.attempts.back();
  if (attempt.finished != absl::InfinitePast()) return;
  attempt.finished = clock_->Now();
  if (error != nullptr) attempt.error = *error;
}

void Scheduler::DropRunning(Job& job) {
  auto w = workers_.find(job.worker);
  if (w == workers_.end()) return;
  w->second.running.erase(job.id());
  w->second.snapshot.running = static_cast<int>(w->second.running.size());
}

absl::Duration Scheduler::BackoffFor(const Job& job) {
  const absl::Duration base = job.retry_backoff_seconds > 0
                                  ? absl::Seconds(job.retry_backoff_seconds)
                                  : options_.default_retry_backoff;
  return RetryDelay(base, options_.max_retry_backoff, job.attempt,
                    std::uniform_real_distribution<double>(0, 1)(random_));
}

int Scheduler::MaxAttempts(const Job& job) const {
  return job.max_attempts > 0 ? job.max_attempts : options_.default_max_attempts;
}

void Scheduler::Tick() {
  const absl::Time now = clock_->Monotonic();
  // A stall of half a lease already risks expiring a node that was not
  // heard only because it was not listened to.
  const absl::Duration stall = std::min(options_.stall_threshold, options_.lease_timeout / 2);
  if (last_tick_ != absl::InfinitePast() && now - last_tick_ > stall) {
    // The scheduler itself was stopped (SIGSTOP, a swap storm, a disk that
    // hung): what nodes sent meanwhile waits unread, so their silence says
    // nothing yet. Every lease restarts from now.
    listening_since_ = now;
  }
  last_tick_ = now;
  std::vector<WorkerId> expired;
  for (const auto& [last_seen, id] : by_last_seen_) {
    ++work_.lease_checks;
    if (LeaseEnd(last_seen) >= now) break;
    expired.push_back(id);
  }
  for (WorkerId id : expired) {
    LoseWorker(id, "stopped answering (lease expired) while running the job", /*silent=*/true);
    listener_->OnWorkerLost(id);
  }

  while (!orphaned_.empty() && orphaned_.begin()->first <= now && OrphansMayGo(now)) {
    const std::string id = orphaned_.begin()->second;
    orphaned_.erase(orphaned_.begin());
    Job* job = store_->FindLive(id);
    if (job == nullptr || job->state != v1::RUNNING || job->worker != kNoWorker) continue;
    RetryOrFail(*job,
                Error(absl::StatusCode::kUnavailable,
                      absl::StrCat("worker node ", job->worker_name(),
                                   " did not come back (after a scheduler restart, or after all "
                                   "nodes went silent)")),
                absl::ZeroDuration());
  }

  while (!delayed_.empty() && delayed_.begin()->first <= now) {
    queue_.Push(delayed_.begin()->second);
    delayed_.erase(delayed_.begin());
  }
  // Requeued orphans and retries whose backoff ended wait in the queue.
  if (!queue_.empty()) Dispatch();

  // Erasing can cost a store scan: once a minute is plenty for a retention
  // measured in hours.
  if (now >= next_erase_) {
    if (store_->EraseFetchedBefore(clock_->Now() - options_.result_ttl) > 0) {
      // Counts are of the jobs the store holds, as after a restart.
      const FinishedCounts finished = store_->CountFinished();
      stats_.succeeded = finished.succeeded;
      stats_.failed = finished.failed;
      stats_.cancelled = finished.cancelled;
    }
    next_erase_ = now + std::min(options_.result_ttl, absl::Minutes(1));
  }
}

absl::Time Scheduler::NextTick() const {
  absl::Time next = next_erase_;
  if (!delayed_.empty()) next = std::min(next, delayed_.begin()->first);
  if (holding_for_nodes_ && !queue_.empty()) {
    next = std::min(next, nodes_present_since_ + options_.restart_grace);
  }
  if (!orphaned_.empty()) {
    next = std::min(next, std::max({orphaned_.begin()->first,
                                    listening_since_ + options_.lease_timeout,
                                    nodes_present_since_ + options_.lease_timeout}));
  }
  if (!by_last_seen_.empty()) next = std::min(next, LeaseEnd(by_last_seen_.begin()->first));
  return next;
}

bool Scheduler::OrphansMayGo(absl::Time now) const {
  // Their nodes had a lease's time to come back, counted while the
  // scheduler listened and some node could reach it.
  return listening_since_ + options_.lease_timeout <= now &&
         nodes_present_since_ + options_.lease_timeout <= now;
}

absl::Time Scheduler::LeaseEnd(absl::Time last_seen) const {
  return std::max(last_seen, listening_since_) + options_.lease_timeout;
}

void Scheduler::MarkFetched(const std::string& job_id) {
  // A result the store does not know was fetched is only kept longer.
  Stored(store_->MarkFetched(job_id), job_id, "fetch");
}

std::vector<std::string> Scheduler::WaitingFor(const Job& job) const {
  std::vector<std::string> waiting;
  if (job.state != v1::PENDING || !unfinished_dependencies_.contains(job.id())) return waiting;
  // A dependency that finished has settled the job already: a succeeded
  // one no longer holds it back, a failed one failed it.
  for (std::string& ref : CollectJobRefs(job.DecodeSpec())) {
    if (store_->FindLive(ref) != nullptr) waiting.push_back(std::move(ref));
  }
  return waiting;
}

std::vector<Job> Scheduler::ListJobs(v1::JobState state, size_t limit,
                                     const std::string* owner) const {
  std::vector<Job> jobs;
  store_->ForEach([&](const Job& job) {
    if ((state == v1::JOB_STATE_UNSPECIFIED || job.state == state) &&
        (owner == nullptr || job.owner() == *owner)) {
      jobs.push_back(job);
    }
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

std::vector<QueueDepth> Scheduler::QueueDepths() const {
  std::vector<QueueDepth> depths;
  queue_.ForEachQueue([&](const std::string& function, const JobQueue::Labels& labels,
                          size_t jobs) {
    depths.push_back({function, labels, static_cast<int64_t>(jobs)});
  });
  return depths;
}

void Scheduler::Dispatch() {
  // A job started now could not have its result recorded: it would run
  // again after a restart. Tick dispatches once the store writes again.
  if (!store_->health().ok()) return;
  if (holding_for_nodes_) {
    // After a restart, the nodes come back (with their backoff) holding
    // what they ran; the first back must not take the others' jobs.
    if (nodes_present_since_ + options_.restart_grace > clock_->Monotonic()) return;
    holding_for_nodes_ = false;
  }
  // One pass over the nodes with credits, starting after the node served
  // last; each takes as many jobs as it has credits, so a node left with
  // credits has no job in the queue it may run. Nodes are found by id, not
  // kept by iterator: assigning can settle dependents, which dispatches
  // too.
  WorkerId previous = dispatch_cursor_;
  // A pass also ends when a write fails in it (AssignOne) and the store
  // turns unhealthy.
  for (size_t n = with_credits_.size(); n > 0 && !queue_.empty() && store_->health().ok(); --n) {
    auto next = with_credits_.upper_bound(previous);
    if (next == with_credits_.end()) next = with_credits_.begin();
    if (next == with_credits_.end()) break;
    const WorkerId id = *next;
    previous = id;
    ++work_.dispatch_visits;
    auto it = workers_.find(id);
    if (it == workers_.end()) {
      with_credits_.erase(id);
      continue;
    }
    WorkerState& worker = it->second;
    std::vector<v1::Assignment> batch;
    while (AssignOne(worker, batch)) {
    }
    if (worker.snapshot.credits <= 0 || worker.snapshot.draining) with_credits_.erase(id);
    if (batch.empty()) continue;
    dispatch_cursor_ = id;
    listener_->OnAssign(id, std::move(batch));
  }
}

bool Scheduler::AssignOne(WorkerState& worker, std::vector<v1::Assignment>& batch) {
  WorkerSnapshot& snapshot = worker.snapshot;
  if (snapshot.credits <= 0 || snapshot.draining) return false;
  Job* job = queue_.PopFor(snapshot.info.functions, snapshot.info.labels);
  if (job == nullptr) return false;

  // The spec is decoded once, here, and its fields move into the assignment.
  v1::JobSpec spec = job->DecodeSpec();
  v1::Assignment assignment;
  assignment.set_job_id(std::move(*spec.mutable_job_id()));
  assignment.set_function(std::move(*spec.mutable_function()));
  assignment.mutable_args()->Swap(spec.mutable_args());
  assignment.mutable_chunk()->Swap(spec.mutable_chunk());
  assignment.set_packed_chunk(std::move(*spec.mutable_packed_chunk()));
  assignment.set_timeout_seconds(spec.timeout_seconds());
  // A node that predates packed chunks would run none of the entries.
  absl::Status substituted =
      assignment.packed_chunk().empty() ||
              snapshot.info.protocol_version >= kFirstVersionWithPackedChunks
          ? absl::OkStatus()
          : UnpackIntoChunk(assignment);
  if (substituted.ok()) substituted = SubstituteJobRefs(
      [this](const std::string& ref) -> absl::StatusOr<v1::Value> {
        absl::StatusOr<std::optional<Job>> dependency = store_->Lookup(ref);
        if (!dependency.ok()) {
          return absl::Status(dependency.status().code(),
                              absl::StrCat("dependency ", ref, " cannot be read: ",
                                           dependency.status().message()));
        }
        if (!*dependency || (*dependency)->state != v1::SUCCEEDED) {
          return absl::FailedPreconditionError(
              DependencyError(ref, v1::JOB_STATE_UNSPECIFIED, {}).message());
        }
        return ResultValue((*dependency)->result());
      },
      assignment);
  if (!substituted.ok()) {
    Finish(*job, v1::FAILED,
           ErrorResult(Error(substituted.code(), std::string(substituted.message()))));
    return true;
  }

  std::shared_ptr<const std::string> previous_worker_name = job->node_name;
  const absl::Time previous_started = job->started;
  const absl::Time previous_not_before = job->not_before;
  job->state = v1::RUNNING;
  ++job->attempt;
  job->worker = snapshot.id;
  job->set_worker_name(worker.name);
  job->started = clock_->Now();
  job->not_before = absl::InfinitePast();
  Attempt& attempt = job->attempts.emplace_back();
  attempt.number = job->attempt;
  attempt.worker = snapshot.info.name;
  attempt.started = job->started;
  if (!Stored(store_->Update(*job), job->id(), "start")) {
    // Not sent: a start the store missed would run the job again after a
    // restart, and its result could not be recorded either. It waits in
    // the queue, in its place, until the store writes again.
    job->state = v1::PENDING;
    --job->attempt;
    job->worker = kNoWorker;
    job->set_worker_name(std::move(previous_worker_name));
    job->started = previous_started;
    job->not_before = previous_not_before;
    job->attempts.pop_back();
    queue_.Push(job);
    return false;
  }
  CountState(v1::PENDING, -1);
  CountState(v1::RUNNING, +1);
  --snapshot.credits;
  worker.running.emplace(job->id());
  snapshot.running = static_cast<int>(worker.running.size());
  assignment.set_attempt(job->attempt);
  batch.push_back(std::move(assignment));
  return true;
}

void Scheduler::Finish(Job& job, v1::JobState state, const v1::JobResult& result) {
  const std::string id(job.id());
  const v1::JobError error = result.error();
  Record(job, state, result);
  if (dependents_.contains(id)) SettleDependents(id, state, error);
}

void Scheduler::Record(Job& job, v1::JobState state, const v1::JobResult& result) {
  if (auto it = unfinished_by_owner_.find(job.owner()); it != unfinished_by_owner_.end()) {
    if (--it->second.unfinished <= 0) unfinished_by_owner_.erase(it);
  }
  CountState(job.state, -1);
  CountState(state, +1);
  if (job.state == v1::PENDING) unfinished_dependencies_.erase(job.id());
  job.state = state;
  job.worker = kNoWorker;
  job.finished = clock_->Now();
  v1::JobResult& recorded = *job.mutable_result();
  recorded = result;
  recorded.set_job_id(std::string(job.id()));
  recorded.set_state(state);
  recorded.clear_worker_failure();
  if (state == v1::SUCCEEDED) {
    recorded.clear_error();
  } else {
    recorded.clear_value();
    recorded.clear_packed_value();
  }
  // A finish the store missed is not announced: OnFinished would hand the
  // result to clients as kept, while a restart runs the job again. The job
  // stays finished here, so that this process does not run it twice.
  if (Stored(store_->Update(job), job.id(), "finish")) {
    listener_->OnFinished(job, store_->last_write());
  }
}

bool Scheduler::Stored(const absl::Status& written, absl::string_view job_id,
                       const char* change) {
  if (written.ok()) {
    write_failed_ = false;
    return true;
  }
  // The store's health() tells of the failures that follow; one line is
  // enough until a write succeeds again.
  if (!write_failed_) {
    spdlog::error("scheduler: the job store could not record the {} of job {}: {}", change,
                  std::string(job_id), written.ToString());
  }
  write_failed_ = true;
  return false;
}

void Scheduler::SettleDependents(const std::string& job_id, v1::JobState state,
                                 const v1::JobError& error) {
  // A chain of dependents settles through a worklist, not recursion: a long
  // chain of failures must not run the stack out.
  struct Settled {
    std::string id;
    v1::JobState state;
    v1::JobError error;
  };
  std::vector<Settled> work{{job_id, state, error}};
  while (!work.empty()) {
    Settled done = std::move(work.back());
    work.pop_back();
    auto it = dependents_.find(done.id);
    if (it == dependents_.end()) continue;
    std::vector<std::string> waiting = std::move(it->second);
    dependents_.erase(it);
    for (const std::string& dependent_id : waiting) {
      Job* dependent = store_->FindLive(dependent_id);
      if (dependent == nullptr || dependent->state != v1::PENDING) continue;
      auto count = unfinished_dependencies_.find(dependent_id);
      if (count == unfinished_dependencies_.end()) continue;
      if (done.state == v1::SUCCEEDED) {
        if (--count->second == 0) {
          unfinished_dependencies_.erase(count);
          Enqueue(*dependent);
        }
        continue;
      }
      const v1::JobError failure = DependencyError(done.id, done.state, done.error);
      // Record, not Finish: this loop settles the dependent's own dependents.
      Record(*dependent, v1::FAILED, ErrorResult(failure));
      work.push_back({dependent_id, v1::FAILED, failure});
    }
  }
  Dispatch();
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
  return nodes_offering_.contains(function);
}

}  // namespace netpool
