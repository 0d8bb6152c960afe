// Worker chaos: while nonce jobs stream through a durable scheduler, kill -9
// random worker nodes (each replaced by a new node), kill -9 random worker
// processes, and SIGSTOP random nodes until the scheduler's lease on them
// expires, then SIGCONT them so that they come back with late results. Every
// acknowledged job must end SUCCEEDED with exactly one recorded result: the
// one the client received first.
//
// CI size: 5,000 jobs and 16 faults. NETPOOL_FAULT_SOAK=1: 50,000 jobs and
// 200 faults (run the binary directly: ctest's timeout is CI-sized).
// NETPOOL_FAULT_SEED=N replays the fault choices of a run.
#include <signal.h>

#include <algorithm>
#include <cstdio>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "client/scheduler_client.h"
#include "gtest/gtest.h"
#include "tests/fault/execution_log.h"
#include "tests/fault/fault_settings.h"
#include "tests/fault/job_ledger.h"
#include "tests/fault/nonce_stream.h"
#include "tests/fault/progress.h"
#include "tests/support/test_cluster.h"

namespace netpool::testing {
namespace {

constexpr int kNodes = 3;
constexpr int kProcessesPerNode = 2;
constexpr int kLeaseSeconds = 2;

// How long a stopped node may stay listed before the lease counts as broken.
constexpr absl::Duration kLeaseExpiryLimit = absl::Seconds(kLeaseSeconds * 5);
// How long results may stop coming before the test gives up.
constexpr absl::Duration kStallLimit = absl::Seconds(60);

// Injects faults into the worker nodes of a cluster and counts them.
class WorkerChaos {
 public:
  // Replacement nodes get `worker_env` too.
  WorkerChaos(TestCluster* cluster, SchedulerClient* scheduler, uint64_t seed,
              std::vector<std::string> worker_env)
      : cluster_(cluster),
        scheduler_(scheduler),
        random_(seed),
        worker_env_(std::move(worker_env)) {
    for (int i = 0; i < cluster->worker_count(); ++i) live_.push_back(i);
  }

  enum class Fault { kKillNode, kKillProcess, kStopNode };

  // `count` faults in random order: a quarter node kills (each node
  // replaced), a quarter nodes stopped past their lease, half worker process
  // kills.
  std::vector<Fault> Plan(int count) {
    std::vector<Fault> plan;
    for (int i = 0; i < count; ++i) {
      plan.push_back(i % 4 == 0 ? Fault::kKillNode
                                : i % 4 == 1 ? Fault::kStopNode : Fault::kKillProcess);
    }
    std::shuffle(plan.begin(), plan.end(), random_);
    return plan;
  }

  void Inject(Fault fault) {
    switch (fault) {
      case Fault::kKillNode:
        return KillNode();
      case Fault::kKillProcess:
        return KillProcess();
      case Fault::kStopNode:
        return StopNodePastItsLease();
    }
  }

  int node_kills() const { return node_kills_; }
  int process_kills() const { return process_kills_; }
  int node_stops() const { return node_stops_; }

 private:
  int PickLiveNode() {
    return live_[std::uniform_int_distribution<size_t>(0, live_.size() - 1)(random_)];
  }

  void KillNode() {
    const int victim = PickLiveNode();
    cluster_->worker(victim).Signal(SIGKILL);
    ASSERT_TRUE(cluster_->worker(victim).Wait(absl::Seconds(10)).has_value());
    live_.erase(std::find(live_.begin(), live_.end(), victim));
    ++node_kills_;
    absl::StatusOr<int> replacement =
        cluster_->AddWorker(kProcessesPerNode, {}, NETPOOL_TEST_FAULT_WORKER, worker_env_);
    ASSERT_TRUE(replacement.ok()) << replacement.status();
    live_.push_back(*replacement);
    Log(absl::StrCat("kill -9 node", victim, ", replaced by node", *replacement));
  }

  void KillProcess() {
    const int node = PickLiveNode();
    std::vector<pid_t> processes = cluster_->WorkerProcessPids(node);
    if (processes.empty()) return;  // the node is between processes
    const pid_t victim =
        processes[std::uniform_int_distribution<size_t>(0, processes.size() - 1)(random_)];
    if (kill(victim, SIGKILL) != 0) return;
    ++process_kills_;
    Log(absl::StrCat("kill -9 worker process ", victim, " of node", node));
  }

  // SIGSTOP, then SIGCONT once the scheduler dropped the node (its lease
  // expired, so its running jobs went elsewhere): the node wakes up holding
  // results the scheduler must ignore, and must connect again.
  void StopNodePastItsLease() {
    const int node = PickLiveNode();
    const std::string name = absl::StrCat("node", node);
    ASSERT_TRUE(WaitUntilListed(name, true)) << name << " is not connected before SIGSTOP";
    cluster_->worker(node).Signal(SIGSTOP);
    ++node_stops_;
    const absl::Time stopped = absl::Now();
    const bool dropped = WaitUntilListed(name, false);
    cluster_->worker(node).Signal(SIGCONT);
    Log(absl::StrCat("SIGSTOP node", node, ", SIGCONT after ",
                     absl::FormatDuration(absl::Now() - stopped)));
    EXPECT_TRUE(dropped) << name << " stayed listed for "
                         << absl::FormatDuration(kLeaseExpiryLimit)
                         << " after SIGSTOP; its lease is " << kLeaseSeconds << " s";
    EXPECT_TRUE(WaitUntilListed(name, true)) << name << " did not connect again after SIGCONT";
  }

