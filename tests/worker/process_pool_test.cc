// These tests spawn this test binary as real worker processes (its main()
// calls netpool::Init); the functions test.pid, test.crash and test.exit are
// registered there.
#include "worker/process_pool.h"

#include <pwd.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "common/value_proto.h"
#include "gtest/gtest.h"
#include "netpool/v1/worker.pb.h"
#include "tests/support/scratch_dir.h"
#include "tests/support/eventually.h"
#include "tests/support/proc.h"
#include "tests/worker/cgroup_probe.h"
#include "tests/worker/value_printer.h"
#include "worker/frame.h"

namespace netpool {
namespace {

using ::netpool::testing::CgroupsUnavailable;
using ::netpool::testing::FileExists;
using ::netpool::testing::FreshTempPath;

constexpr absl::Duration kWait = absl::Seconds(20);

// Collects what the pool reports and lets a test wait for one job.
class Results {
 public:
  ProcessPool::ResultsCallback Callback() {
    return [this](std::vector<v1::JobResult> batch) {
      absl::MutexLock lock(&mutex_);
      for (v1::JobResult& result : batch) {
        ++reports_[result.job_id()];
        results_[result.job_id()] = std::move(result);
      }
    };
  }

  std::optional<v1::JobResult> Wait(const std::string& job_id) {
    absl::MutexLock lock(&mutex_);
    auto arrived = [&]()
                       ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_) { return results_.count(job_id) > 0; };
    if (!mutex_.AwaitWithTimeout(absl::Condition(&arrived), kWait)) return std::nullopt;
    return results_[job_id];
  }

  int Reports(const std::string& job_id) {
    absl::MutexLock lock(&mutex_);
    return reports_[job_id];
  }

 private:
  absl::Mutex mutex_;
  std::map<std::string, v1::JobResult> results_ ABSL_GUARDED_BY(mutex_);
  std::map<std::string, int> reports_ ABSL_GUARDED_BY(mutex_);
};

v1::Assignment Assign(const std::string& job_id, const std::string& function,
                      const std::vector<Value>& args = {}, double timeout_seconds = 0) {
  v1::Assignment assignment;
  assignment.set_job_id(job_id);
  assignment.set_function(function);
  for (const Value& arg : args) ToProto(arg, assignment.add_args());
  assignment.set_timeout_seconds(timeout_seconds);
  return assignment;
}

Value ValueOf(const v1::JobResult& result) { return *FromProto(result.value()); }

// Polls `condition` until it holds or kWait passes.
bool Eventually(const std::function<bool()>& condition) {
  return testing::Eventually(condition, kWait);
}

class ProcessPoolTest : public ::testing::Test {
 protected:
  // Most tests run shell jobs through exec, so the policy allows it unless
  // a test says otherwise.
  void StartPool(int processes, int max_tasks_per_child = 0, Initializer initializer = {},
                 ProcessPolicy policy = {.allow_exec = true}) {
    ProcessPool::Options options;
    options.processes = processes;
    options.max_tasks_per_child = max_tasks_per_child;
    options.initializer = std::move(initializer);
    options.policy = std::move(policy);
    options.pipeline_below = pipeline_below_;
    pool_ = std::make_unique<ProcessPool>(options, results_.Callback(),
                                          [this](const absl::Status& failure) {
                                            absl::MutexLock lock(&failure_mutex_);
                                            failures_.push_back(failure);
                                          });
    pool_->Start();
  }

  // The failures the pool reported, once there is at least one.
  std::vector<absl::Status> WaitForFailures() {
    absl::MutexLock lock(&failure_mutex_);
    auto reported = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(failure_mutex_) {
      return !failures_.empty();
    };
    failure_mutex_.AwaitWithTimeout(absl::Condition(&reported), kWait);
    return failures_;
  }

  // Runs a job and waits for its result.
  v1::JobResult RunAndWait(v1::Assignment assignment) {
    std::string job_id = assignment.job_id();
    pool_->Run(std::move(assignment));
    std::optional<v1::JobResult> result = results_.Wait(job_id);
    EXPECT_TRUE(result.has_value()) << "no result for " << job_id;
    return result.value_or(v1::JobResult());
  }

  int64_t WorkerPid(const std::string& job_id) {
    v1::JobResult result = RunAndWait(Assign(job_id, "test.pid"));
    EXPECT_EQ(result.state(), v1::SUCCEEDED) << result.error().message();
    return ValueOf(result).AsInt();
  }

