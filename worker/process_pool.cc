#include "worker/process_pool.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/monotonic_clock.h"
#include "common/value_proto.h"
#include "spdlog/spdlog.h"
#include "worker/poll_timeout.h"
#include "worker/process_launcher.h"
#include "worker/process_session.h"
#include "worker/signal_name.h"

namespace netpool {
namespace {

// How long a process that served its max tasks may take to exit by itself.
constexpr absl::Duration kRetireGrace = absl::Seconds(2);
// Pause before spawning again when spawning failed or a fresh process died
// before its first job, so that a broken executable does not spin the node.
constexpr absl::Duration kSpawnRetry = absl::Seconds(1);

// The cgroup of each pool is "netpool-PID-N" under its node's own cgroup.
std::string PoolCgroupName(pid_t node, int pool) {
  return absl::StrCat("netpool-", node, "-", pool);
}

// Pool cgroups whose node is gone, say killed with SIGKILL: what is left in
// them (commands of its jobs, which the kernel killed with none of their
// worker processes) is killed now, and the cgroups removed.
void RemoveCgroupsOfDeadNodes() {
  absl::StatusOr<Cgroup> own = Cgroup::Own();
  if (!own.ok()) return;
  for (const Cgroup& child : own->Children()) {
    const std::string name = child.name();
    std::vector<absl::string_view> parts = absl::StrSplit(name, '-');
    pid_t node = 0;
    int pool = 0;
    if (parts.size() != 3 || !absl::SimpleAtoi(parts[1], &node) ||
        !absl::SimpleAtoi(parts[2], &pool) || name != PoolCgroupName(node, pool) ||
        node <= 0 || ::kill(node, 0) == 0 || errno != ESRCH) {
      continue;
    }
    spdlog::debug("removing cgroup {} of a node that is gone", child.path());
    child.KillAndRemove();
  }
}

std::string DescribeDeath(int wait_status) {
  if (WIFSIGNALED(wait_status)) return DescribeSignal(WTERMSIG(wait_status));
  return absl::StrCat("exit code ", WEXITSTATUS(wait_status));
}

v1::JobResult Finished(const std::string& job_id, v1::JobState state, const absl::Status& error) {
  v1::JobResult result;
  result.set_job_id(job_id);
  result.set_state(state);
  StatusToJobError(error, result.mutable_error());
  return result;
}

v1::JobResult Cancelled(const std::string& job_id) {
  return Finished(job_id, v1::CANCELLED, absl::CancelledError("cancelled"));
}

// The job failed because of its process, not its task: the scheduler may run
// it again elsewhere.
v1::JobResult WorkerFailure(const std::string& job_id, const absl::Status& error) {
  v1::JobResult result = Finished(job_id, v1::FAILED, error);
  result.set_worker_failure(true);
  return result;
}

}  // namespace

ProcessPool::ProcessPool(Options options, ResultsCallback on_results, FailureCallback on_failure)
    : options_(std::move(options)),
      on_results_(std::move(on_results)),
      on_failure_(std::move(on_failure)),
      wake_fd_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {}

ProcessPool::~ProcessPool() { Stop(); }

void ProcessPool::Start() {
  thread_ = std::thread([this] { ThreadMain(); });
}

void ProcessPool::Run(v1::Assignment assignment) {
  bool was_empty;
  {
    absl::MutexLock lock(&mutex_);
    was_empty = inbox_.empty();
    inbox_.push_back(std::move(assignment));
  }
  // A non-empty inbox has a wake-up pending: the pool thread empties the
  // inbox only after it consumed the wake-up that brought it there. One
  // system call per batch of assignments instead of one per job.
  if (was_empty) Wake();
}

void ProcessPool::Cancel(std::string job_id) {
  {
    absl::MutexLock lock(&mutex_);
    cancels_.push_back(std::move(job_id));
  }
  Wake();
}

void ProcessPool::Drop(std::vector<std::string> job_ids) {
  DropRequest request;
  request.job_ids.insert(job_ids.begin(), job_ids.end());
  DropAndWait(std::move(request));
}

void ProcessPool::AbandonAll() {
  DropRequest request;
  request.all = true;
  DropAndWait(std::move(request));
}

void ProcessPool::DropAndWait(DropRequest request) {
  absl::MutexLock lock(&mutex_);
  if (!thread_.joinable() || stopping_) return;
  drops_.push_back(std::move(request));
  int ticket = ++drops_requested_;
  Wake();
  auto done = [this, ticket]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_) {
    return drops_done_ >= ticket || stopping_;
  };
  mutex_.Await(absl::Condition(&done));
}

void ProcessPool::Stop(absl::Duration grace) {
  {
    absl::MutexLock lock(&mutex_);
    if (stopping_) return;
    stopping_ = true;
    grace_ = grace;
  }
  Wake();
  if (thread_.joinable()) thread_.join();
}

