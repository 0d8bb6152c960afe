// Jobs that take other jobs' results as arguments, on a real scheduler and
// worker node: the scheduler holds the dependent job, substitutes the
// results, and fails it when a dependency fails.
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "netpool/netpool.h"
#include "tests/support/pool_cluster_test.h"
#include "tests/support/test_cluster.h"

namespace netpool {
namespace {

using ::netpool::testing::CliResult;
using ::testing::HasSubstr;

class DependenciesTest : public ::netpool::testing::PoolClusterTest {};

TEST_F(DependenciesTest, AsyncResultArgumentIsReplacedByItsResult) {
  AsyncResult first = pool_->ApplyAsync("echo", {"a"});
  AsyncResult second = pool_->ApplyAsync("echo", {first, 2});
  AsyncResult nested = pool_->ApplyAsync("echo", {ValueList{second, first}});
  absl::StatusOr<Value> v = nested.Get(absl::Seconds(30));
  ASSERT_TRUE(v.ok()) << v.status();
  const Value a = ValueList{"a"};
  const Value a2 = ValueList{a, 2};
  EXPECT_EQ(*v, Value(ValueList{ValueList{a2, a}}));
}

TEST_F(DependenciesTest, DependentWaitsOnTheSchedulerUntilItsDependencySucceeds) {
  // Long enough to outlast the CLI call below in a sanitized build.
  AsyncResult slow = pool_->ApplyAsync("sleep", {4.0});
  AsyncResult after = pool_->ApplyAsync("echo", {slow});
  // The second slot is free, yet the dependent does not run before `slow`.
  CliResult status = cluster_->RunCli({"status", "-v", after.id()});
  EXPECT_THAT(status.out, HasSubstr("PENDING"));
  EXPECT_THAT(status.out, HasSubstr(slow.id()));
  EXPECT_FALSE(after.Wait(absl::Milliseconds(300)));
  absl::StatusOr<Value> v = after.Get(absl::Seconds(30));
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_TRUE(slow.Ready());
}

TEST_F(DependenciesTest, FailedDependencyFailsTheDependentWithItsError) {
  AsyncResult failing = pool_->ApplyAsync("exec", {ValueList{"sh", "-c", "exit 3"}});
  AsyncResult dependent = pool_->ApplyAsync("echo", {failing});
  AsyncResult chained = pool_->ApplyAsync("echo", {dependent});
  absl::StatusOr<Value> v = dependent.Get(absl::Seconds(30));
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(v.status().message(), HasSubstr("dependency " + failing.id() + " failed: "));
  absl::StatusOr<Value> c = chained.Get(absl::Seconds(30));
  EXPECT_THAT(c.status().message(), HasSubstr("dependency " + dependent.id() + " failed: "));
}

TEST_F(DependenciesTest, CancelledDependencyFailsTheDependent) {
  AsyncResult long_job = pool_->ApplyAsync("sleep", {60.0});
  AsyncResult dependent = pool_->ApplyAsync("echo", {long_job});
  ASSERT_TRUE(long_job.Cancel().ok());
  absl::StatusOr<Value> v = dependent.Get(absl::Seconds(30));
  ASSERT_FALSE(v.ok());
  EXPECT_THAT(v.status().message(),
              HasSubstr("dependency " + long_job.id() + " was cancelled"));
}

TEST_F(DependenciesTest, MapOverResultsOfEarlierJobs) {
  std::vector<Value> items;
  for (int i = 0; i < 5; ++i) items.push_back(pool_->ApplyAsync("echo", {i}));
  absl::StatusOr<std::vector<Value>> results = pool_->Map("echo", items, {.chunksize = 2});
  ASSERT_TRUE(results.ok()) << results.status();
  ASSERT_EQ(results->size(), 5u);
  EXPECT_EQ((*results)[4], Value(ValueList{ValueList{4}}));
}

TEST_F(DependenciesTest, ReferenceToAnUnknownJobIsNotFound) {
  absl::StatusOr<Value> v = pool_->Apply("echo", {Value(JobRef{"j-nobody"})});
  EXPECT_EQ(v.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(v.status().message(), HasSubstr("dependency j-nobody"));
}

}  // namespace
}  // namespace netpool
