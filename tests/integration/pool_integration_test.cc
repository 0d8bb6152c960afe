// The client library against a real scheduler and real worker nodes.
#include <algorithm>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "client/pool_client.h"
#include "client/scheduler_client.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "netpool/netpool.h"
#include "tests/support/eventually.h"
#include "tests/support/pool_cluster_test.h"
#include "tests/support/sanitizer.h"
#include "tests/support/test_cluster.h"

namespace netpool {
namespace {

using ::netpool::testing::CliResult;
using ::netpool::testing::Eventually;
using ::testing::HasSubstr;

class PoolIntegrationTest : public ::netpool::testing::PoolClusterTest {};

TEST_F(PoolIntegrationTest, ApplyReturnsTheFunctionsResult) {
  absl::StatusOr<Value> v = pool_->Apply("echo", {1, "two", 3.5});
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(*v, Value(ValueList{1, "two", 3.5}));
}

TEST_F(PoolIntegrationTest, MapOfAThousandItemsIsCorrectAndInOrder) {
  std::vector<Value> items;
  for (int i = 0; i < 1000; ++i) items.push_back(i);
  absl::StatusOr<std::vector<Value>> results = pool_->Map("echo", items, {.chunksize = 1});
  ASSERT_TRUE(results.ok()) << results.status();
  ASSERT_EQ(results->size(), 1000u);
  for (int i = 0; i < 1000; ++i) EXPECT_EQ((*results)[i], Value(ValueList{i})) << i;
}

TEST_F(PoolIntegrationTest, MapWithChunksFlattensResultsInOrder) {
  std::vector<Value> items;
  for (int i = 0; i < 95; ++i) items.push_back(i);
  for (int chunksize : {0, 7, 200}) {
    absl::StatusOr<std::vector<Value>> results =
        pool_->Map("echo", items, {.chunksize = chunksize});
    ASSERT_TRUE(results.ok()) << results.status();
    ASSERT_EQ(results->size(), 95u);
    for (int i = 0; i < 95; ++i) EXPECT_EQ((*results)[i], Value(ValueList{i}));
  }
}

TEST_F(PoolIntegrationTest, MapOfNothingIsEmpty) {
  absl::StatusOr<std::vector<Value>> results = pool_->Map("echo", {});
  ASSERT_TRUE(results.ok()) << results.status();
  EXPECT_TRUE(results->empty());
}

TEST_F(PoolIntegrationTest, ManyApplyAsyncCallsAllComplete) {
  std::vector<AsyncResult> results;
  for (int i = 0; i < 500; ++i) results.push_back(pool_->ApplyAsync("echo", {i}));
  for (int i = 0; i < 500; ++i) {
    absl::StatusOr<Value> v = results[i].Get(absl::Seconds(60));
    ASSERT_TRUE(v.ok()) << v.status();
    EXPECT_EQ(*v, Value(ValueList{i}));
  }
}

TEST_F(PoolIntegrationTest, UnknownFunctionGivesAClearError) {
  absl::StatusOr<Value> v = pool_->Apply("no_such_function", {1});
  EXPECT_EQ(v.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(v.status().message()), HasSubstr("unknown function \"no_such_function\""));
}

TEST_F(PoolIntegrationTest, ABadCallDoesNotFailGoodCallsSentWithIt) {
  // Calls made while a Submit is in flight travel together in the next one.
  std::vector<AsyncResult> good;
  std::vector<AsyncResult> bad;
  for (int i = 0; i < 50; ++i) {
    good.push_back(pool_->ApplyAsync("echo", {i}));
    bad.push_back(pool_->ApplyAsync("no_such_function", {i}));
  }
  for (int i = 0; i < 50; ++i) {
    EXPECT_TRUE(good[i].Get(absl::Seconds(30)).ok()) << i;
    EXPECT_EQ(bad[i].Get(absl::Seconds(30)).status().code(), absl::StatusCode::kNotFound) << i;
  }
}

TEST_F(PoolIntegrationTest, GetTimesOutWhileTheJobKeepsRunning) {
  AsyncResult r = pool_->ApplyAsync("sleep", {1.0});
  absl::StatusOr<Value> v = r.Get(absl::Milliseconds(100));
  EXPECT_EQ(v.status().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_FALSE(r.Ready());
  EXPECT_EQ(r.Successful().status().code(), absl::StatusCode::kFailedPrecondition);
  ASSERT_TRUE(r.Get(absl::Seconds(30)).ok());
  EXPECT_TRUE(r.Ready());
  EXPECT_EQ(*r.Successful(), true);
  // A second Get returns the same value at once.
  EXPECT_TRUE(r.Get(absl::ZeroDuration()).ok());
}

TEST_F(PoolIntegrationTest, CallbacksRunOnceWithTheResult) {
  absl::Notification done;
  Value seen;
  CallOptions options;
  options.callback = [&](const Value& v) {
    seen = v;
    done.Notify();
  };
  pool_->ApplyAsync("echo", {"x"}, options);
  ASSERT_TRUE(done.WaitForNotificationWithTimeout(absl::Seconds(30)));
  EXPECT_EQ(seen, Value(ValueList{"x"}));

  absl::Notification failed;
  absl::Status error;
  CallOptions failing;
  failing.error_callback = [&](const absl::Status& s) {
    error = s;
    failed.Notify();
  };
  pool_->ApplyAsync("sleep", {"not a number"}, failing);
  ASSERT_TRUE(failed.WaitForNotificationWithTimeout(absl::Seconds(30)));
  EXPECT_EQ(error.code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(PoolIntegrationTest, FailedItemFailsTheMap) {
  absl::StatusOr<std::vector<Value>> results =
      pool_->Map("sleep", {0, "bad", 0}, {.chunksize = 1});
  EXPECT_EQ(results.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(PoolIntegrationTest, ExecRunsACommandOnAWorker) {
  absl::StatusOr<Value> v = pool_->Apply("exec", {ValueList{"sh", "-c", "echo hi; echo oops >&2"}});
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(v->AsMap().at("exit_code"), Value(0));
  EXPECT_EQ(v->AsMap().at("stdout"), Value("hi\n"));
  EXPECT_EQ(v->AsMap().at("stderr"), Value("oops\n"));

  absl::StatusOr<Value> failed = pool_->Apply("exec", {ValueList{"sh", "-c", "exit 3"}});
  EXPECT_FALSE(failed.ok());
  EXPECT_THAT(std::string(failed.status().message()), HasSubstr("3"));
}

TEST_F(PoolIntegrationTest, CancelPendingJob) {
  // Two slots busy, so the third job waits and can be cancelled.
  AsyncResult a = pool_->ApplyAsync("sleep", {2});
  AsyncResult b = pool_->ApplyAsync("sleep", {2});
  AsyncResult c = pool_->ApplyAsync("sleep", {2});
  ASSERT_TRUE(c.Cancel().ok());
  EXPECT_EQ(c.Get(absl::Seconds(10)).status().code(), absl::StatusCode::kCancelled);
  EXPECT_TRUE(a.Get(absl::Seconds(30)).ok());
  EXPECT_TRUE(b.Get(absl::Seconds(30)).ok());
}

TEST_F(PoolIntegrationTest, ConnectToNothingFailsClearly) {
  absl::StatusOr<Pool> pool =
      Pool::Connect("127.0.0.1:1", {.connect_timeout = absl::Milliseconds(300)});
  EXPECT_EQ(pool.status().code(), absl::StatusCode::kUnavailable);
}

TEST_F(PoolIntegrationTest, SameIdempotencyKeyFromTwoClientsIsOneJob) {
  absl::StatusOr<Pool> other = Pool::Connect(cluster_->address());
  ASSERT_TRUE(other.ok()) << other.status();
  const CallOptions options{.idempotency_key = "nightly-2026-11-26"};
  AsyncResult first = pool_->ApplyAsync("echo", {"first"}, options);
  ASSERT_TRUE(first.Wait(absl::Seconds(30)));
  AsyncResult again = other->ApplyAsync("echo", {"again"}, options);
  EXPECT_EQ(again.id(), first.id());
  absl::StatusOr<Value> v = again.Get(absl::Seconds(30));
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(*v, Value(ValueList{"first"}));  // the job submitted first, not a second one
  CliResult jobs = cluster_->RunCli({"jobs"});
  EXPECT_EQ(std::count(jobs.out.begin(), jobs.out.end(), '\n'), 2) << jobs.out;  // header + 1
}

TEST_F(PoolIntegrationTest, LabelledJobWaitsForANodeWithItsLabels) {
  AsyncResult gpu_job = pool_->ApplyAsync("echo", {"on gpu"}, {.labels = {{"gpu", "1"}}});
  const std::string pending = gpu_job.id() + "\tPENDING\n";
  ASSERT_TRUE(Eventually([&] { return cluster_->RunCli({"status", gpu_job.id()}).out == pending; },
                         absl::Seconds(30)));
  // The node without the label is idle and runs a job sent after it, yet not it.
  ASSERT_TRUE(pool_->Apply("echo", {"plain"}).ok());
  EXPECT_EQ(cluster_->RunCli({"status", gpu_job.id()}).out, pending);
  EXPECT_FALSE(gpu_job.Ready());

  absl::StatusOr<int> gpu_node = cluster_->AddWorker(1, {"--label", "gpu=1"});
  ASSERT_TRUE(gpu_node.ok()) << gpu_node.status();
  absl::StatusOr<Value> v = gpu_job.Get(absl::Seconds(30));
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(*v, Value(ValueList{"on gpu"}));
  EXPECT_THAT(cluster_->RunCli({"status", "-v", gpu_job.id()}).out,
              HasSubstr(absl::StrCat("attempt 1 on node", *gpu_node)));
}

}  // namespace
}  // namespace netpool

namespace netpool {
namespace {

using ::netpool::testing::kSanitized;
using ::netpool::testing::TestCluster;

// Terminate with 10,000 queued jobs used to take 6-18 s on the durable store
// (a commit per cancelled job), longer each time on the same data directory.
TEST(PoolTerminateTest, TenThousandQueuedJobsEndQuicklyOnTheDurableStoreEveryTime) {
  constexpr int kJobs = 10'000;
  // The issue asks for 1 s (it takes 0.2-0.3 s), with room for a loaded CI
  // machine. A sanitized build takes ten times as long and only shows that
  // every job ends cancelled.
  const absl::Duration kLimit = kSanitized ? absl::Seconds(60) : absl::Seconds(4);
  absl::StatusOr<std::unique_ptr<TestCluster>> cluster =
      TestCluster::Start({.workers = 0, .durable = true});
  ASSERT_TRUE(cluster.ok()) << cluster.status();
  for (int round = 0; round < 3; ++round) {
    absl::StatusOr<Pool> pool = Pool::Connect((*cluster)->address(), (*cluster)->connect_options());
    ASSERT_TRUE(pool.ok()) << pool.status();
    std::vector<AsyncResult> results;
    results.reserve(kJobs);
    for (int i = 0; i < kJobs; ++i) results.push_back(pool->ApplyAsync("sleep", {30}));
    // All of them queued at the scheduler (no node runs "sleep" here).
    ASSERT_TRUE(Eventually(
        [&] {
          absl::StatusOr<netpool::v1::GetStatsResponse> stats =
              internal::ClientOf(*pool).scheduler().GetStats();
          return stats.ok() && stats->pending() == kJobs;
        },
        absl::Seconds(60)));

    const absl::Time start = absl::Now();
    pool->Terminate();
    const absl::Duration took = absl::Now() - start;
    std::printf("round %d: Terminate of %d queued jobs took %s\n", round, kJobs,
                absl::FormatDuration(took).c_str());
    EXPECT_LT(took, kLimit) << "round " << round;
    for (const AsyncResult& result : results) {
      ASSERT_TRUE(result.Ready()) << result.id();
      EXPECT_EQ(result.Get(absl::ZeroDuration()).status().code(), absl::StatusCode::kCancelled);
    }
  }
}

}  // namespace
}  // namespace netpool