  // Starts a shell job that creates a marker file and then sleeps, and waits
  // until the marker exists: the job is then surely running.
  void StartLongJob(const std::string& job_id) {
    std::string marker = absl::StrCat(::testing::TempDir(), "/netpool-", ::getpid(), "-", job_id);
    ::unlink(marker.c_str());
    pool_->Run(Assign(
        job_id, "exec",
        {Value(ValueList{"sh", "-c", absl::StrCat("touch '", marker, "'; exec sleep 60")})}));
    absl::Time deadline = absl::Now() + kWait;
    struct stat st;
    while (::stat(marker.c_str(), &st) != 0) {
      ASSERT_LT(absl::Now(), deadline) << "job " << job_id << " never started";
      absl::SleepFor(absl::Milliseconds(5));
    }
    ::unlink(marker.c_str());
  }

  // The grandchildren of a tree job: a sleep in the command's process group
  // and one that left it with setsid.
  struct Tree {
    pid_t in_group = 0;
    pid_t in_own_session = 0;
  };

  // Starts an exec job whose shell starts a Tree, then runs `then`; returns
  // the tree once it runs.
  Tree StartTreeJob(const std::string& job_id, const std::string& then, double timeout = 0) {
    const std::string file =
        absl::StrCat(::testing::TempDir(), "/netpool-tree-", ::getpid(), "-", job_id);
    ::unlink(file.c_str());
    pool_->Run(Assign(job_id, "exec",
                      {Value(ValueList{"sh", "-c",
                                       absl::StrCat("sleep 300 & a=$!; setsid sleep 300 & b=$!; ",
                                                    "echo $a $b > '", file, ".tmp' && mv '", file,
                                                    ".tmp' '", file, "'; ", then)})},
                      timeout));
    Tree tree;
    EXPECT_TRUE(Eventually([&] {
      std::ifstream in(file);
      return static_cast<bool>(in >> tree.in_group >> tree.in_own_session);
    })) << "job " << job_id << " never started";
    ::unlink(file.c_str());
    return tree;
  }

  // Checks that the whole tree is gone: the setsid part only where the pool
  // can make cgroups (the test is skipped otherwise, saying why).
  void ExpectTreeGone(const Tree& tree) {
    EXPECT_TRUE(testing::WaitUntilGone(tree.in_group, kWait)) << tree.in_group;
    if (std::optional<std::string> why = CgroupsUnavailable()) GTEST_SKIP() << *why;
    EXPECT_TRUE(testing::WaitUntilGone(tree.in_own_session, kWait)) << tree.in_own_session;
  }

  // Starts a pool of one process that pipelines every job, and has it run
  // two, so that the pool knows how long they run (and that the process
  // starts). Returns the process's pid.
  int64_t StartWarmPool(int max_tasks_per_child = 0) {
    pipeline_below_ = absl::InfiniteDuration();
    StartPool(1, max_tasks_per_child);
    const int64_t pid = WorkerPid("warm-1");
    EXPECT_EQ(WorkerPid("warm-2"), pid);
    return pid;
  }

  // A test.await_queued job: it runs until the jobs given with it are all
  // queued in its process behind it, then, if held, until released.
  struct Holder {
    std::string marker;
    std::string release;
  };

  // Runs the holder `job_id` and, once it runs, `queued`; returns once they
  // are queued in its process (or the holder gave up waiting for them).
  Holder StartHolder(const std::string& job_id, const std::vector<v1::Assignment>& queued,
                     bool held) {
    Holder holder{FreshTempPath(job_id), FreshTempPath(job_id + ".release")};
    ::unlink((holder.marker + ".started").c_str());
    ::unlink((holder.marker + ".queued").c_str());
    int64_t bytes = 0;
    for (const v1::Assignment& assignment : queued) bytes += FrameBytes(assignment);
    std::vector<Value> args = {holder.marker, bytes};
    if (held) args.push_back(holder.release);
    pool_->Run(Assign(job_id, "test.await_queued", args));
    EXPECT_TRUE(Eventually([&] { return FileExists(holder.marker + ".started"); }));
    for (const v1::Assignment& assignment : queued) pool_->Run(assignment);
    EXPECT_TRUE(Eventually(
        [&] { return FileExists(holder.marker + ".queued") || results_.Reports(job_id) > 0; }));
    return holder;
  }

