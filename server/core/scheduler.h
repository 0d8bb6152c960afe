// Scheduler is the scheduling core of netpoold: it accepts jobs, keeps them
// queued by priority and submission order, holds back jobs whose arguments
// are other jobs' results until those succeed, hands jobs to worker nodes
// that have free slots (credits), the job's function and all of the job's
// labels (a job whose labels no node has waits for one), records results and
// each attempt, retries with backoff, cancels, takes running jobs from nodes
// whose lease ran out, and rebuilds all of it from the store after a restart.
//
// It is plain C++: no gRPC, no database, time from a Clock. It is NOT
// thread-safe; SchedulerRuntime serialises calls. Everything it decides that
// must reach the outside (an assignment to send, a process to kill, a job
// that finished) goes out through SchedulerListener, synchronously, while the
// caller still holds its lock: listeners must only queue work, never block.
#ifndef NETPOOL_SERVER_CORE_SCHEDULER_H_
#define NETPOOL_SERVER_CORE_SCHEDULER_H_

#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "absl/container/btree_map.h"
#include "absl/container/btree_set.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "netpool/v1/worker.pb.h"
#include "server/core/clock.h"
#include "server/core/job.h"
#include "server/core/job_queue.h"
#include "server/core/store.h"

namespace netpool {

class SchedulerListener {
 public:
  virtual ~SchedulerListener() = default;
  // Send these jobs to `worker` to run: all it was given in one dispatch
  // pass, to go out in one message.
  virtual void OnAssign(WorkerId worker, std::vector<v1::Assignment> assignments) = 0;
  // `worker` should kill the process running `job_id` (it was cancelled).
  virtual void OnCancelRunning(WorkerId worker, const std::string& job_id) = 0;
  // `job` reached SUCCEEDED, FAILED or CANCELLED; job.result is set. The
  // store's write that records it is number `write` (see Store). Not called
  // when the store refused that write: the result was not kept.
  virtual void OnFinished(const Job& job, uint64_t write) = 0;
  // `worker` stopped answering and was removed: end its stream.
  virtual void OnWorkerLost(WorkerId worker) = 0;
  // `job`'s attempt failed (or its node or process was lost) and it was
  // queued to run again. Only counted, so a listener may ignore it.
  virtual void OnRetry(const Job& job) {}
};

struct SchedulerOptions {
  // Attempts for a job that does not set max_attempts. A lost worker node
  // or a dead worker process costs its running job one attempt.
  int default_max_attempts = 3;
  // Delay before a job's first retry when the job does not set one; doubles
  // with each further attempt up to max_retry_backoff, with jitter.
  absl::Duration default_retry_backoff = absl::Seconds(1);
  absl::Duration max_retry_backoff = absl::Minutes(5);
  // A worker node not heard from for this long is lost: its running jobs go
  // to other nodes. Also how long jobs that were running when the scheduler
  // stopped wait for their node to come back before they are requeued.
  absl::Duration lease_timeout = absl::Seconds(15);
  // Tick is called far more often than this (SchedulerRuntime: every
  // 100 ms). A longer gap between two Ticks means the scheduler itself
  // stalled, and leases then restart: a node expires only after it was
  // silent for lease_timeout while the scheduler was listening.
  absl::Duration stall_threshold = absl::Seconds(2);
  // After a restart that found pending jobs, nothing is dispatched until a
  // node has been connected this long: nodes reconnect holding the jobs they
  // ran, some of which the store may have as pending, and the first node
  // back would otherwise run those a second time. Longer than a node's
  // longest reconnect backoff (NodeAgent::Options::max_backoff).
  absl::Duration restart_grace = absl::Seconds(5);
  // How long a finished job's result is kept after it was fetched.
  absl::Duration result_ttl = absl::Hours(24);
  // Seed of the retry jitter; 0 = random.
  uint64_t random_seed = 0;
  // At most this many unfinished jobs per owner (0 = no limit): a Submit
  // that would go beyond it is refused whole, with kResourceExhausted.
  int64_t max_unfinished_per_owner = 0;
};

// What a worker node says about itself when it connects.
struct WorkerInfo {
  std::string name;
  int slots = 0;
  int prefetch = 0;  // jobs it may hold queued beyond its slots
  std::vector<std::string> functions;
  // Jobs with labels run only on nodes that have all of them.
  JobQueue::Labels labels;
  // Jobs the node still runs or holds results for from an earlier stream.
  std::vector<std::string> held_job_ids;
  // Random per node process: a node reconnecting is the same instance.
  std::string instance;
  // WorkerHello.protocol_version (common/worker_protocol.h).
  uint32_t protocol_version = 0;
};

// A worker node as the scheduler sees it.
struct WorkerSnapshot {
  WorkerId id = kNoWorker;
  WorkerInfo info;
  int credits = 0;
  int running = 0;
  int64_t jobs_done = 0;
  absl::Time connected = absl::InfinitePast();  // wall clock
  absl::Time last_seen = absl::InfinitePast();  // Clock::Monotonic()
  bool draining = false;
};

// How much work the scheduler did, counted so that tests can pin that it
// grows with what happens, not with how many nodes are connected.
struct SchedulerWork {
  // Nodes a dispatch pass looked at.
  int64_t dispatch_visits = 0;
  // Nodes whose lease Tick looked at.
  int64_t lease_checks = 0;
};

// Jobs ready to run now of one function and label set (not those waiting out
// a retry backoff, their dependencies or a restart's grace).
struct QueueDepth {
  std::string function;
  JobQueue::Labels labels;
  int64_t jobs = 0;
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

