// SchedulerRuntime is the thread-safe home of the scheduling core inside
// netpoold. The gRPC services call it from many threads; it serialises them
// on one mutex, routes the core's decisions to the worker node streams
// (assignments, cancels) and to the clients waiting for results (Watch
// streams, Get calls), converts core records to their wire form, and runs
// the core's timers (leases, retry backoff, result retention) on a thread.
//
// Nothing leaves before the store has it: a Submit is answered once its jobs
// are durable, and a result reaches clients once it is durable, so a client
// never sees a result the scheduler could lose in a crash.
#ifndef NETPOOL_SERVER_SCHEDULER_RUNTIME_H_
#define NETPOOL_SERVER_SCHEDULER_RUNTIME_H_

#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "netpool/v1/netpool.pb.h"
#include "netpool/v1/worker.pb.h"
#include "server/auth/identity.h"
#include "server/core/job_listing.h"
#include "server/core/scheduler.h"
#include "server/job_events.h"

namespace netpool {

// The stream of one connected worker node, as the runtime sees it. Called
// with the runtime's lock held: must neither block nor call the runtime.
class WorkerConnection {
 public:
  virtual ~WorkerConnection() = default;
  // Queues `message` for the node; what queues meanwhile goes out merged.
  virtual void Send(v1::SchedulerMessage message) = 0;
  // Ends the stream now from the scheduler's side, dropping what is queued:
  // the node sees CANCELLED and connects again.
  virtual void End() = 0;
};

// What hands results to one client that waits for them: a Watch stream or a
// waiting Get. Each id it asks for is answered once.
class ResultSubscription {
 public:
  virtual ~ResultSubscription() = default;
  // A result it asked for. Called with the runtime's lock held: must neither
  // block nor call the runtime.
  virtual void OnResult(const v1::JobResult& result) = 0;

  // Jobs it submitted (SubmitAndWatch) that the store now holds. Called with
  // the runtime's lock held, as OnResult.
  virtual void OnSubmitted(std::vector<std::string> job_ids) { (void)job_ids; }

  // Guarded by the runtime's mutex:
  // Every id asked for, answered or not, so that each is answered once.
  absl::flat_hash_set<std::string> asked;
  // Ids registered and not yet answered.
  absl::flat_hash_set<std::string> watching;
  // Unwatch was called: nothing more goes to it.
  bool ended = false;
};

class SchedulerRuntime final : private SchedulerListener {
 public:
  struct Options {
    SchedulerOptions scheduler;
    absl::Duration heartbeat_interval = absl::Seconds(5);
    // Hears every submission and finished job (nullptr: nothing does).
    // REQUIRES: outlives the runtime.
    JobEvents* events = nullptr;
  };

  SchedulerRuntime(const Clock* clock, std::unique_ptr<Store> store, Options options);
  ~SchedulerRuntime() override;

  // Each call acts for `caller`: jobs it submits are its own, and it sees,
  // waits on and cancels only its own jobs unless it is an admin; another
  // identity's job is kPermissionDenied.
  absl::StatusOr<std::vector<std::string>> Submit(std::vector<v1::JobSpec> specs,
                                                  const Identity& caller);
  // Cancels all the jobs or, if one is unknown or another identity's, none;
  // one store write for all of them.
  absl::StatusOr<std::vector<v1::JobStatus>> Cancel(const std::vector<std::string>& job_ids,
                                                    const Identity& caller);
  absl::StatusOr<v1::JobStatus> Status(const std::string& job_id, const Identity& caller);
  std::vector<v1::JobStatus> ListJobs(v1::JobState state, size_t limit, const Identity& caller);
  // A page of `listing` (newest first, see ListJobPage) of the caller's jobs
  // (an admin's: everyone's), before the job `before_job_id` (empty: from
  // the newest). A page before a job that is gone is empty.
  struct JobStatusPage {
    std::vector<v1::JobStatus> jobs;
    std::string next_before_job_id;  // empty: no older job left
  };
  absl::StatusOr<JobStatusPage> ListJobPage(JobListing listing, const std::string& before_job_id,
                                            const Identity& caller);
  std::vector<v1::WorkerStatus> ListWorkers();
  v1::GetStatsResponse Stats();
  std::vector<QueueDepth> QueueDepths();

  // The job's result if it is finished, now handed to a client (so it may be
  // erased once the result TTL passes). Otherwise nullopt, and when
  // `waiter` is given the result goes to it once the job finishes (until
  // Unwatch(waiter)). kNotFound for an unknown id.
  // The job's result if it is finished, for a look (the HTTP API): unlike
  // WaitForResult, it leaves the result unfetched, so a look never lets the
  // result be erased before its owner got it.
  absl::StatusOr<std::optional<v1::JobResult>> PeekResult(const std::string& job_id,
                                                          const Identity& caller);
  absl::StatusOr<std::optional<v1::JobResult>> WaitForResult(
      const std::string& job_id, const Identity& caller,
      const std::shared_ptr<ResultSubscription>& waiter);

