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
#include "netpool/v1/worker.pb.h"
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
// At most this many jobs are written to one process at a time...
constexpr size_t kPipelineDepth = 8;
// ...in at most this many bytes of frames, which any pipe holds: writing to
// a busy process never blocks the pool thread.
constexpr size_t kPipelineBytes = 4096;

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
    std::vector<v1::JobResult> results;
    for (const std::string& job_id : cancels) CancelJob(job_id, &results);
    // After the cancels: a Drop that returned has seen every Cancel made
    // before it.
    if (!drops.empty()) {
      absl::MutexLock lock(&mutex_);
      drops_done_ = drop_ticket;
    }
    SpawnMissing();
    Dispatch(&results);
    // Before PollOnce, which may wait as long as the jobs run.
    if (options_.observer != nullptr) ObserveProcesses();
    PollOnce(&results);
    if (options_.observer != nullptr) {
      for (const v1::JobResult& result : results) options_.observer->OnJobEnded(result.state());
    }
    if (!results.empty()) on_results_(std::move(results));
  }
  Shutdown();
}

void ProcessPool::ObserveProcesses() {
  int busy = 0;
  int idle = 0;
  for (const Process& process : processes_) {
    if (process.retiring) continue;
    ++(process.busy() ? busy : idle);
  }
  if (busy == observed_busy_ && idle == observed_idle_) return;
  observed_busy_ = busy;
  observed_idle_ = idle;
  options_.observer->OnProcesses(busy, idle);
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
  // Idle processes first, one job each: no job waits inside a busy process
  // while another process is idle.
  for (Process& process : processes_) {
    if (queue_.empty()) return;
    if (!process.busy() && Room(process) > 0) Send(process, 1, results);
  }
  std::vector<Process*> open;
  for (Process& process : processes_) {
    if (process.busy() && Room(process) > 0) open.push_back(&process);
  }
  if (open.empty() || queue_.empty()) return;
  // Spread evenly, so that one process does not hold a queue while the
  // others run dry.
  const size_t share = (queue_.size() + open.size() - 1) / open.size();
  for (Process* process : open) Send(*process, std::min(share, Room(*process)), results);
}

size_t ProcessPool::Room(const Process& process) const {
  if (process.retiring || process.gone || process.killed) return 0;
  if (!process.busy()) return 1;
  // A fresh process has yet to show that it starts: its initializer may
  // fail, and jobs queued in it would fail along.
  const std::optional<absl::Duration> run_time = RecentRunTime();
  if (process.tasks_done == 0 || !run_time.has_value() || *run_time >= options_.pipeline_below) {
    return 0;
  }
  size_t room = kPipelineDepth - std::min(kPipelineDepth, process.tasks.size());
  if (options_.max_tasks_per_child > 0) {
    const size_t left = options_.max_tasks_per_child - process.tasks_done;
    room = std::min(room, left - std::min(left, process.tasks.size()));
  }
  return room;
}

void ProcessPool::Send(Process& process, size_t jobs, std::vector<v1::JobResult>* results) {
  std::string frames;
  std::vector<Task> sent;
  size_t bytes = process.task_bytes;
  while (!queue_.empty() && sent.size() < jobs) {
    v1::ProcessTask task;
    *task.mutable_assignment() = std::move(queue_.front());
    const size_t before = frames.size();
    absl::Status encoded = AppendFrame(task, &frames);
    if (!encoded.ok()) {
      queue_.pop_front();
      results->push_back(Finished(task.assignment().job_id(), v1::FAILED, encoded));
      continue;
    }
    const size_t frame_bytes = frames.size() - before;
    if ((process.busy() || !sent.empty()) && bytes + frame_bytes > kPipelineBytes) {
      frames.resize(before);
      queue_.front() = std::move(*task.mutable_assignment());
      break;
    }
    queue_.pop_front();
    bytes += frame_bytes;
    sent.push_back({std::move(*task.mutable_assignment()), frame_bytes});
  }
  if (sent.empty()) return;
  absl::Status written = WriteFrames(process.task_fd.get(), frames);
  if (!written.ok()) {
    // The process died or stopped reading before it had the frames, so
    // these jobs never started there: other processes take them, and this
    // one is replaced.
    spdlog::debug("cannot send {} jobs to worker process {}: {}", sent.size(), process.pid,
                  written.ToString());
    for (auto it = sent.rbegin(); it != sent.rend(); ++it) {
      queue_.push_front(std::move(it->assignment));
    }
    process.retiring = true;
    process.kill_at = MonotonicNow();
    KillTree(process);
    return;
  }
  const bool was_idle = !process.busy();
  process.task_bytes = bytes;
  std::move(sent.begin(), sent.end(), std::back_inserter(process.tasks));
  if (was_idle) StartNext(process);
}