  static void Release(const Holder& holder) { std::ofstream(holder.release).close(); }

  // The bytes that carry `assignment` to a worker process.
  static int64_t FrameBytes(const v1::Assignment& assignment) {
    v1::ProcessTask task;
    *task.mutable_assignment() = assignment;
    std::string frame;
    EXPECT_TRUE(AppendFrame(task, &frame).ok());
    return static_cast<int64_t>(frame.size());
  }

  // Waits for `job_id`'s result and checks that it was reported only once.
  v1::JobResult Only(const std::string& job_id) {
    std::optional<v1::JobResult> result = results_.Wait(job_id);
    EXPECT_TRUE(result.has_value()) << "no result for " << job_id;
    EXPECT_EQ(results_.Reports(job_id), 1) << job_id;
    return result.value_or(v1::JobResult());
  }

  absl::Duration pipeline_below_ = ProcessPool::Options().pipeline_below;
  Results results_;
  absl::Mutex failure_mutex_;
  std::vector<absl::Status> failures_ ABSL_GUARDED_BY(failure_mutex_);
  std::unique_ptr<ProcessPool> pool_;
};

TEST_F(ProcessPoolTest, RunsJobsInWorkerProcesses) {
  StartPool(2);
  for (int i = 0; i < 4; ++i) pool_->Run(Assign(absl::StrCat("echo-", i), "echo", {i, "x"}));
  for (int i = 0; i < 4; ++i) {
    std::optional<v1::JobResult> result = results_.Wait(absl::StrCat("echo-", i));
    ASSERT_TRUE(result.has_value());
    EXPECT_EQ(result->state(), v1::SUCCEEDED);
    EXPECT_EQ(ValueOf(*result), Value(ValueList{i, "x"}));
  }
  EXPECT_NE(WorkerPid("pid"), ::getpid());
}

TEST_F(ProcessPoolTest, ChunkJobReturnsTheListOfResults) {
  StartPool(1);
  v1::Assignment assignment = Assign("chunk", "echo");
  for (int i = 0; i < 3; ++i) ToProto(Value(i), assignment.add_chunk()->add_items());
  v1::JobResult result = RunAndWait(assignment);
  EXPECT_EQ(ValueOf(result), Value(ValueList{ValueList{0}, ValueList{1}, ValueList{2}}));
}

TEST_F(ProcessPoolTest, CrashingJobFailsAndItsProcessIsReplaced) {
  StartPool(1);
  int64_t before = WorkerPid("pid-before");
  v1::JobResult crashed = RunAndWait(Assign("crash", "test.crash"));
  EXPECT_EQ(crashed.state(), v1::FAILED);
  EXPECT_EQ(crashed.error().code(), static_cast<int>(absl::StatusCode::kAborted));
  EXPECT_EQ(crashed.error().message(), "worker process died: signal 11 (SIGSEGV)");
  EXPECT_TRUE(crashed.worker_failure());
  int64_t after = WorkerPid("pid-after");
  EXPECT_NE(before, after);
}

TEST_F(ProcessPoolTest, ProcessThatExitsReportsItsExitCode) {
  StartPool(1);
  v1::JobResult result = RunAndWait(Assign("exit", "test.exit", {3}));
  EXPECT_EQ(result.state(), v1::FAILED);
  EXPECT_EQ(result.error().code(), static_cast<int>(absl::StatusCode::kAborted));
  EXPECT_EQ(result.error().message(), "worker process died: exit code 3");
  EXPECT_TRUE(result.worker_failure());
  WorkerPid("pid-after");
}

TEST_F(ProcessPoolTest, TimeoutKillsTheProcessAndFailsTheJob) {
  StartPool(1);
  int64_t before = WorkerPid("pid-before");
  absl::Time start = absl::Now();
  v1::JobResult result = RunAndWait(Assign("slow", "sleep", {60}, 0.3));
  EXPECT_LT(absl::Now() - start, absl::Seconds(10));
  EXPECT_EQ(result.state(), v1::FAILED);
  EXPECT_EQ(result.error().code(), static_cast<int>(absl::StatusCode::kDeadlineExceeded));
  EXPECT_EQ(result.error().message(), "timed out after 0.3 s");
  EXPECT_FALSE(result.worker_failure());
  EXPECT_NE(WorkerPid("pid-after"), before);
}

TEST_F(ProcessPoolTest, TaskErrorIsNotAWorkerFailure) {
  StartPool(1);
  v1::JobResult result = RunAndWait(Assign("bad-args", "sleep", {"soon"}));
  EXPECT_EQ(result.state(), v1::FAILED);
  EXPECT_EQ(result.error().code(), static_cast<int>(absl::StatusCode::kInvalidArgument));
  EXPECT_FALSE(result.worker_failure());
}

TEST_F(ProcessPoolTest, JobWithinItsTimeoutSucceeds) {
  StartPool(1);
  EXPECT_EQ(RunAndWait(Assign("quick", "echo", {1}, 30)).state(), v1::SUCCEEDED);
}

TEST_F(ProcessPoolTest, CancelKillsTheRunningJob) {
  StartPool(1);
  StartLongJob("long");
  pool_->Cancel("long");
  std::optional<v1::JobResult> result = results_.Wait("long");
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(result->state(), v1::CANCELLED);
  EXPECT_EQ(result->error().code(), static_cast<int>(absl::StatusCode::kCancelled));
  EXPECT_FALSE(result->worker_failure());
  WorkerPid("pid-after");
}

TEST_F(ProcessPoolTest, CancelOfAQueuedJobReportsItAtOnce) {
  StartPool(1);
  StartLongJob("long");
  pool_->Run(Assign("queued", "echo"));
  pool_->Cancel("queued");
  std::optional<v1::JobResult> result = results_.Wait("queued");
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(result->state(), v1::CANCELLED);
  pool_->Cancel("long");
  EXPECT_TRUE(results_.Wait("long").has_value());
  EXPECT_EQ(results_.Reports("queued"), 1);
}

TEST_F(ProcessPoolTest, CancelOfAnUnknownJobIsIgnored) {
  StartPool(1);
  pool_->Cancel("nobody");
  WorkerPid("pid");
  EXPECT_EQ(results_.Reports("nobody"), 0);
}

TEST_F(ProcessPoolTest, JobsWaitForAFreeProcess) {
  StartPool(1);
  StartLongJob("long");
  pool_->Run(Assign("waiting", "echo", {1}));
  absl::SleepFor(absl::Milliseconds(100));  // time in which it must not run
  EXPECT_EQ(results_.Reports("waiting"), 0);
  pool_->Cancel("long");
  std::optional<v1::JobResult> result = results_.Wait("waiting");
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(result->state(), v1::SUCCEEDED);
}

TEST_F(ProcessPoolTest, MaxTasksPerChildReplacesTheProcess) {
  StartPool(1, /*max_tasks_per_child=*/2);
  int64_t first = WorkerPid("pid-1");
  EXPECT_EQ(WorkerPid("pid-2"), first);
  int64_t second = WorkerPid("pid-3");
  EXPECT_NE(second, first);
  EXPECT_EQ(WorkerPid("pid-4"), second);
}

TEST_F(ProcessPoolTest, ShortJobsWaitInTheBusyProcessAndComeBackEachToItsJob) {
  const int64_t pid = StartWarmPool();
  std::vector<v1::Assignment> queued = {Assign("e1", "echo", {1}), Assign("p", "test.pid"),
                                        Assign("e2", "echo", {"two"}), Assign("e3", "echo")};
  StartHolder("holder", queued, /*held=*/false);
  v1::JobResult holder = Only("holder");
  ASSERT_EQ(holder.state(), v1::SUCCEEDED) << holder.error().message();
  EXPECT_EQ(ValueOf(holder).AsInt(), FrameBytes(queued[0]) + FrameBytes(queued[1]) +
                                         FrameBytes(queued[2]) + FrameBytes(queued[3]));
  EXPECT_EQ(ValueOf(Only("e1")), Value(ValueList{1}));
  EXPECT_EQ(ValueOf(Only("p")).AsInt(), pid);
  EXPECT_EQ(ValueOf(Only("e2")), Value(ValueList{"two"}));
  EXPECT_EQ(ValueOf(Only("e3")), Value(ValueList{}));
}

TEST_F(ProcessPoolTest, ProcessKilledWithJobsQueuedInItFailsOnlyTheRunningOne) {
  const int64_t pid = StartWarmPool();
  StartHolder("holder",
              {Assign("e1", "echo", {1}), Assign("e2", "echo", {2}), Assign("p", "test.pid")},
              /*held=*/true);
  ASSERT_EQ(::kill(static_cast<pid_t>(pid), SIGKILL), 0);
  v1::JobResult holder = Only("holder");
  EXPECT_EQ(holder.state(), v1::FAILED);
  EXPECT_EQ(holder.error().message(), "worker process died: signal 9 (SIGKILL)");
  EXPECT_TRUE(holder.worker_failure());
  EXPECT_EQ(ValueOf(Only("e1")), Value(ValueList{1}));
  EXPECT_EQ(ValueOf(Only("e2")), Value(ValueList{2}));
  EXPECT_NE(ValueOf(Only("p")).AsInt(), pid);
}

TEST_F(ProcessPoolTest, QueuedJobThatCrashesItsProcessFailsAloneAndTheRestRunElsewhere) {
  const int64_t pid = StartWarmPool();
  StartHolder("holder",
              {Assign("e1", "echo", {1}), Assign("crash", "test.crash"), Assign("p", "test.pid")},
              /*held=*/false);
  EXPECT_EQ(Only("holder").state(), v1::SUCCEEDED);
  EXPECT_EQ(ValueOf(Only("e1")), Value(ValueList{1}));
  v1::JobResult crashed = Only("crash");
  EXPECT_EQ(crashed.error().message(), "worker process died: signal 11 (SIGSEGV)");
  EXPECT_TRUE(crashed.worker_failure());
  EXPECT_NE(ValueOf(Only("p")).AsInt(), pid);
}

TEST_F(ProcessPoolTest, CancelOfAJobQueuedInAProcessLeavesTheOthersTheirResults) {
  StartWarmPool();
  Holder holder = StartHolder(
      "holder", {Assign("e1", "echo", {1}), Assign("gone", "echo", {2}), Assign("e3", "echo", {3})},
      /*held=*/true);
  pool_->Cancel("gone");
  pool_->Drop({});  // returns once the pool has taken the cancel
  Release(holder);
  EXPECT_EQ(Only("holder").state(), v1::SUCCEEDED);
  EXPECT_EQ(ValueOf(Only("e1")), Value(ValueList{1}));
  v1::JobResult cancelled = Only("gone");
  EXPECT_EQ(cancelled.state(), v1::CANCELLED);
  EXPECT_FALSE(cancelled.worker_failure());
  EXPECT_EQ(ValueOf(Only("e3")), Value(ValueList{3}));
}

TEST_F(ProcessPoolTest, DropOfAJobQueuedInAProcessReportsNothingOfIt) {
  StartWarmPool();
  Holder holder = StartHolder("holder", {Assign("gone", "echo", {1}), Assign("e2", "echo", {2})},
                              /*held=*/true);
  pool_->Drop({"gone"});
  Release(holder);
  EXPECT_EQ(Only("holder").state(), v1::SUCCEEDED);
  EXPECT_EQ(ValueOf(Only("e2")), Value(ValueList{2}));
  EXPECT_EQ(results_.Reports("gone"), 0);
}

TEST_F(ProcessPoolTest, TimeoutOfAJobQueuedInAProcessStartsWhenTheJobDoes) {
  StartWarmPool();
  Holder holder = StartHolder(
      "holder", {Assign("slow", "sleep", {60}, 0.3), Assign("after", "echo", {1})}, /*held=*/true);
  absl::SleepFor(absl::Milliseconds(600));  // twice its timeout, all spent waiting
  EXPECT_EQ(results_.Reports("slow"), 0);
  Release(holder);
  EXPECT_EQ(Only("holder").state(), v1::SUCCEEDED);
  v1::JobResult slow = Only("slow");
  EXPECT_EQ(slow.state(), v1::FAILED);
  EXPECT_EQ(slow.error().message(), "timed out after 0.3 s");
  EXPECT_FALSE(slow.worker_failure());
  EXPECT_EQ(ValueOf(Only("after")), Value(ValueList{1}));
}

TEST_F(ProcessPoolTest, PipelinedProcessServesNoMoreThanMaxTasksPerChild) {
  const int64_t pid = StartWarmPool(/*max_tasks_per_child=*/4);
  // Two jobs done and the holder running: only one more fits this process.
  v1::Assignment fourth = Assign("p4", "test.pid");
  Holder started = StartHolder("holder", {fourth}, /*held=*/true);
  pool_->Run(Assign("p5", "test.pid"));
  absl::SleepFor(absl::Milliseconds(100));  // time in which it must not be queued there
  Release(started);
  v1::JobResult holder = Only("holder");
  ASSERT_EQ(holder.state(), v1::SUCCEEDED) << holder.error().message();
  EXPECT_EQ(ValueOf(holder).AsInt(), FrameBytes(fourth));
  EXPECT_EQ(ValueOf(Only("p4")).AsInt(), pid);
  EXPECT_NE(ValueOf(Only("p5")).AsInt(), pid);
}

TEST_F(ProcessPoolTest, InitializerRunsOnceInEveryProcessBeforeItsJobs) {
  StartPool(2, /*max_tasks_per_child=*/2, {"test.init", {"db://x", 7}});
  std::set<int64_t> pids;
  for (int i = 0; i < 6; ++i) {
    v1::JobResult result = RunAndWait(Assign(absl::StrCat("state-", i), "test.init_state"));
    ASSERT_EQ(result.state(), v1::SUCCEEDED) << result.error().message();
    const ValueList state = ValueOf(result).AsList();
    EXPECT_EQ(state.at(0), Value(1)) << "initializer calls in this process";
    EXPECT_EQ(state.at(1), Value(ValueList{"db://x", 7}));
    pids.insert(state.at(2).AsInt());
  }
  EXPECT_GE(pids.size(), 3u) << "replaced processes ran it too";
}

TEST_F(ProcessPoolTest, FailingInitializerStopsThePoolInsteadOfRespawning) {
  StartPool(2, 0, {"test.fail_init", {"no database"}});
  std::vector<absl::Status> failures = WaitForFailures();
  ASSERT_EQ(failures.size(), 1u);
  EXPECT_EQ(failures[0].code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(failures[0].message(), "initializer test.fail_init failed: no database");
  ASSERT_TRUE(Eventually([] { return netpool::testing::ChildPids(::getpid()).empty(); }));
  absl::SleepFor(absl::Seconds(1.5));  // longer than a respawn pause: none may start
  EXPECT_TRUE(netpool::testing::ChildPids(::getpid()).empty());
  EXPECT_EQ(WaitForFailures().size(), 1u);
}

TEST_F(ProcessPoolTest, DropKillsTheNamedJobsWithoutReportingThem) {
  StartPool(2);
  StartLongJob("dropped");
  StartLongJob("kept");
  pool_->Drop({"dropped", "unknown"});
  pool_->Cancel("kept");
  ASSERT_TRUE(results_.Wait("kept").has_value());
  WorkerPid("pid-after");
  EXPECT_EQ(results_.Reports("dropped"), 0);
}

TEST_F(ProcessPoolTest, AbandonAllDropsRunningJobsWithoutReportingThem) {
  StartPool(1);
  StartLongJob("long");
  pool_->AbandonAll();
  WorkerPid("pid-after");
  EXPECT_EQ(results_.Reports("long"), 0);
}

TEST_F(ProcessPoolTest, StopEndsEveryProcess) {
  StartPool(2);
  int64_t pid = WorkerPid("pid");
  StartLongJob("long");
  pool_->Stop();
  EXPECT_EQ(::kill(static_cast<pid_t>(pid), 0), -1);
  EXPECT_EQ(results_.Reports("long"), 0);
}

TEST_F(ProcessPoolTest, CancelKillsTheJobsWholeProcessTree) {
  StartPool(1);
  Tree tree = StartTreeJob("tree", "wait");
  pool_->Cancel("tree");
  std::optional<v1::JobResult> result = results_.Wait("tree");
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(result->state(), v1::CANCELLED);
  ExpectTreeGone(tree);
}

TEST_F(ProcessPoolTest, TimeoutKillsTheJobsWholeProcessTree) {
  StartPool(1);
  // The node's timeout, not exec's: the worker process itself is killed.
  Tree tree = StartTreeJob("tree", "wait", 1);
  std::optional<v1::JobResult> result = results_.Wait("tree");
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(result->error().code(), static_cast<int>(absl::StatusCode::kDeadlineExceeded));
  ExpectTreeGone(tree);
}

TEST_F(ProcessPoolTest, WorkerProcessThatDiesTakesItsJobsTreeAlong) {
  StartPool(1);
  Tree tree = StartTreeJob("tree", "kill -9 $PPID; wait");
  std::optional<v1::JobResult> result = results_.Wait("tree");
  ASSERT_TRUE(result.has_value());
  EXPECT_TRUE(result->worker_failure());
  ExpectTreeGone(tree);
}

TEST_F(ProcessPoolTest, AbandonAllKillsTheJobsWholeProcessTree) {
  StartPool(1);
  Tree tree = StartTreeJob("tree", "wait");
  pool_->AbandonAll();
  ExpectTreeGone(tree);
}

TEST_F(ProcessPoolTest, StopKillsTheJobsWholeProcessTree) {
  StartPool(1);
  Tree tree = StartTreeJob("tree", "wait");
  pool_->Stop();
  ExpectTreeGone(tree);
}

TEST_F(ProcessPoolTest, ResultTheSchedulerWouldRefuseFailsOnlyItsJob) {
  StartPool(1);
  const int64_t pid = WorkerPid("pid-before");
  // kMaxValueDepth lists deep is the most a value may nest.
  EXPECT_EQ(RunAndWait(Assign("deepest", "test.deep", {kMaxValueDepth})).state(), v1::SUCCEEDED);
  v1::JobResult result = RunAndWait(Assign("too-deep", "test.deep", {kMaxValueDepth + 1}));
  EXPECT_EQ(result.state(), v1::FAILED);
  EXPECT_EQ(result.error().code(), static_cast<int>(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(result.error().message(),
            "result not sendable: value: value nests deeper than 32 levels");
  EXPECT_FALSE(result.worker_failure());
  EXPECT_FALSE(result.has_value());
  EXPECT_EQ(WorkerPid("pid-after"), pid);
}

TEST_F(ProcessPoolTest, ErrorMessageThatIsNotUtf8ArrivesMendedAsATaskError) {
  StartPool(1);
  v1::JobResult result = RunAndWait(Assign("latin1", "test.fail_in_latin1"));
  EXPECT_EQ(result.state(), v1::FAILED);
  EXPECT_EQ(result.error().code(), static_cast<int>(absl::StatusCode::kUnknown));
  EXPECT_EQ(result.error().message(), "caf\xef\xbf\xbd closed");  // U+FFFD
  EXPECT_FALSE(result.worker_failure());
}

TEST_F(ProcessPoolTest, ExecMarksOutputCutAtThePolicysLimit) {
  StartPool(1, 0, {}, {.allow_exec = true, .max_output_bytes = 10});
  v1::JobResult result = RunAndWait(Assign(
      "chatty", "exec", {Value(ValueList{"sh", "-c", "echo 0123456789abcdef; echo short >&2"})}));
  ASSERT_EQ(result.state(), v1::SUCCEEDED) << result.error().message();
  EXPECT_EQ(ValueOf(result), Value(ValueMap{{"exit_code", 0},
                                            {"stdout", "0123456789"},
                                            {"stdout_truncated", true},
                                            {"stderr", "short\n"}}));
}

Value Shell(const std::string& script) { return ValueList{"sh", "-c", script}; }

// The "Uid:" line of /proc/PID/status: real, effective, saved and fs uid.
std::string UidLine(int64_t pid) {
  std::ifstream status(absl::StrCat("/proc/", pid, "/status"));
  std::string line;
  while (std::getline(status, line)) {
    if (absl::StartsWith(line, "Uid:")) return line;
  }
  return "";
}

TEST_F(ProcessPoolTest, WorkerProcessRefusesExecUnlessThePolicyAllowsIt) {
  StartPool(1, 0, {}, ProcessPolicy{});
  const std::string marker = FreshTempPath("exec-refused");
  v1::JobResult result =
      RunAndWait(Assign("exec-refused", "exec", {Value(ValueList{"touch", marker})}));
  EXPECT_EQ(result.state(), v1::FAILED);
  EXPECT_EQ(result.error().code(), static_cast<int>(absl::StatusCode::kPermissionDenied));
  EXPECT_EQ(result.error().message(),
            "exec is not allowed on this node (start netpool-worker with --allow-exec)");
  EXPECT_FALSE(result.worker_failure()) << "no other node should retry it either";
  EXPECT_FALSE(FileExists(marker));
}

TEST_F(ProcessPoolTest, ExecAllowIsEnforcedInTheWorkerProcess) {
  StartPool(1, 0, {}, {.allow_exec = true, .exec_allow = {"sh"}});
  v1::JobResult allowed = RunAndWait(Assign("allowed", "exec", {Shell("echo ok")}));
  ASSERT_EQ(allowed.state(), v1::SUCCEEDED) << allowed.error().message();
  const std::string marker = FreshTempPath("exec-not-matching");
  v1::JobResult refused =
      RunAndWait(Assign("refused", "exec", {Value(ValueList{"touch", marker})}));
  EXPECT_EQ(refused.error().code(), static_cast<int>(absl::StatusCode::kPermissionDenied));
  EXPECT_EQ(refused.error().message(),
            "exec: \"touch\" is not allowed on this node (--exec-allow sh)");
  EXPECT_FALSE(FileExists(marker));
}

TEST_F(ProcessPoolTest, CommandsRunUnderThePolicysOpenFileLimitAndWithoutCoreDumps) {
  StartPool(1, 0, {}, {.allow_exec = true, .max_open_files = 64});
  v1::JobResult result = RunAndWait(Assign("limits", "exec", {Shell("ulimit -n; ulimit -c")}));
  ASSERT_EQ(result.state(), v1::SUCCEEDED) << result.error().message();
  EXPECT_EQ(ValueOf(result).AsMap().at("stdout"), Value("64\n0\n"));
}

TEST_F(ProcessPoolTest, CommandsRunUnderThePolicysMemoryLimit) {
  const ProcessPolicy policy = {.allow_exec = true, .max_memory_bytes = 256 << 20};
  if (absl::Status s = CheckProcessPolicy(policy); !s.ok()) GTEST_SKIP() << s;
  StartPool(1, 0, {}, policy);
  v1::JobResult result = RunAndWait(Assign("limits", "exec", {Shell("ulimit -v")}));
  ASSERT_EQ(result.state(), v1::SUCCEEDED) << result.error().message();
  EXPECT_EQ(ValueOf(result).AsMap().at("stdout"), Value("262144\n"));
}

TEST_F(ProcessPoolTest, WorkerProcessesRunAsThePolicysUser) {
  if (::geteuid() != 0) GTEST_SKIP() << "only root can run worker processes as another user";
  const passwd* nobody = ::getpwnam("nobody");
  if (nobody == nullptr) GTEST_SKIP() << "no user nobody";
  const std::string uid = absl::StrCat(nobody->pw_uid);
  const std::string gid = absl::StrCat(nobody->pw_gid);
  StartPool(1, 0, {}, {.allow_exec = true, .run_as = "nobody"});
  v1::JobResult result = RunAndWait(Assign("whoami", "exec", {Shell("id -u; id -g; id -G")}));
  ASSERT_EQ(result.state(), v1::SUCCEEDED) << result.error().message();
  // Root's groups are gone too.
  EXPECT_EQ(ValueOf(result).AsMap().at("stdout"),
            Value(absl::StrCat(uid, "\n", gid, "\n", gid, "\n")));
  // The worker process itself, not only what it starts, with no saved root uid.
  EXPECT_EQ(UidLine(WorkerPid("pid")),
            absl::StrCat("Uid:\t", uid, "\t", uid, "\t", uid, "\t", uid));
}

TEST_F(ProcessPoolTest, PolicyThatCannotBeAppliedStopsThePoolInsteadOfRespawning) {
  StartPool(2, 0, {}, {.allow_exec = true, .run_as = "no-such-user.netpool"});
  std::vector<absl::Status> failures = WaitForFailures();
  ASSERT_EQ(failures.size(), 1u);
  EXPECT_EQ(failures[0].code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(failures[0].message(),
            "cannot apply the node's worker process policy: no user \"no-such-user.netpool\"");
  ASSERT_TRUE(Eventually([] { return netpool::testing::ChildPids(::getpid()).empty(); }));
  absl::SleepFor(absl::Seconds(1.5));  // longer than a respawn pause: none may start
  EXPECT_TRUE(netpool::testing::ChildPids(::getpid()).empty());
}

}  // namespace
}  // namespace netpool
