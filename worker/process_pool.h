// ProcessPool keeps a node's warm worker processes and runs assignments on
// them, one job per process at a time; jobs wait in a queue while all are
// busy. One pool thread spawns the processes (their PR_SET_PDEATHSIG is tied
// to that thread, which lives as long as the pool), writes tasks, polls the
// result pipes and enforces timeouts. A process that dies, times out, is
// cancelled or has served max_tasks_per_child jobs is replaced by a fresh one;
// each fresh process applies the policy and runs the initializer, if any,
// before its first job.
//
// While jobs run short (Options::pipeline_below) and every process is busy,
// a process is also handed the next few queued jobs, in one write, to run
// right after its current one: it never waits a round trip to the node
// between short jobs. Such a job's timeout starts when it begins. A queued
// job that is cancelled or dropped ends its process when its turn comes
// (the jobs ahead of it finish); when a process dies, the job it was running
// fails as before and those that had not begun go back to the queue, with no
// failure counted.
//
// A job owns its process tree: each process leads a session of its own and,
// where the system lets the pool make cgroups (cgroup v2, writable, as root
// on most hosts), sits in a cgroup of its own. Killing a process for a
// cancel, a timeout, a drop or Stop, and reaping one that died, kills its
// session and cgroup: everything the job started, even what called setsid
// when there is a cgroup (without one, such a process can survive).
//
//   ProcessPool pool(options, [](std::vector<v1::JobResult> done) {...});
//   pool.Start();
//   pool.Run(assignment);  // its JobResult arrives through the callback
//
// Every job given to Run is reported exactly once (SUCCEEDED, FAILED or
// CANCELLED) unless Drop, AbandonAll or Stop drops it. A job that failed
// because its process died or broke is marked worker_failure.
#ifndef NETPOOL_WORKER_PROCESS_POOL_H_
#define NETPOOL_WORKER_PROCESS_POOL_H_

#include <atomic>
#include <deque>
#include <functional>
#include <list>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "netpool/v1/netpool.pb.h"
#include "absl/status/status.h"
#include "netpool/v1/worker.pb.h"
#include "worker/cgroup.h"
#include "worker/frame.h"
#include "worker/pool_observer.h"
#include "worker/process_policy.h"
#include "worker/unique_fd.h"
#include "worker/worker_process.h"

namespace netpool {

class ProcessPool {
 public:
  struct Options {
    int processes = 1;
    int max_tasks_per_child = 0;  // 0: a process serves any number of jobs
    std::string executable = "/proc/self/exe";
    Initializer initializer;  // REQUIRES: CheckInitializer(initializer).ok()
    ProcessPolicy policy;     // what each worker process may do; see process_policy.h
    // Jobs are pipelined (see above) while they recently ran shorter than
    // this. Longer ones gain little (a round trip to the node takes tens of
    // microseconds), and one that runs long holds up those queued behind it.
    absl::Duration pipeline_below = absl::Milliseconds(2);
    // Told what the processes do (see pool_observer.h); may be null.
    // REQUIRES: outlives the pool.
    PoolObserver* observer = nullptr;
  };
  // Called on the pool thread with every job that finished in one poll
  // round, so that the caller can send them on in one message. It must not
  // call back into the pool.
  using ResultsCallback = std::function<void(std::vector<v1::JobResult> results)>;
  // Called once on the pool thread when the pool gives up: a worker process
  // could not start because its initializer failed (kFailedPrecondition,
  // "initializer FN failed: ...") or its policy could not be applied
  // (kFailedPrecondition, "cannot apply the node's worker process policy:
  // ..."). Rather than respawn forever, the pool then starts no more
  // processes. It must not call back into the pool.
  using FailureCallback = std::function<void(const absl::Status& failure)>;

  ProcessPool(Options options, ResultsCallback on_results, FailureCallback on_failure = nullptr);
  ProcessPool(const ProcessPool&) = delete;
  ProcessPool& operator=(const ProcessPool&) = delete;
  ~ProcessPool();  // Stop()s

  // Starts the pool thread, which spawns the processes.
  void Start();

  // Queues a job for the next idle process.
  void Run(v1::Assignment assignment);

  // Cancels a queued or running job (a running job's process is killed); the
  // job is reported CANCELLED. An id the pool does not hold is ignored.
  void Cancel(std::string job_id);

  // Drops these queued or running jobs without reporting them (running ones
  // are killed). Returns once done: no result of a dropped job is reported
  // afterwards, and every earlier Cancel has been taken. Ids the pool does not
  // hold are ignored.
  void Drop(std::vector<std::string> job_ids);

  // Drops every queued and running job, as Drop does.
  void AbandonAll();

  // Stops the processes (SIGTERM to each, SIGKILL after `grace`) and the
  // pool thread. Jobs still queued or running are not reported.
  void Stop(absl::Duration grace = absl::Seconds(2));

  // How long recent jobs ran on a process (a moving average, from dispatch to
  // result, leaving out each process's first job, which also waited for the
  // process to start); nullopt until such a job has finished.
  std::optional<absl::Duration> RecentRunTime() const;

