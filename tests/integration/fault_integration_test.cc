// Real faults on real processes: kill -9 of a worker process, of a whole
// worker node, and of the scheduler.
#include <signal.h>


#include <string>
#include <vector>

#include "absl/strings/strip.h"
#include "gmock/gmock.h"
#include "grpcpp/create_channel.h"
#include "gtest/gtest.h"
#include "netpool/netpool.h"
#include "netpool/v1/netpool.grpc.pb.h"
#include "tests/support/proc.h"
#include "tests/support/test_cluster.h"

namespace netpool {
namespace {

using ::netpool::testing::WaitUntilGone;
using ::netpool::testing::TestCluster;
using ::testing::HasSubstr;
using ::testing::SizeIs;

// The scheduler's view of a job, straight from the wire; an empty status
// (state JOB_STATE_UNSPECIFIED) while the scheduler does not know the id,
// e.g. before an ApplyAsync's Submit has landed.
v1::JobStatus StatusOf(const TestCluster& cluster, const std::string& id) {
  auto stub = v1::Scheduler::NewStub(cluster.OwnerChannel());
  grpc::ClientContext context;
  cluster.AuthorizeAsOwner(context);
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
  v1::GetStatusRequest request;
  request.add_job_ids(id);
  v1::GetStatusResponse response;
  grpc::Status status = stub->GetStatus(&context, request, &response);
  return status.ok() && response.jobs_size() == 1 ? response.jobs(0) : v1::JobStatus();
}

bool WaitUntilRunning(const TestCluster& cluster, const std::string& id) {
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  while (absl::Now() < deadline) {
    if (StatusOf(cluster, id).state() == v1::RUNNING) return true;
    absl::SleepFor(absl::Milliseconds(20));
  }
  return false;
}

// Starts `sleep seconds` with `max_attempts`, kill -9s the worker process
// running it as soon as it runs, and returns the job's handle.
AsyncResult SleepAndKillItsProcess(TestCluster& cluster, Pool& pool, int seconds,
                                   int max_attempts, pid_t* killed) {
  CallOptions options;
  options.max_attempts = max_attempts;
  AsyncResult victim = pool.ApplyAsync("sleep", {seconds}, options);
  EXPECT_TRUE(WaitUntilRunning(cluster, victim.id()));
  std::vector<pid_t> processes = cluster.WorkerProcessPids(0);
  EXPECT_THAT(processes, SizeIs(1));
  if (processes.size() == 1) {
    EXPECT_EQ(kill(processes[0], SIGKILL), 0);
    *killed = processes[0];
  }
  return victim;
}

TEST(FaultTest, KilledWorkerProcessCostsAnAttemptAndTheJobIsRetried) {
  auto cluster = TestCluster::Start(
      {.workers = 1, .processes = 1, .scheduler_args = {"--retry-backoff", "0.1"}});
  ASSERT_TRUE(cluster.ok()) << cluster.status();
  absl::StatusOr<Pool> pool = Pool::Connect((*cluster)->address());
  ASSERT_TRUE(pool.ok()) << pool.status();

  pid_t killed = -1;
  AsyncResult victim = SleepAndKillItsProcess(**cluster, *pool, 3, 3, &killed);
  ASSERT_NE(killed, -1);

  absl::StatusOr<Value> result = victim.Get(absl::Seconds(60));
  ASSERT_TRUE(result.ok()) << result.status();
  v1::JobStatus status = StatusOf(**cluster, victim.id());
  EXPECT_EQ(status.state(), v1::SUCCEEDED);
  EXPECT_EQ(status.attempt(), 2);
  // The history says why the first attempt ended.
  ASSERT_EQ(status.attempts_size(), 2);
  EXPECT_THAT(status.attempts(0).error().message(),
              HasSubstr("worker process died: signal 9 (SIGKILL)"));
  EXPECT_FALSE(status.attempts(1).has_error());

  // The node replaced the process and serves on.
  EXPECT_TRUE((*cluster)->worker(0).running());
  std::vector<pid_t> now = (*cluster)->WorkerProcessPids(0);
  ASSERT_THAT(now, SizeIs(1));
  EXPECT_NE(now[0], killed);
}

TEST(FaultTest, KilledWorkerProcessFailsAJobWithNoAttemptsLeft) {
  auto cluster = TestCluster::Start({.workers = 1, .processes = 1});
  ASSERT_TRUE(cluster.ok()) << cluster.status();
  absl::StatusOr<Pool> pool = Pool::Connect((*cluster)->address());
  ASSERT_TRUE(pool.ok()) << pool.status();

  pid_t killed = -1;
  AsyncResult victim = SleepAndKillItsProcess(**cluster, *pool, 60, 1, &killed);
  ASSERT_NE(killed, -1);

  absl::StatusOr<Value> result = victim.Get(absl::Seconds(30));
  ASSERT_FALSE(result.ok());
  EXPECT_THAT(std::string(result.status().message()),
              HasSubstr("worker process died: signal 9 (SIGKILL)"));
  v1::JobStatus status = StatusOf(**cluster, victim.id());
  EXPECT_EQ(status.state(), v1::FAILED);
  EXPECT_EQ(status.attempt(), 1);

  // The node replaced the process and serves on.
  absl::StatusOr<Value> next = pool->Apply("echo", {"still here"});
  ASSERT_TRUE(next.ok()) << next.status();
  EXPECT_TRUE((*cluster)->worker(0).running());
  std::vector<pid_t> now = (*cluster)->WorkerProcessPids(0);
  ASSERT_THAT(now, SizeIs(1));
  EXPECT_NE(now[0], killed);
}

TEST(FaultTest, KilledWorkerNodeRequeuesItsRunningJobsToAnotherNode) {
  auto cluster = TestCluster::Start({.workers = 1, .processes = 1});
  ASSERT_TRUE(cluster.ok()) << cluster.status();
  absl::StatusOr<Pool> pool = Pool::Connect((*cluster)->address());
  ASSERT_TRUE(pool.ok()) << pool.status();

  // Long enough to outlast adding the second node on a loaded machine.
  AsyncResult job = pool->ApplyAsync("sleep", {5});
  ASSERT_TRUE(WaitUntilRunning(**cluster, job.id()));
  EXPECT_EQ(StatusOf(**cluster, job.id()).worker(), "node0");
  std::vector<pid_t> doomed_processes = (*cluster)->WorkerProcessPids(0);
  ASSERT_TRUE((*cluster)->AddWorker(1).ok());
  (*cluster)->worker(0).Signal(SIGKILL);

  absl::StatusOr<Value> result = job.Get(absl::Seconds(60));
  ASSERT_TRUE(result.ok()) << result.status();
  v1::JobStatus status = StatusOf(**cluster, job.id());
  EXPECT_EQ(status.state(), v1::SUCCEEDED);
  EXPECT_EQ(status.attempt(), 2);
  EXPECT_EQ(status.worker(), "node1");
  // The dead node's worker processes went with it.
  for (pid_t pid : doomed_processes) EXPECT_TRUE(WaitUntilGone(pid)) << pid;
}

TEST(FaultTest, WorkerNodesReconnectAfterTheSchedulerRestarts) {
  auto cluster = TestCluster::Start({.workers = 1, .processes = 2});
  ASSERT_TRUE(cluster.ok()) << cluster.status();
  ASSERT_TRUE((*cluster)->RestartScheduler().ok());
  ASSERT_TRUE((*cluster)->WaitForWorkers(1, 2, absl::Seconds(30)).ok());
  absl::StatusOr<Pool> pool = Pool::Connect((*cluster)->address());
  ASSERT_TRUE(pool.ok()) << pool.status();
  absl::StatusOr<Value> v = pool->Apply("echo", {1});
  ASSERT_TRUE(v.ok()) << v.status();
}

TEST(FaultTest, StoppingTheClusterLeavesNoProcessBehind) {
  std::vector<pid_t> pids;
  {
    auto cluster = TestCluster::Start({.workers = 2, .processes = 2});
    ASSERT_TRUE(cluster.ok()) << cluster.status();
    pids.push_back((*cluster)->scheduler_pid());
    for (int i = 0; i < 2; ++i) {
      pids.push_back((*cluster)->worker_pid(i));
      for (pid_t p : (*cluster)->WorkerProcessPids(i)) pids.push_back(p);
    }
    EXPECT_THAT(pids, SizeIs(7));
  }
  for (pid_t pid : pids) EXPECT_TRUE(WaitUntilGone(pid)) << pid;
}

}  // namespace
}  // namespace netpool