void ProcessPool::Wake() {
  uint64_t one = 1;
  (void)!::write(wake_fd_.get(), &one, sizeof(one));
}

void ProcessPool::ThreadMain() {
  // Writing a task to a process that just died raises SIGPIPE on this
  // thread; the failed write is handled, the signal must not kill the node.
  sigset_t sigpipe;
  sigemptyset(&sigpipe);
  sigaddset(&sigpipe, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &sigpipe, nullptr);

  static std::atomic<int> pools{0};
  RemoveCgroupsOfDeadNodes();
  absl::StatusOr<Cgroup> cgroup = Cgroup::Create(nullptr, PoolCgroupName(::getpid(), ++pools));
  if (cgroup.ok()) {
    cgroup_ = *std::move(cgroup);
  } else {
    spdlog::info(
        "no cgroup for the worker processes ({}); a job's processes are killed by session, so "
        "one that calls setsid can outlive its job",
        std::string(cgroup.status().message()));
  }

  while (true) {
    std::vector<std::string> cancels;
    std::vector<DropRequest> drops;
    int drop_ticket = 0;
    {
      absl::MutexLock lock(&mutex_);
      if (stopping_) break;
      std::move(inbox_.begin(), inbox_.end(), std::back_inserter(queue_));
      inbox_.clear();
      cancels.swap(cancels_);
      drops.swap(drops_);
      drop_ticket = drops_requested_;
    }
    // Results of earlier rounds have all gone out through on_results_; from
    // here on, nothing of a dropped job is reported.
    for (const DropRequest& drop : drops) DropJobs(drop);
    if (!drops.empty()) {
      absl::MutexLock lock(&mutex_);
      drops_done_ = drop_ticket;
    }
    std::vector<v1::JobResult> results;
    for (const std::string& job_id : cancels) CancelJob(job_id, &results);
    SpawnMissing();
    Dispatch(&results);
    PollOnce(&results);
    if (!results.empty()) on_results_(std::move(results));
  }
  Shutdown();
}

void ProcessPool::SpawnMissing() {
  int active = std::count_if(processes_.begin(), processes_.end(),
                             [](const Process& p) { return !p.retiring; });
  while (!gave_up_ && active < options_.processes && MonotonicNow() >= next_spawn_attempt_) {
    absl::StatusOr<LaunchedProcess> launched =
        LaunchWorkerProcess(options_.executable, options_.initializer, options_.policy);
    if (!launched.ok()) {
      spdlog::error("{}; retrying in {}", std::string(launched.status().message()),
                    absl::FormatDuration(kSpawnRetry));
      next_spawn_attempt_ = MonotonicNow() + kSpawnRetry;
      return;
    }
    Process& process = processes_.emplace_back();
    process.pid = launched->pid;
    // The process has only just exec'd our executable: nothing it starts
    // was born before it is in the cgroup.
    if (cgroup_.has_value()) {
      process.cgroup = Cgroup::TryCreate(&*cgroup_, absl::StrCat("worker-", process.pid));
      if (process.cgroup.has_value()) {
        if (absl::Status added = process.cgroup->Add(process.pid); !added.ok()) {
          spdlog::debug("{}", std::string(added.message()));
        }
      }
    }
    process.task_fd = std::move(launched->task_fd);
    process.result_fd = std::move(launched->result_fd);
    ++active;
    spdlog::debug("started worker process {}", process.pid);
  }
}

void ProcessPool::Dispatch(std::vector<v1::JobResult>* results) {
  for (Process& process : processes_) {
    if (queue_.empty()) return;
    if (process.busy || process.retiring || process.gone) continue;
    v1::ProcessTask task;
    *task.mutable_assignment() = std::move(queue_.front());
    queue_.pop_front();
    const v1::Assignment& assignment = task.assignment();
    absl::Status written = WriteFrame(process.task_fd.get(), task);
    if (absl::IsResourceExhausted(written)) {
      results->push_back(Finished(assignment.job_id(), v1::FAILED, written));
      continue;
    }
    if (!written.ok()) {
      // The process died or stopped reading before it had the whole frame,
      // so the job never started there: another process takes it, and this
      // one is replaced.
      spdlog::debug("cannot send job {} to worker process {}: {}", assignment.job_id(),
                    process.pid, written.ToString());
      queue_.push_front(std::move(*task.mutable_assignment()));
      process.retiring = true;
      process.kill_at = MonotonicNow();
      KillTree(process);
      continue;
    }
    process.busy = true;
    process.job_id = assignment.job_id();
    process.timeout_seconds = assignment.timeout_seconds();
    process.started = MonotonicNow();
    process.deadline = assignment.timeout_seconds() > 0
                           ? process.started + absl::Seconds(assignment.timeout_seconds())
                           : absl::InfiniteFuture();
    process.ending = Process::Ending::kNone;
  }
}

