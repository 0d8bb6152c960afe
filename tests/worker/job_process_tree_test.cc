// What a job leaves behind and what it sends back, through a real netpoold,
// netpool-worker and the CLI: a node that stops takes its jobs' whole
// process trees along (and the next node ends those of a node killed with
// SIGKILL), a result the scheduler would refuse fails its one job
// once, and `netpool exec` says when a node cut a command's output.
#include <signal.h>
#include <unistd.h>

#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "common/value_proto.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/eventually.h"
#include "tests/support/proc.h"
#include "tests/support/test_cluster.h"
#include "tests/worker/cgroup_probe.h"

namespace netpool {
namespace {

using ::netpool::testing::CgroupsUnavailable;
using ::netpool::testing::CliResult;
using ::netpool::testing::TestCluster;
using ::netpool::testing::WaitUntilGone;
using ::testing::HasSubstr;
using ::testing::MatchesRegex;

constexpr absl::Duration kWait = absl::Seconds(20);

std::unique_ptr<TestCluster> StartCluster(std::vector<std::string> worker_args = {}) {
  absl::StatusOr<std::unique_ptr<TestCluster>> cluster =
      TestCluster::Start({.workers = 1, .processes = 1, .worker_args = std::move(worker_args)});
  EXPECT_TRUE(cluster.ok()) << cluster.status();
  return cluster.ok() ? *std::move(cluster) : nullptr;
}

// The grandchildren of an exec job: a sleep in the command's process group
// and one that left it with setsid.
struct Tree {
  pid_t in_group = 0;
  pid_t in_own_session = 0;
};

// Runs an exec job that starts a Tree and waits; returns the tree once it runs.
Tree StartTreeJob(TestCluster& cluster) {
  const std::string file = absl::StrCat(::testing::TempDir(), "/netpool-node-tree-", ::getpid());
  ::unlink(file.c_str());
  CliResult exec = cluster.RunCli(
      {"exec", "--detach", "--", "sh", "-c",
       absl::StrCat("sleep 300 & a=$!; setsid sleep 300 & b=$!; echo $a $b > '", file,
                    ".tmp' && mv '", file, ".tmp' '", file, "'; wait")});
  EXPECT_EQ(exec.exit_code, 0) << exec.err;
  Tree tree;
  EXPECT_TRUE(netpool::testing::Eventually(
      [&] {
        std::ifstream in(file);
        return static_cast<bool>(in >> tree.in_group >> tree.in_own_session);
      },
      kWait));
  ::unlink(file.c_str());
  return tree;
}

TEST(JobProcessTree, StoppedNodeKillsTheProcessTreesOfItsJobs) {
  std::unique_ptr<TestCluster> cluster = StartCluster({"--grace", "0", "--log-level", "off"});
  ASSERT_NE(cluster, nullptr);
  const Tree tree = StartTreeJob(*cluster);
  cluster->worker(0).Signal(SIGTERM);
  ASSERT_TRUE(cluster->worker(0).Wait(kWait).has_value());
  EXPECT_TRUE(WaitUntilGone(tree.in_group, kWait));
  if (std::optional<std::string> why = CgroupsUnavailable()) GTEST_SKIP() << *why;
  EXPECT_TRUE(WaitUntilGone(tree.in_own_session, kWait));
}

// Only the worker processes die with a node killed by SIGKILL; the cgroup
// keeps the rest, and the next node on the host ends it.
TEST(JobProcessTree, NodeStartingOnTheHostEndsWhatAKilledNodeLeftBehind) {
  if (std::optional<std::string> why = CgroupsUnavailable()) GTEST_SKIP() << *why;
  std::unique_ptr<TestCluster> cluster = StartCluster({"--grace", "0", "--log-level", "off"});
  ASSERT_NE(cluster, nullptr);
  const Tree tree = StartTreeJob(*cluster);
  cluster->worker(0).Signal(SIGKILL);
  ASSERT_TRUE(cluster->worker(0).Wait(kWait).has_value());
  ASSERT_TRUE(cluster->AddWorker(1, {"--grace", "0", "--log-level", "off"}).ok());
  EXPECT_TRUE(WaitUntilGone(tree.in_group, kWait));
  EXPECT_TRUE(WaitUntilGone(tree.in_own_session, kWait));
}

TEST(JobProcessTree, ResultNestedTooDeepFailsItsJobOnceWithoutCostingTheNode) {
  std::unique_ptr<TestCluster> cluster = StartCluster();
  ASSERT_NE(cluster, nullptr);
  // The deepest argument a job may have; echo's result wraps it once more.
  const std::string deepest =
      absl::StrCat(std::string(kMaxValueDepth, '['), std::string(kMaxValueDepth, ']'));
  CliResult submit = cluster->RunCli({"submit", "echo", deepest});
  ASSERT_EQ(submit.exit_code, 0) << submit.err;
  const std::string id(absl::StripSuffix(submit.out, "\n"));

  CliResult get = cluster->RunCli({"get", id, "--timeout", "60"});
  EXPECT_EQ(get.exit_code, 1);
  EXPECT_THAT(get.err, HasSubstr("failed: result not sendable: value: value nests "
                                 "deeper than 32 levels"));
  CliResult status = cluster->RunCli({"status", "-v", id});
  EXPECT_THAT(status.out, MatchesRegex("[^\n]*\tFAILED\n(  [^\n]*\n)*  attempt 1 on node0 [^\n]*"
                                       "result not sendable[^\n]*\n"))
      << "one attempt only";
  // The node kept its stream: it still runs jobs.
  EXPECT_EQ(cluster->RunCli({"exec", "--", "true"}).exit_code, 0);
}

TEST(JobProcessTree, ExecSaysWhenTheNodeCutTheOutput) {
  std::unique_ptr<TestCluster> cluster = StartCluster({"--max-output", "1K"});
  ASSERT_NE(cluster, nullptr);
  CliResult exec = cluster->RunCli(
      {"exec", "--", "sh", "-c", "head -c 5000 /dev/zero | tr '\\0' a; echo fine >&2"});
  EXPECT_EQ(exec.exit_code, 0) << exec.err;
  EXPECT_EQ(exec.out, std::string(1024, 'a'));
  EXPECT_EQ(exec.err,
            "fine\nnetpool: stdout truncated at 1024 bytes by the worker node (--max-output)\n");
}

}  // namespace
}  // namespace netpool