  // Delivers each job's result to `watcher` once it is finished (at once if
  // it already is; a NOT_FOUND result for an unknown id, PERMISSION_DENIED
  // for another identity's job). An id `watcher` asked for before is
  // skipped.
  void Watch(const std::shared_ptr<ResultSubscription>& watcher,
             const std::vector<std::string>& ids, const Identity& caller);
  // Submits `specs` as Submit does and watches each job for `watcher` as
  // Watch does, without waiting for the store: `watcher` hears OnSubmitted
  // once the store holds them, and a refused job as an error result (state
  // JOB_STATE_UNSPECIFIED). When a batch is refused for what one of its jobs
  // holds, each job is submitted alone, so that only the bad ones are refused.
  void SubmitAndWatch(const std::shared_ptr<ResultSubscription>& watcher,
                      const google::protobuf::RepeatedPtrField<v1::JobSpec>& specs,
                      const Identity& caller);
  // Nothing more goes to `watcher` once this returns.
  void Unwatch(const std::shared_ptr<ResultSubscription>& watcher);

  // A worker node stream opened: registers the node, sends its welcome and
  // its first assignments on `stream`, which is used until DisconnectWorker.
  // kAlreadyExists when another node process holds the name
  // (Scheduler::CheckNewWorker); `stream` is then not used.
  absl::StatusOr<WorkerId> ConnectWorker(WorkerInfo info, std::shared_ptr<WorkerConnection> stream,
                                         const Identity& caller);
  // Credits, results and heartbeats from a connected node.
  void HandleWorkerMessage(WorkerId worker, const v1::WorkerMessage& message);
  // The node's stream ended; its running jobs are requeued. Nothing more
  // goes to its WorkerConnection once this returns.
  void DisconnectWorker(WorkerId worker);
  // Ends the streams of worker nodes whose credential `still_valid` no
  // longer accepts (its token was revoked); their jobs go elsewhere as when
  // a node disconnects.
  void EndRevokedWorkerStreams(const std::function<bool(const Identity&)>& still_valid);
  // The scheduler is stopping: refuse Submits, and keep the jobs of nodes
  // whose streams now end as they are (running), for the next start.
  void BeginShutdown();

 private:
  struct WorkerStream {
    std::shared_ptr<WorkerConnection> connection;
    Identity caller;  // the credential it connected with
    bool acks_results = false;  // the node waits for acked_job_ids
  };
  // Jobs a watcher submitted, to name to it once store write `write` is
  // durable.
  struct PendingSubmit {
    uint64_t write = 0;
    std::shared_ptr<ResultSubscription> watcher;
    std::vector<std::string> job_ids;
  };
  // Results from a node to acknowledge once store write `write` is durable.
  struct PendingAck {
    uint64_t write = 0;
    WorkerId worker = kNoWorker;
    std::vector<std::string> job_ids;
  };

  // SchedulerListener; called with mu_ held.
  void OnAssign(WorkerId worker, std::vector<v1::Assignment> assignments) override;
  void OnCancelRunning(WorkerId worker, const std::string& job_id) override;
  void OnFinished(const Job& job, uint64_t write) override;
  void OnWorkerLost(WorkerId worker) override;
  void OnRetry(const Job& job) override;

  // Submit's admission: the audit line, and the core's answer.
  absl::StatusOr<std::vector<std::string>> SubmitLocked(std::vector<v1::JobSpec> specs,
                                                        const Identity& caller)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Watch's registration of each id.
  void WatchLocked(const std::shared_ptr<ResultSubscription>& watcher,
                   const std::vector<std::string>& ids, const Identity& caller)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // Store write `write` and all before it are durable (commit thread).
  void OnDurable(uint64_t write);
  // Tells the node its results are recorded, or queues that for when store
  // write `write` is durable.
  void AcknowledgeResults(WorkerId worker, uint64_t write, std::vector<std::string> job_ids)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Hands a durable result to the Watch streams and Get calls waiting for it.
  void Deliver(const v1::JobResult& result) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Finished and durable: its result may be handed out.
  bool Deliverable(const Job& job) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void RunTimers();

  v1::JobStatus ToJobStatus(const Job& job) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // A copy of the job, if it exists and `caller` may see it; the store's
  // error if it cannot read the job.
  absl::StatusOr<Job> FindOwnedJob(const std::string& job_id, const Identity& caller) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const Clock* const clock_;
  const Options options_;
  const absl::Time started_;

  absl::Mutex mu_;
  std::unique_ptr<Store> store_ ABSL_GUARDED_BY(mu_);
  Scheduler scheduler_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<WorkerId, WorkerStream> worker_streams_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, std::vector<std::shared_ptr<ResultSubscription>>> watchers_
      ABSL_GUARDED_BY(mu_);
  // Results recorded but not yet durable, in write order, and their ids.
  std::deque<std::pair<uint64_t, v1::JobResult>> not_durable_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_set<std::string> not_durable_ids_ ABSL_GUARDED_BY(mu_);
  // Acknowledgements waiting for their write to be durable, in write order.
  std::deque<PendingAck> pending_acks_ ABSL_GUARDED_BY(mu_);
  std::deque<PendingSubmit> pending_submits_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  bool shutting_down_ ABSL_GUARDED_BY(mu_) = false;
  absl::CondVar timers_changed_;
  std::thread timer_thread_;
};

}  // namespace netpool

#endif  // NETPOOL_SERVER_SCHEDULER_RUNTIME_H_