void ProcessPool::StartNext(Process& process) {
  const Task& next = process.tasks.front();
  process.started = MonotonicNow();
  const double timeout = next.assignment.timeout_seconds();
  process.deadline =
      timeout > 0 ? process.started + absl::Seconds(timeout) : absl::InfiniteFuture();
  // Cancelled or dropped while it waited in the process: it must not run.
  if (next.ending != Ending::kNone) {
    process.killed = true;
    KillTree(process);
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
    for (Task& task : process.tasks) {
      if (task.assignment.job_id() != job_id || task.ending != Ending::kNone) continue;
      if (&task == &process.tasks.front()) {
        KillWhileBusy(process, Ending::kCancelled);
      } else {
        task.ending = Ending::kCancelled;  // StartNext ends it when its turn comes
      }
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
    for (Task& task : process.tasks) {
      if (!dropped(task.assignment.job_id())) continue;
      if (&task == &process.tasks.front() && task.ending == Ending::kNone) {
        KillWhileBusy(process, Ending::kAbandoned);
      }
      task.ending = Ending::kAbandoned;
    }
  }
}

void ProcessPool::KillWhileBusy(Process& process, Ending ending) {
  process.tasks.front().ending = ending;
  process.killed = true;
  KillTree(process);
}

std::optional<v1::JobResult> ProcessPool::EndedResult(const Task& task) {
  const std::string& job_id = task.assignment.job_id();
  switch (task.ending) {
    case Ending::kCancelled:
      return Cancelled(job_id);
    case Ending::kTimedOut:
      return Finished(job_id, v1::FAILED,
                      absl::DeadlineExceededError(absl::StrCat(
                          "timed out after ", task.assignment.timeout_seconds(), " s")));
    case Ending::kMalformedResult:
      return WorkerFailure(job_id, absl::InternalError("worker process sent a malformed result"));
    case Ending::kAbandoned:
    case Ending::kNone:
      break;
  }
  return std::nullopt;
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
    if (process.running()) wake_at = std::min(wake_at, process.deadline);
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
    if (process.running() && now >= process.deadline) {
      KillWhileBusy(process, Ending::kTimedOut);
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
      if (process.busy() && process.tasks.front().ending == Ending::kNone) {
        process.tasks.front().ending = Ending::kMalformedResult;
      }
      process.gone = true;
      return;
    }
    if (!*parsed) return;
    if (frame.result().job_id().empty()) {  // it could not start; the process exits
      process.startup_error = frame.result().error().message();
      continue;
    }
    if (!process.busy() || frame.result().job_id() != process.tasks.front().assignment.job_id()) {
      continue;
    }
    Task done = std::move(process.tasks.front());
    process.tasks.pop_front();
    process.task_bytes -= done.frame_bytes;
    if (done.ending == Ending::kNone) {
      results->push_back(std::move(*frame.mutable_result()));
      const absl::Duration ran_for = MonotonicNow() - process.started;
      if (options_.observer != nullptr) {
        options_.observer->OnTaskRan(done.assignment.function(), ran_for);
      }
      // A fresh process's first job also waited for the process to start.
      if (process.tasks_done > 0) {
        const int64_t ran = absl::ToInt64Nanoseconds(ran_for);
        const int64_t recent = recent_run_nanos_.load(std::memory_order_relaxed);
        recent_run_nanos_.store(recent < 0 ? ran : recent - recent / 8 + ran / 8,
                                std::memory_order_relaxed);
      }
    } else if (std::optional<v1::JobResult> ended = EndedResult(done)) {
      // It finished before the pool's kill took effect; it ends as decided.
      results->push_back(*std::move(ended));
    }
    ++process.tasks_done;
    if (process.busy()) {
      StartNext(process);
    } else {
      process.deadline = absl::InfiniteFuture();
      if (options_.max_tasks_per_child > 0 &&
          process.tasks_done >= options_.max_tasks_per_child) {
        Retire(process);
      }
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
    for (const Task& task : process.tasks) {
      if (task.ending != Ending::kAbandoned) {
        results->push_back(WorkerFailure(task.assignment.job_id(), failure));
      }
    }
    GiveUp(process.pid, failure);
    return;
  }
  if (options_.observer != nullptr && !process.retiring && !process.killed) {
    options_.observer->OnProcessDied();
  }
  if (!process.busy()) {
    if (process.retiring || process.killed) return;
    spdlog::warn("worker process {} died while idle: {}", process.pid, DescribeDeath(status));
    if (process.tasks_done == 0) next_spawn_attempt_ = MonotonicNow() + kSpawnRetry;
    return;
  }
  // Only the first job can have been running on its own account. The others
  // had not begun, or began only because the pool's kill, meant for a job
  // ahead of them, came late: they run again, with no failure counted.
  std::vector<v1::Assignment> again;
  for (Task& task : process.tasks) {
    if (task.ending != Ending::kNone) {
      if (std::optional<v1::JobResult> ended = EndedResult(task)) {
        results->push_back(*std::move(ended));
      }
    } else if (&task == &process.tasks.front() && !process.killed) {
      spdlog::warn("worker process {} died running job {}: {}", process.pid,
                   task.assignment.job_id(), DescribeDeath(status));
      if (options_.observer != nullptr) {
        options_.observer->OnTaskRan(task.assignment.function(), MonotonicNow() - process.started);
      }
      results->push_back(WorkerFailure(
          task.assignment.job_id(),
          absl::AbortedError(absl::StrCat("worker process died: ", DescribeDeath(status)))));
    } else {
      again.push_back(std::move(task.assignment));
    }
  }
  queue_.insert(queue_.begin(), std::make_move_iterator(again.begin()),
                std::make_move_iterator(again.end()));
  process.tasks.clear();
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
    for (Task& task : process.tasks) task.ending = Ending::kAbandoned;
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