 private:
  // Why the pool ended a job on a process (by killing the process, or, for a
  // job still waiting in it, ahead of its turn); decides what is reported.
  enum class Ending { kNone, kTimedOut, kCancelled, kAbandoned, kMalformedResult };

  // A job written to a process. It runs once every job written to the
  // process before it has ended.
  struct Task {
    v1::Assignment assignment;  // kept to run it elsewhere should it never start here
    size_t frame_bytes = 0;
    Ending ending = Ending::kNone;
  };

  // A worker process as the pool thread tracks it.
  // Times here are on MonotonicNow(): a job's timeout is not moved by a
  // change of the wall clock.
  struct Process {
    pid_t pid = 0;
    UniqueFd task_fd;
    UniqueFd result_fd;
    FrameDecoder decoder;
    int tasks_done = 0;
    // Its jobs not yet ended, in order: the first runs, the others (short
    // jobs, see Room) wait in the process.
    std::deque<Task> tasks;
    size_t task_bytes = 0;                         // the frames of `tasks`
    absl::Time started;                            // when the first of `tasks` began
    absl::Time deadline = absl::InfiniteFuture();  // the first's, when it has a timeout
    bool killed = false;  // by the pool, because of a job it ended
    bool retiring = false;                        // served its tasks; task pipe closed, exiting
    absl::Time kill_at = absl::InfiniteFuture();  // when retiring
    bool gone = false;                            // end of its result pipe seen: to be reaped
    std::optional<std::string> startup_error;  // why it could not start (see worker_process.h)
    std::optional<Cgroup> cgroup;              // its tree's, where the pool has one

    bool busy() const { return !tasks.empty(); }
    // Its first job runs on its own account: the pool has not ended it.
    bool running() const { return busy() && !killed && tasks.front().ending == Ending::kNone; }
  };

  // Jobs to drop: all of them, or those named.
  struct DropRequest {
    bool all = false;
    std::set<std::string> job_ids;
  };

  void ThreadMain();
  void SpawnMissing();
  void Dispatch(std::vector<v1::JobResult>* results);
  // How many more jobs `process` may take now.
  size_t Room(const Process& process) const;
  // Writes up to `jobs` queued jobs to `process` in one write.
  void Send(Process& process, size_t jobs, std::vector<v1::JobResult>* results);
  // The first of the process's jobs has begun: its timeout starts.
  void StartNext(Process& process);
  void CancelJob(const std::string& job_id, std::vector<v1::JobResult>* results);
  void DropAndWait(DropRequest request);
  void DropJobs(const DropRequest& request);
  void GiveUp(pid_t pid, const absl::Status& failure);
  void PollOnce(std::vector<v1::JobResult>* results);
  void ReadResults(Process& process, std::vector<v1::JobResult>* results);
  void Reap(Process& process, std::vector<v1::JobResult>* results);
  void KillWhileBusy(Process& process, Ending ending);
  // What is reported for a job the pool ended; nullopt for a dropped one.
  static std::optional<v1::JobResult> EndedResult(const Task& task);
  // SIGKILLs the process and everything it started: its session and cgroup.
  void KillTree(const Process& process);
  void Retire(Process& process);
  void Shutdown();
  void Wake();
  // Tells the observer the busy and idle processes if they changed.
  void ObserveProcesses();

  // Constant after construction.
  const Options options_;
  const ResultsCallback on_results_;
  const FailureCallback on_failure_;
  UniqueFd wake_fd_;  // eventfd that interrupts the pool thread's poll()

  absl::Mutex mutex_;
  std::deque<v1::Assignment> inbox_ ABSL_GUARDED_BY(mutex_);
  std::vector<std::string> cancels_ ABSL_GUARDED_BY(mutex_);
  std::vector<DropRequest> drops_ ABSL_GUARDED_BY(mutex_);
  int drops_requested_ ABSL_GUARDED_BY(mutex_) = 0;  // tickets, so Drop can wait for its own
  int drops_done_ ABSL_GUARDED_BY(mutex_) = 0;
  bool stopping_ ABSL_GUARDED_BY(mutex_) = false;
  absl::Duration grace_ ABSL_GUARDED_BY(mutex_);

  // Owned by the pool thread.
  std::list<Process> processes_;
  std::deque<v1::Assignment> queue_;
  absl::Time next_spawn_attempt_ = absl::InfinitePast();
  bool gave_up_ = false;  // a process could not start: no more processes
  // Holds a cgroup per process, where the system lets the pool make one.
  std::optional<Cgroup> cgroup_;
  int observed_busy_ = -1;  // as last told to the observer
  int observed_idle_ = -1;
  // RecentRunTime in nanoseconds; written by the pool thread, -1 = none yet.
  std::atomic<int64_t> recent_run_nanos_{-1};

  std::thread thread_;
};

}  // namespace netpool

#endif  // NETPOOL_WORKER_PROCESS_POOL_H_