  // Polls until the scheduler lists (or, with `listed` false, no longer
  // lists) the node called `name`; false after kLeaseExpiryLimit.
  bool WaitUntilListed(const std::string& name, bool listed) {
    const absl::Time deadline = absl::Now() + kLeaseExpiryLimit;
    for (;;) {
      absl::StatusOr<bool> now = Lists(name);
      if (now.ok() && *now == listed) return true;
      if (absl::Now() > deadline) return false;
      absl::SleepFor(absl::Milliseconds(20));
    }
  }

  // Whether the scheduler lists a worker node called `name`.
  absl::StatusOr<bool> Lists(const std::string& name) {
    absl::StatusOr<v1::ListWorkersResponse> workers = scheduler_->ListWorkers();
    if (!workers.ok()) return workers.status();
    for (const v1::WorkerStatus& worker : workers->workers()) {
      if (worker.name() == name) return true;
    }
    return false;
  }

  static void Log(const std::string& what) {
    std::printf("fault: %s\n", what.c_str());
    std::fflush(stdout);
  }

  TestCluster* const cluster_;
  SchedulerClient* const scheduler_;
  std::mt19937_64 random_;
  const std::vector<std::string> worker_env_;
  std::vector<int> live_;  // indexes of nodes not killed
  int node_kills_ = 0;
  int process_kills_ = 0;
  int node_stops_ = 0;
};

TEST(WorkerChaos, EveryJobEndsWithOneResultThroughNodeAndProcessFaults) {
  const FaultSettings settings = FaultSettings::FromEnvironment();
  const int jobs = settings.Pick(5'000, 50'000);
  const int faults = settings.Pick(16, 200);
  std::mt19937_64 random(settings.seed());

  ExecutionLog executions;
  auto cluster = TestCluster::Start(
      {.workers = kNodes,
       .processes = kProcessesPerNode,
       .worker_binary = NETPOOL_TEST_FAULT_WORKER,
       .worker_env = {executions.Env()},
       .durable = true,
       .scheduler_args = {"--lease-timeout", absl::StrCat(kLeaseSeconds), "--heartbeat-interval",
                          "0.2", "--retry-backoff", "0.05", "--log-level", "warn"}});
  ASSERT_TRUE(cluster.ok()) << cluster.status();
  SchedulerClient scheduler((*cluster)->address(),
                            {.rpc_timeout = absl::Seconds(30), .wait_for_ready = true});
  JobLedger ledger;
  WorkerChaos chaos(cluster->get(), &scheduler, random(), {executions.Env()});
  NonceStream stream(&scheduler, &ledger,
                     {.id_prefix = "chaos",
                      .jobs = jobs,
                      .batch = 100,
                      .window = 300,
                      .max_attempts = 100,
                      .max_sleep_ms = 20,
                      .abandon_share = 0,
                      .seed = random()});

  // Faults at random points of the results coming in, so that each lands
  // while jobs run however fast this machine is.
  std::uniform_real_distribution<double> point(0.02, 0.95);
  std::vector<int64_t> points;
  for (int i = 0; i < faults; ++i) points.push_back(static_cast<int64_t>(point(random) * jobs));
  std::sort(points.begin(), points.end());
  const std::vector<WorkerChaos::Fault> plan = chaos.Plan(faults);
  auto done = [&ledger] { return ledger.acknowledged() - ledger.outstanding(); };
  for (int i = 0; i < faults; ++i) {
    const int64_t at = points[i];
    ASSERT_TRUE(WaitForProgress(done, at, kStallLimit))
        << "the jobs stopped flowing after "
        << chaos.node_kills() + chaos.process_kills() + chaos.node_stops()
        << " faults: " << stream.Progress() << "; " << SchedulerCounts(scheduler);
    chaos.Inject(plan[i]);
    if (::testing::Test::HasFatalFailure()) return;
  }
  EXPECT_TRUE(stream.WaitUntilDone(kStallLimit))
        << stream.Progress() << "; " << SchedulerCounts(scheduler);
  EXPECT_TRUE(stream.error().ok()) << stream.error();

  const JobLedger::Audit audit = ledger.Check(scheduler);
  std::printf(
      "fault: worker_chaos acknowledged=%lld scheduler_kills=0 worker_kills=%d "
      "process_kills=%d node_stops=%d lost=%lld duplicated=%lld retried=%lld seed=%llu\n",
      static_cast<long long>(audit.acknowledged), chaos.node_kills(), chaos.process_kills(),
      chaos.node_stops(), static_cast<long long>(audit.lost),
      static_cast<long long>(audit.duplicated), static_cast<long long>(audit.retried),
      static_cast<unsigned long long>(settings.seed()));
  std::fflush(stdout);
  // Executions are counted, not checked: a killed node or process takes its
  // running jobs' work with it, so they run again by design.
  PrintRunOnceCounts("worker_chaos", audit, executions.Count());
  EXPECT_EQ(audit.lost, 0) << audit.Problems();
  EXPECT_EQ(audit.duplicated, 0) << audit.Problems();
  EXPECT_EQ(audit.acknowledged, jobs);
}

}  // namespace
}  // namespace netpool::testing