  // Rebuilds the queues from the store after a restart; call once, before
  // anything else. Pending jobs are queued again, and wait restart_grace
  // after the first node connects; jobs that were running wait one
  // lease_timeout for their node to come back holding them, then are
  // requeued (their attempt already counted).
  void Recover();

  // Accepts all jobs or none. Jobs without an id get one. A job whose
  // idempotency key the store already holds, or whose id is taken by an
  // identical job (a resent Submit), is not added again: its existing id is
  // returned. Errors: kInvalidArgument (see ValidateJobSpec, and a job_ref to
  // the job itself or to a later job of the batch), kAlreadyExists (id taken
  // by a different job), kNotFound (a job_ref to an unknown job, or a
  // function offered by no connected worker node while at least one is
  // connected). Labels that no connected node has are no error: the job
  // waits for a node that has them.
  //
  // kUnavailable while the store cannot write (Store::health()); no job is
  // dispatched then either.
  //
  // The jobs belong to `owner`. A job id, idempotency key or job_ref of a
  // job that belongs to another owner is refused (kAlreadyExists for ids and
  // keys, kPermissionDenied for references), and so is a batch that would
  // take the owner past max_unfinished_per_owner (kResourceExhausted).
  absl::StatusOr<std::vector<std::string>> Submit(std::vector<v1::JobSpec> specs,
                                                  const std::string& owner = "");

  // Cancels a job: a pending job leaves the queue, a running job's process is
  // killed (OnCancelRunning); both end CANCELLED. A finished job is left as
  // it is. Returns the state after the call; kNotFound for an unknown id.
  absl::StatusOr<v1::JobState> Cancel(const std::string& job_id);

