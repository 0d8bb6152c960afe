// Scheduler is the scheduling core of netpoold: it accepts jobs, keeps them
// queued by priority and submission order, hands them to worker nodes that
// have free slots (credits) and the job's function, records results, cancels,
// and requeues the running jobs of a worker node that is lost.
//
// It is plain C++: no gRPC, no database, time from a Clock. It is NOT
// thread-safe; SchedulerRuntime serialises calls. Everything it decides that
// must reach the outside (an assignment to send, a process to kill, a job
// that finished) goes out through SchedulerListener, synchronously, while the
// caller still holds its lock: listeners must only queue work, never block.
#ifndef NETPOOL_SERVER_CORE_SCHEDULER_H_
#define NETPOOL_SERVER_CORE_SCHEDULER_H_

#include <map>
#include <string>
#include <vector>

#include "absl/container/btree_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "server/core/clock.h"
#include "server/core/job.h"
#include "server/core/job_queue.h"
#include "server/core/store.h"

namespace netpool {

class SchedulerListener {
 public:
  virtual ~SchedulerListener() = default;
  // Send this job to `worker` to run.
  virtual void OnAssign(WorkerId worker, const v1::Assignment& assignment) = 0;
  // `worker` should kill the process running `job_id` (it was cancelled).
  virtual void OnCancelRunning(WorkerId worker, const std::string& job_id) = 0;
  // `job` reached SUCCEEDED, FAILED or CANCELLED; job.result is set.
  virtual void OnFinished(const Job& job) = 0;
};

struct SchedulerOptions {
  // Attempts for a job that does not set max_attempts. A lost worker node
  // costs its running jobs one attempt each.
  int default_max_attempts = 3;
};

// What a worker node says about itself when it connects.
struct WorkerInfo {
  std::string name;
  int slots = 0;
  std::vector<std::string> functions;
  std::map<std::string, std::string> labels;
};

// A worker node as the scheduler sees it.
struct WorkerSnapshot {
  WorkerId id = kNoWorker;
  WorkerInfo info;
  int credits = 0;
  int running = 0;
  int64_t jobs_done = 0;
  absl::Time connected = absl::InfinitePast();
  absl::Time last_seen = absl::InfinitePast();
};

struct SchedulerStats {
  int64_t pending = 0;
  int64_t running = 0;
  int64_t succeeded = 0;
  int64_t failed = 0;
  int64_t cancelled = 0;
  int workers = 0;
  int slots = 0;
};

class Scheduler {
 public:
  // REQUIRES: the arguments outlive the Scheduler.
  Scheduler(const Clock* clock, Store* store, SchedulerListener* listener,
            SchedulerOptions options = {});
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  // Accepts all jobs or none. Jobs without an id get one. Errors:
  // kInvalidArgument (see ValidateJobSpec), kAlreadyExists (id taken),
  // kNotFound (function offered by no connected worker node, while at least
  // one is connected).
  absl::StatusOr<std::vector<std::string>> Submit(std::vector<v1::JobSpec> specs);

  // Cancels a job: a pending job leaves the queue, a running job's process is
  // killed (OnCancelRunning); both end CANCELLED. A finished job is left as
  // it is. Returns the state after the call; kNotFound for an unknown id.
  absl::StatusOr<v1::JobState> Cancel(const std::string& job_id);

  // A worker node connected. It starts with no credits: its first credits
  // (its slots) come through AddCredits, like every later free slot.
  WorkerId AddWorker(WorkerInfo info);
  // The worker node has `credits` more free slots.
  void AddCredits(WorkerId worker, int credits);
  // Records that the worker node is alive.
  void Heartbeat(WorkerId worker);
  // A result from a worker node. A result for a job that is no longer
  // running there (cancelled, or requeued after the node was presumed lost)
  // is ignored: a job records exactly one result.
  void ReportResult(WorkerId worker, const v1::JobResult& result);
  // The worker node is gone: its running jobs go back to the queue (attempt
  // + 1), or fail when they have used all their attempts.
  void RemoveWorker(WorkerId worker);

  const Job* FindJob(const std::string& job_id) const { return store_->Find(job_id); }
  // Jobs in submission order, optionally only those in `state`
  // (JOB_STATE_UNSPECIFIED = any), at most `limit`.
  std::vector<const Job*> ListJobs(v1::JobState state, size_t limit) const;
  std::vector<WorkerSnapshot> ListWorkers() const;
  SchedulerStats Stats() const;
  bool HasWorker(WorkerId worker) const { return workers_.contains(worker); }

 private:
  struct WorkerState {
    WorkerSnapshot snapshot;
    absl::flat_hash_set<std::string> running;  // job ids
  };

  // Hands queued jobs to worker nodes with credits until either runs out.
  void Dispatch();
  bool AssignOne(WorkerState& worker);
  void Requeue(Job& job);
  void Finish(Job& job, v1::JobState state, const v1::JobResult& result);
  void CountState(v1::JobState state, int delta);
  bool SomeWorkerOffers(const std::string& function) const;

  const Clock* const clock_;
  Store* const store_;
  SchedulerListener* const listener_;
  const SchedulerOptions options_;

  JobQueue queue_;
  absl::btree_map<WorkerId, WorkerState> workers_;
  WorkerId next_worker_id_ = 1;
  uint64_t next_sequence_ = 1;
  // Where the next Dispatch starts looking, so work spreads over nodes.
  WorkerId dispatch_cursor_ = 0;
  SchedulerStats stats_;
};

}  // namespace netpool

#endif  // NETPOOL_SERVER_CORE_SCHEDULER_H_
