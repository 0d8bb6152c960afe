// Scheduler crash: kill -9 of netpoold at random moments while nonce jobs
// stream in and out, each time restarted on the same port and data directory.
// Every acknowledged job must end SUCCEEDED with exactly one recorded result:
// the result the client received first is the one Get returns at the end.
//
// CI size: 10,000 jobs and 8 kills through the raw client, 2,000 jobs and 3
// kills through netpool::Pool. NETPOOL_FAULT_SOAK=1: 100,000 jobs and 40
// kills, 20,000 and 10 (run the binary directly: ctest's timeout is CI-sized).
// NETPOOL_FAULT_SEED=N replays the kill points and job choices of a run.
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "client/scheduler_client.h"
#include "gtest/gtest.h"
#include "netpool/netpool.h"
#include "tests/fault/execution_log.h"
#include "tests/fault/fault_settings.h"
#include "tests/fault/job_ledger.h"
#include "tests/fault/nonce_stream.h"
#include "tests/fault/progress.h"
#include "tests/support/test_cluster.h"

namespace netpool::testing {
namespace {

// Short leases, heartbeats and restart grace so that recovery after each
// kill takes a couple of seconds, not the production 15. The nodes are back
// within the grace: the scheduler is down for moments only.
const std::vector<std::string> kSchedulerFlags = {
    "--lease-timeout", "2", "--restart-grace", "2", "--heartbeat-interval", "0.2",
    "--retry-backoff", "0.1", "--log-level", "warn"};

// How long results may stop coming before the test gives up: a restarted
// scheduler must get the jobs flowing again well within it.
constexpr absl::Duration kStallLimit = absl::Seconds(60);

// Its nodes record every execution in `executions`.
absl::StatusOr<std::unique_ptr<TestCluster>> StartDurableCluster(const ExecutionLog& executions) {
  return TestCluster::Start({.workers = 2,
                             .processes = 2,
                             .worker_binary = NETPOOL_TEST_FAULT_WORKER,
                             .worker_env = {executions.Env()},
                             .durable = true,
                             .scheduler_args = kSchedulerFlags});
}

// Kills the scheduler `kills` times and restarts it on the same port and data
// directory. Each kill comes once `progress()` passed a random point between
// 5% and 95% of `total`, plus a random 0-300 ms, so that every kill lands while
// jobs flow, however fast this machine runs them. Returns the kills done.
int KillSchedulerAtRandomPoints(TestCluster& cluster, int kills, int64_t total,
                                const std::function<int64_t()>& progress,
                                std::mt19937_64& random) {
  std::uniform_real_distribution<double> point(0.05, 0.95);
  std::vector<int64_t> points;
  for (int i = 0; i < kills; ++i) points.push_back(static_cast<int64_t>(point(random) * total));
  std::sort(points.begin(), points.end());
  std::uniform_int_distribution<int> extra_ms(0, 300);
  int done = 0;
  for (int64_t at : points) {
    if (!WaitForProgress(progress, at, kStallLimit)) {
      SchedulerClient scheduler(cluster.address());
      ADD_FAILURE() << "the jobs stopped flowing after " << done << " scheduler kills: "
                    << progress() << " of " << total << " done, none for "
                    << absl::FormatDuration(kStallLimit) << "; " << SchedulerCounts(scheduler);
      return done;
    }
    absl::SleepFor(absl::Milliseconds(extra_ms(random)));
    cluster.KillScheduler();
    ++done;
    std::printf("fault: kill -9 scheduler #%d at %lld of %lld\n", done,
                static_cast<long long>(progress()), static_cast<long long>(total));
    std::fflush(stdout);
    if (absl::Status started = cluster.StartScheduler(); !started.ok()) {
      ADD_FAILURE() << "restart after kill " << done << ": " << started;
      return done;
    }
  }
  return done;
}

void PrintSummary(const char* test, const JobLedger::Audit& audit, int kills, int64_t resent,
                  int64_t abandoned, uint64_t seed) {
  std::printf(
      "fault: %s acknowledged=%lld scheduler_kills=%d worker_kills=0 lost=%lld "
      "duplicated=%lld retried=%lld resent_batches=%lld unacknowledged=%lld "
      "(present=%lld absent=%lld) seed=%llu\n",
      test, static_cast<long long>(audit.acknowledged), kills,
      static_cast<long long>(audit.lost), static_cast<long long>(audit.duplicated),
      static_cast<long long>(audit.retried), static_cast<long long>(resent),
      static_cast<long long>(abandoned), static_cast<long long>(audit.unacknowledged_present),
      static_cast<long long>(audit.unacknowledged_absent), static_cast<unsigned long long>(seed));
  std::fflush(stdout);
}

// The raw client: Submit with the client's own job ids, resent with the same
// ids when a kill cuts the call, and results over a reconnecting Watch.
TEST(SchedulerCrash, EveryAcknowledgedJobEndsWithOneResultAcrossKillNine) {
  const FaultSettings settings = FaultSettings::FromEnvironment();
  const int jobs = settings.Pick(10'000, 100'000);
  const int kills = settings.Pick(8, 40);
  std::mt19937_64 random(settings.seed());

  ExecutionLog executions;
  auto cluster = StartDurableCluster(executions);
  ASSERT_TRUE(cluster.ok()) << cluster.status();
  SchedulerClient scheduler((*cluster)->address(),
                            {.rpc_timeout = absl::Seconds(30), .wait_for_ready = true});
  JobLedger ledger;
  int kills_done = 0;
  {
    NonceStream stream(&scheduler, &ledger,
                       {.id_prefix = "crash",
                        .jobs = jobs,
                        .batch = 200,
                        .window = 2000,
                        .max_attempts = 100,
                        .max_sleep_ms = 2,
                        .abandon_share = 0.25,
                        .seed = random()});
    // Progress is results in, so that kills also land after the last Submit.
    kills_done = KillSchedulerAtRandomPoints(
        **cluster, kills, jobs,
        [&ledger] { return ledger.acknowledged() - ledger.outstanding(); }, random);
    EXPECT_TRUE(stream.WaitUntilDone(kStallLimit))
        << stream.Progress() << "; " << SchedulerCounts(scheduler);
    EXPECT_TRUE(stream.error().ok()) << stream.error();

    const JobLedger::Audit audit = ledger.Check(scheduler);
    PrintSummary("scheduler_crash", audit, kills_done, stream.resent_batches(),
                 stream.abandoned_jobs(), settings.seed());
    const ExecutionLog::Counts counts = executions.Count();
    PrintRunOnceCounts("scheduler_crash", audit, counts);
    EXPECT_EQ(audit.lost, 0) << audit.Problems();
    EXPECT_EQ(audit.duplicated, 0) << audit.Problems();
    // The nodes survive every kill: a job they ran must not run again.
    EXPECT_EQ(counts.duplicated_executions, 0) << counts.Duplicates();
    EXPECT_EQ(audit.acknowledged + stream.abandoned_jobs(), jobs);
  }
  EXPECT_EQ(kills_done, kills);
}

// The client library as a user holds it: ApplyAsync through a Pool, whose
// Watch stream must reconnect and whose AsyncResult::Get must keep working
// across the restarts. A submission the Pool reports as failed (kUnavailable:
// the kill cut its Submit) counts as unacknowledged.
TEST(SchedulerCrash, PoolResultsSurviveKillNine) {
  const FaultSettings settings = FaultSettings::FromEnvironment();
  const int jobs = settings.Pick(2'000, 20'000);
  const int kills = settings.Pick(3, 10);
  constexpr int kWindow = 400;
  std::mt19937_64 random(settings.seed());

  ExecutionLog executions;
  auto cluster = StartDurableCluster(executions);
  ASSERT_TRUE(cluster.ok()) << cluster.status();
  absl::StatusOr<Pool> pool = Pool::Connect((*cluster)->address());
  ASSERT_TRUE(pool.ok()) << pool.status();

  std::atomic<int64_t> finished{0};
  CallOptions options;
  options.max_attempts = 100;
  options.callback = [&finished](const Value&) { ++finished; };
  options.error_callback = [&finished](const absl::Status&) { ++finished; };
  std::vector<AsyncResult> results;
  results.reserve(jobs);
  int kills_done = 0;
  {
    // Stops when the window does not move for kStallLimit.
    std::thread submitter([&] {
      for (int i = 0; i < jobs; ++i) {
        if (i >= kWindow && !results[i - kWindow].Wait(kStallLimit)) return;
        results.push_back(pool->ApplyAsync("nonce", {i, 1}, options));
      }
    });
    kills_done = KillSchedulerAtRandomPoints(
        **cluster, kills, jobs, [&finished] { return finished.load(); }, random);
    submitter.join();
  }
  const int64_t submitted = static_cast<int64_t>(results.size());
  EXPECT_EQ(submitted, jobs) << "the submitter stopped: a result did not come for "
                             << absl::FormatDuration(kStallLimit);
  SchedulerClient scheduler((*cluster)->address());
  EXPECT_TRUE(WaitForProgress([&finished] { return finished.load(); }, submitted, kStallLimit))
      << finished.load() << " of " << submitted << " results in; " << SchedulerCounts(scheduler);

  // The client's view: what each handle holds now (a handle still waiting
  // holds kDeadlineExceeded, which the audit reports).
  JobLedger ledger;
  for (int i = 0; i < submitted; ++i) {
    absl::StatusOr<Value> value = results[i].Get(absl::ZeroDuration());
    if (absl::IsUnavailable(value.status())) {
      ledger.Unacknowledged(results[i].id());
      continue;
    }
    ledger.Acknowledged(results[i].id(), i);
    ledger.Delivered(results[i].id(), std::move(value));
  }
  const JobLedger::Audit audit = ledger.Check(scheduler);
  PrintSummary("pool_scheduler_crash", audit, kills_done, 0,
               audit.unacknowledged_present + audit.unacknowledged_absent, settings.seed());
  const ExecutionLog::Counts counts = executions.Count();
  PrintRunOnceCounts("pool_scheduler_crash", audit, counts);
  EXPECT_EQ(audit.lost, 0) << audit.Problems();
  EXPECT_EQ(audit.duplicated, 0) << audit.Problems();
  EXPECT_EQ(counts.duplicated_executions, 0) << counts.Duplicates();
  EXPECT_EQ(kills_done, kills);
}

}  // namespace
}  // namespace netpool::testing