  // OK when a node may connect under info.name: kAlreadyExists when a
  // connected node of that name is another instance (two nodes given the
  // same name, or one claiming another's), whose jobs and assignments the
  // newcomer would otherwise take over.
  absl::Status CheckNewWorker(const WorkerInfo& info) const;
  // A worker node connected. It starts with no credits: its first credits
  // (its slots) come through AddCredits, like every later free slot. Jobs in
  // info.held_job_ids that are unfinished, not running on another node and
  // ran there or could have (the node offers their function and labels) are
  // given back to it; the others are appended to `drop_job_ids`.
  WorkerId AddWorker(WorkerInfo info, std::vector<std::string>* drop_job_ids = nullptr);
  // The worker node has `credits` more free slots.
  void AddCredits(WorkerId worker, int credits);
  // Records that the worker node is alive.
  void Heartbeat(WorkerId worker);
  // The node is shutting down: it gets no more jobs.
  void SetDraining(WorkerId worker);
  // A result from a worker node. A result for a job that is no longer
  // running there (cancelled, or requeued after the node was presumed lost)
  // is ignored: a job records exactly one result. A failed attempt is retried
  // after a backoff while attempts remain if the worker failed
  // (result.worker_failure) or the job asked for retries on error.
  void ReportResult(WorkerId worker, const v1::JobResult& result);
  // The worker node's stream ended: its running jobs go back to the queue
  // at once (a lost node always costs an attempt), or fail when they have
  // used all their attempts. A node whose lease runs out (Tick) is lost the
  // same way while another node was heard within half a lease; when none
  // was, its running jobs wait for it like the orphans of a restart, so
  // that a network cut between the scheduler and all its nodes reruns
  // nothing.
  void RemoveWorker(WorkerId worker);

  // Time-driven work, called periodically: nodes whose lease ran out are
  // removed (OnWorkerLost), jobs whose node did not come back after a
  // restart are requeued, retries whose backoff is over are queued, and
  // fetched results older than result_ttl are erased.
  void Tick();
  // When Tick next has something to do, on Clock::Monotonic()
  // (InfiniteFuture if nothing waits).
  absl::Time NextTick() const;

  // Records that a finished job's result was handed to a client.
  void MarkFetched(const std::string& job_id);

  // A copy of the job's record, nullopt if the store holds no such job; an
  // error if the store cannot read it.
  absl::StatusOr<std::optional<Job>> FindJob(absl::string_view job_id) const {
    return store_->Lookup(job_id);
  }
  // The jobs whose results `job` still waits for.
  std::vector<std::string> WaitingFor(const Job& job) const;
  int MaxAttempts(const Job& job) const;
  // Copies of the jobs in submission order, optionally only those in
  // `state` (JOB_STATE_UNSPECIFIED = any) and of `owner` (nullptr = any),
  // at most `limit`.
  std::vector<Job> ListJobs(v1::JobState state, size_t limit,
                            const std::string* owner = nullptr) const;
  std::vector<WorkerSnapshot> ListWorkers() const;
  SchedulerStats Stats() const;
  std::vector<QueueDepth> QueueDepths() const;
  const SchedulerWork& work() const { return work_; }
  bool HasWorker(WorkerId worker) const { return workers_.contains(worker); }
  // When Tick last found that the scheduler had stalled (InfinitePast if
  // never), on Clock::Monotonic().
  absl::Time listening_since() const { return listening_since_; }

 private:
  struct WorkerState {
    WorkerSnapshot snapshot;
    // snapshot.info.name, shared by the jobs that run there.
    std::shared_ptr<const std::string> name;
    absl::flat_hash_set<std::string> running;  // job ids
  };

  // Checks the batch's job references; fills `waiting` with, per job, the
  // referenced jobs not finished yet.
  absl::Status CheckJobRefs(const std::vector<v1::JobSpec>& specs, const std::string& owner,
                            std::vector<std::vector<std::string>>& waiting);
  // A new or recovered pending job: waits for its dependencies, fails at
  // once if one already failed, or is queued.
  void Admit(Job& job, const std::vector<std::string>& unfinished_refs);
  void Enqueue(Job& job);
  // Hands queued jobs to worker nodes with credits until either runs out.
  void Dispatch();
  // Takes the best job `worker` may run and adds its assignment to `batch`;
  // false if there is none.
  bool AssignOne(WorkerState& worker, std::vector<v1::Assignment>& batch);
  // The node was heard from now: its lease starts again.
  void Heard(WorkerState& worker);
  // Ends the job's current attempt with `error` and retries it (after
  // `delay`) if attempts remain, else fails it with that error.
  void RetryOrFail(Job& job, const v1::JobError& error, absl::Duration delay);
  void EndAttempt(Job& job, const v1::JobError* error);
  // Finishes the job and settles the jobs that wait for it.
  void Finish(Job& job, v1::JobState state, const v1::JobResult& result);
  // Finishes the job alone: state, result, store, OnFinished.
  void Record(Job& job, v1::JobState state, const v1::JobResult& result);
  // Whether the store took the write of `change` to the job; if not, logs
  // it at error level, once until a write succeeds again.
  bool Stored(const absl::Status& written, absl::string_view job_id, const char* change);
  // Releases or fails the jobs waiting for `job_id`, which just finished.
  void SettleDependents(const std::string& job_id, v1::JobState state, const v1::JobError& error);
  void DropRunning(Job& job);
  // The node is gone: its running jobs are requeued, or, when it fell
  // `silent` (its lease ran out) and no other node is heard either, wait for
  // it as orphans.
  void LoseWorker(WorkerId worker, const std::string& why, bool silent);
  // Whether orphans whose wait is over may be requeued now.
  bool OrphansMayGo(absl::Time now) const;
  // When the lease of a node last heard at `last_seen` runs out if it stays
  // silent.
  absl::Time LeaseEnd(absl::Time last_seen) const;
  absl::Duration BackoffFor(const Job& job);
  void CountState(v1::JobState state, int delta);
  bool SomeWorkerOffers(const std::string& function) const;