void ProcessPool::CancelJob(const std::string& job_id, std::vector<v1::JobResult>* results) {
  auto queued = std::find_if(queue_.begin(), queue_.end(),
                             [&](const v1::Assignment& a) { return a.job_id() == job_id; });
  if (queued != queue_.end()) {
    queue_.erase(queued);
    results->push_back(Cancelled(job_id));
    return;
  }
  for (Process& process : processes_) {
    if (process.busy && process.job_id == job_id && process.ending == Process::Ending::kNone) {
      KillWhileBusy(process, Process::Ending::kCancelled);
      return;
    }
  }
}

void ProcessPool::DropJobs(const DropRequest& request) {
  auto dropped = [&](const std::string& job_id) {
    return request.all || request.job_ids.count(job_id) > 0;
  };
  queue_.erase(std::remove_if(queue_.begin(), queue_.end(),
                              [&](const v1::Assignment& a) { return dropped(a.job_id()); }),
               queue_.end());
  for (Process& process : processes_) {
    if (!process.busy || !dropped(process.job_id)) continue;
    if (process.ending == Process::Ending::kNone) KillTree(process);
    process.ending = Process::Ending::kAbandoned;
  }
}

void ProcessPool::KillWhileBusy(Process& process, Process::Ending ending) {
  process.ending = ending;
  KillTree(process);
}

void ProcessPool::KillTree(const Process& process) {
  KillSession(process.pid);
  if (process.cgroup.has_value()) process.cgroup->Kill();
}

void ProcessPool::Retire(Process& process) {
  spdlog::debug("worker process {} served {} jobs; replacing it", process.pid, process.tasks_done);
  process.retiring = true;
  process.task_fd.Reset();  // end of input: the process exits by itself
  process.kill_at = MonotonicNow() + kRetireGrace;
}

void ProcessPool::PollOnce(std::vector<v1::JobResult>* results) {
  absl::Time wake_at = absl::InfiniteFuture();
  int active = 0;
  std::vector<pollfd> fds = {{wake_fd_.get(), POLLIN, 0}};
  std::vector<Process*> owners = {nullptr};
  for (Process& process : processes_) {
    if (process.busy && process.ending == Process::Ending::kNone) {
      wake_at = std::min(wake_at, process.deadline);
    }
    if (process.retiring) wake_at = std::min(wake_at, process.kill_at);
    if (!process.retiring) ++active;
    fds.push_back({process.result_fd.get(), POLLIN, 0});
    owners.push_back(&process);
  }
  if (active < options_.processes) wake_at = std::min(wake_at, next_spawn_attempt_);
  // With results already waiting to be reported, only look, do not wait.
  int timeout_ms = results->empty() ? PollTimeoutMs(wake_at) : 0;
  if (::poll(fds.data(), fds.size(), timeout_ms) < 0 && errno != EINTR) {
    spdlog::error("worker process pool: poll: {}", strerror(errno));
  }
  if (fds[0].revents != 0) {
    uint64_t count;
    (void)!::read(wake_fd_.get(), &count, sizeof(count));
  }
  for (size_t i = 1; i < fds.size(); ++i) {
    if (fds[i].revents != 0) ReadResults(*owners[i], results);
  }

  absl::Time now = MonotonicNow();
  for (auto it = processes_.begin(); it != processes_.end();) {
    Process& process = *it;
    if (process.busy && process.ending == Process::Ending::kNone && now >= process.deadline) {
      KillWhileBusy(process, Process::Ending::kTimedOut);
    }
    if (process.retiring && now >= process.kill_at) {
      KillTree(process);
      process.kill_at = absl::InfiniteFuture();
    }
    if (process.gone) {
      Reap(process, results);
      it = processes_.erase(it);
    } else {
      ++it;
    }
  }
}

std::optional<absl::Duration> ProcessPool::RecentRunTime() const {
  const int64_t nanos = recent_run_nanos_.load(std::memory_order_relaxed);
  if (nanos < 0) return std::nullopt;
  return absl::Nanoseconds(nanos);
}