  const Clock* const clock_;
  Store* const store_;
  SchedulerListener* const listener_;
  const SchedulerOptions options_;

  // The queue and delayed_ hold the store's live records of pending jobs,
  // which stay valid until the jobs finish: a job leaves both before it
  // runs or is cancelled, the only ways out of PENDING for a job in them.
  JobQueue queue_;
  // Pending jobs waiting out a retry backoff, by when they may run.
  // These and every other time kept below are on Clock::Monotonic().
  std::multimap<absl::Time, Job*> delayed_;
  // Running jobs whose node has not come back since a restart, by when they
  // are given up on.
  std::multimap<absl::Time, std::string> orphaned_;
  absl::Time last_tick_ = absl::InfinitePast();
  // When the scheduler last resumed after a stall (see stall_threshold).
  absl::Time listening_since_ = absl::InfinitePast();
  // Since when some node has been connected without a break
  // (InfiniteFuture: none is).
  absl::Time nodes_present_since_ = absl::InfiniteFuture();
  // Recover found pending jobs and restart_grace has not passed yet.
  bool holding_for_nodes_ = false;
  // job id -> pending jobs waiting for its result.
  absl::flat_hash_map<std::string, std::vector<std::string>> dependents_;
  // pending job id -> how many of its dependencies have not finished.
  absl::flat_hash_map<std::string, int> unfinished_dependencies_;
  absl::btree_map<WorkerId, WorkerState> workers_;
  // Nodes that may have free credits: every node that has some and is not
  // draining is here (one that has none any more leaves on Dispatch's next
  // look), so that a dispatch pass looks only at nodes that can take work.
  absl::btree_set<WorkerId> with_credits_;
  // Every node by when it was last heard, oldest first: the leases to end
  // next are at the front, and Tick looks no further than those.
  absl::btree_set<std::pair<absl::Time, WorkerId>> by_last_seen_;
  // Function name -> how many connected nodes offer it.
  absl::flat_hash_map<std::string, int> nodes_offering_;
  WorkerId next_worker_id_ = 1;
  uint64_t next_sequence_ = 1;
  // Where the next Dispatch starts looking, so work spreads over nodes.
  WorkerId dispatch_cursor_ = 0;
  absl::Time next_erase_ = absl::InfinitePast();
  SchedulerStats stats_;
  SchedulerWork work_;
  // The last store write failed (and was logged).
  bool write_failed_ = false;
  // Unfinished (pending or running) jobs per owner, for
  // max_unfinished_per_owner, and the name they share; owners with none
  // are not kept.
  struct OwnerJobs {
    int64_t unfinished = 0;
    std::shared_ptr<const std::string> name;  // nullptr: the empty name
  };
  absl::flat_hash_map<std::string, OwnerJobs> unfinished_by_owner_;
  std::mt19937_64 random_;
};

}  // namespace netpool

#endif  // NETPOOL_SERVER_CORE_SCHEDULER_H_