void ProcessPool::ReadResults(Process& process, std::vector<v1::JobResult>* results) {
  char buffer[64 * 1024];
  while (true) {
    ssize_t n = ::read(process.result_fd.get(), buffer, sizeof(buffer));
    if (n > 0) {
      process.decoder.Append(buffer, static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) break;
    process.gone = true;  // end of stream: the process has exited
    break;
  }
  while (true) {
    v1::ProcessResult frame;
    absl::StatusOr<bool> parsed = process.decoder.Next(&frame);
    if (!parsed.ok()) {
      spdlog::error("worker process {} sent a malformed result: {}", process.pid,
                    std::string(parsed.status().message()));
      if (process.busy && process.ending == Process::Ending::kNone) {
        process.ending = Process::Ending::kMalformedResult;
      }
      process.gone = true;
      return;
    }
    if (!*parsed) return;
    if (frame.result().job_id().empty()) {  // it could not start; the process exits
      process.startup_error = frame.result().error().message();
      continue;
    }
    if (!process.busy || process.ending != Process::Ending::kNone ||
        frame.result().job_id() != process.job_id) {
      continue;  // the job was cancelled or abandoned meanwhile
    }
    results->push_back(std::move(*frame.mutable_result()));
    // A fresh process's first job also waited for the process to start.
    if (process.tasks_done > 0) {
      const int64_t ran = absl::ToInt64Nanoseconds(MonotonicNow() - process.started);
      const int64_t recent = recent_run_nanos_.load(std::memory_order_relaxed);
      recent_run_nanos_.store(recent < 0 ? ran : recent - recent / 8 + ran / 8,
                              std::memory_order_relaxed);
    }
    process.busy = false;
    process.job_id.clear();
    process.deadline = absl::InfiniteFuture();
    ++process.tasks_done;
    if (options_.max_tasks_per_child > 0 && process.tasks_done >= options_.max_tasks_per_child) {
      Retire(process);
    }
  }
}

void ProcessPool::Reap(Process& process, std::vector<v1::JobResult>* results) {
  // Whatever is left of its tree, e.g. commands it started; before the
  // process is reaped, while its pid still names its session.
  KillTree(process);
  int status = 0;
  while (::waitpid(process.pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (process.cgroup.has_value()) process.cgroup->KillAndRemove();
  if (process.startup_error.has_value()) {
    absl::Status failure = absl::FailedPreconditionError(*process.startup_error);
    // A job written to the process never started; the scheduler may run it
    // on another node.
    if (process.busy && process.ending != Process::Ending::kAbandoned) {
      results->push_back(WorkerFailure(process.job_id, failure));
    }
    GiveUp(process.pid, failure);
    return;
  }
  if (!process.busy) {
    if (process.retiring) return;
    spdlog::warn("worker process {} died while idle: {}", process.pid, DescribeDeath(status));
    if (process.tasks_done == 0) next_spawn_attempt_ = MonotonicNow() + kSpawnRetry;
    return;
  }
  switch (process.ending) {
    case Process::Ending::kAbandoned:
      return;
    case Process::Ending::kCancelled:
      results->push_back(Cancelled(process.job_id));
      return;
    case Process::Ending::kTimedOut:
      results->push_back(Finished(process.job_id, v1::FAILED,
                                  absl::DeadlineExceededError(absl::StrCat(
                                      "timed out after ", process.timeout_seconds, " s"))));
      return;
    case Process::Ending::kMalformedResult:
      results->push_back(WorkerFailure(
          process.job_id, absl::InternalError("worker process sent a malformed result")));
      return;
    case Process::Ending::kNone:
      break;
  }
  std::string message = absl::StrCat("worker process died: ", DescribeDeath(status));
  spdlog::warn("worker process {} died running job {}: {}", process.pid, process.job_id,
               DescribeDeath(status));
  results->push_back(WorkerFailure(process.job_id, absl::AbortedError(message)));
}

void ProcessPool::GiveUp(pid_t pid, const absl::Status& failure) {
  if (gave_up_) return;
  gave_up_ = true;
  spdlog::error("worker process {}: {}; starting no more worker processes", pid,
                std::string(failure.message()));
  if (on_failure_) on_failure_(failure);
}

void ProcessPool::Shutdown() {
  absl::Duration grace;
  {
    absl::MutexLock lock(&mutex_);
    grace = grace_;
  }
  // Nothing is reported from here on: every process ends quietly.
  for (Process& process : processes_) {
    if (process.busy) process.ending = Process::Ending::kAbandoned;
    process.retiring = true;
    process.task_fd.Reset();
    ::kill(-process.pid, SIGTERM);
  }
  absl::Time deadline = MonotonicNow() + grace;
  std::vector<v1::JobResult> dropped;
  while (!processes_.empty() && MonotonicNow() < deadline) {
    std::vector<pollfd> fds;
    for (Process& process : processes_) fds.push_back({process.result_fd.get(), POLLIN, 0});
    ::poll(fds.data(), fds.size(), PollTimeoutMs(deadline));
    size_t i = 0;
    for (Process& process : processes_) {
      if (fds[i++].revents != 0) ReadResults(process, &dropped);
    }
    for (auto it = processes_.begin(); it != processes_.end();) {
      if (it->gone) {
        Reap(*it, &dropped);
        it = processes_.erase(it);
      } else {
        ++it;
      }
    }
  }
  for (Process& process : processes_) Reap(process, &dropped);  // SIGKILLs the rest
  processes_.clear();
  if (cgroup_.has_value()) cgroup_->KillAndRemove();
}

}  // namespace netpool
