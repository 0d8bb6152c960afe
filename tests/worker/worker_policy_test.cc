// What a worker node lets its jobs do (--allow-exec, --exec-allow,
// --max-memory, --max-open-files, --run-as), seen as a user sees it: a real
// netpoold, a real netpool-worker with those flags, and the netpool CLI.
#include <pwd.h>
#include <signal.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/proc.h"
#include "tests/support/test_cluster.h"
#include "worker/process_policy.h"

namespace netpool {
namespace {

using ::netpool::testing::CliResult;
using ::netpool::testing::TestCluster;
using ::netpool::testing::WaitUntilGone;
using ::testing::HasSubstr;

constexpr int kExitFailed = 1;

// A scheduler with one node of one process started with `flags`. Each
// test names every policy flag it needs, --allow-exec included. TestCluster
// may give its nodes --allow-exec itself, for the many tests that use exec;
// a later --allow-exec=false takes it back.
std::unique_ptr<TestCluster> ClusterWithNode(const std::vector<std::string>& flags) {
  absl::StatusOr<std::unique_ptr<TestCluster>> cluster = TestCluster::Start({.workers = 0});
  EXPECT_TRUE(cluster.ok()) << cluster.status();
  if (!cluster.ok()) return nullptr;
  absl::StatusOr<int> node = (*cluster)->AddWorker(1, flags);
  EXPECT_TRUE(node.ok()) << node.status();
  if (!node.ok()) return nullptr;
  return *std::move(cluster);
}

TEST(WorkerPolicy, WithoutAllowExecTheSchedulerRefusesExecJobs) {
  std::unique_ptr<TestCluster> cluster = ClusterWithNode({"--allow-exec=false"});
  ASSERT_NE(cluster, nullptr);
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {"exec", "--", "true"}, {"submit", "exec", R"(["true"])"}}) {
    CliResult r = cluster->RunCli(args);
    EXPECT_EQ(r.exit_code, kExitFailed) << args[0] << ": " << r.err;
    EXPECT_THAT(r.err, HasSubstr("unknown function \"exec\": no connected worker offers it"))
        << args[0];
    EXPECT_TRUE(r.out.empty()) << "no job id: " << r.out;
  }
  // The node itself serves everything else.
  CliResult echo = cluster->RunCli({"submit", "echo", "1"});
  ASSERT_EQ(echo.exit_code, 0) << echo.err;
}

TEST(WorkerPolicy, AllowExecRunsCommands) {
  std::unique_ptr<TestCluster> cluster = ClusterWithNode({"--allow-exec"});
  ASSERT_NE(cluster, nullptr);
  CliResult r = cluster->RunCli({"exec", "--", "sh", "-c", "echo ok"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "ok\n");
}

TEST(WorkerPolicy, ExecAllowRunsMatchingCommandsOnly) {
  std::unique_ptr<TestCluster> cluster =
      ClusterWithNode({"--allow-exec", "--exec-allow", "/bin/*", "--exec-allow", "sh"});
  ASSERT_NE(cluster, nullptr);
  CliResult allowed = cluster->RunCli({"exec", "--", "sh", "-c", "echo ok"});
  EXPECT_EQ(allowed.exit_code, 0) << allowed.err;
  EXPECT_EQ(allowed.out, "ok\n");
  CliResult by_path = cluster->RunCli({"exec", "--", "/bin/echo", "ok"});
  EXPECT_EQ(by_path.exit_code, 0) << by_path.err;

  CliResult refused = cluster->RunCli({"exec", "--", "rm", "-f", "/nonexistent/netpool"});
  EXPECT_EQ(refused.exit_code, kExitFailed) << refused.err;
  EXPECT_THAT(refused.err, HasSubstr("exec: \"rm\" is not allowed on this node "
                                     "(--exec-allow /bin/* --exec-allow sh)"));
}

TEST(WorkerPolicy, CommandsInheritTheOpenFileLimitAndDumpNoCore) {
  std::unique_ptr<TestCluster> cluster =
      ClusterWithNode({"--allow-exec", "--max-open-files", "64"});
  ASSERT_NE(cluster, nullptr);
  CliResult r = cluster->RunCli({"exec", "--", "sh", "-c", "ulimit -n; ulimit -c"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "64\n0\n");
}

TEST(WorkerPolicy, CommandsInheritTheMemoryLimitAndCannotAllocateBeyondIt) {
  // E.g. an AddressSanitizer build, whose shadow memory alone is terabytes.
  if (absl::Status s = CheckProcessPolicy({.max_memory_bytes = 256 << 20}); !s.ok()) {
    GTEST_SKIP() << s;
  }
  std::unique_ptr<TestCluster> cluster = ClusterWithNode({"--allow-exec", "--max-memory", "256M"});
  ASSERT_NE(cluster, nullptr);
  CliResult limit = cluster->RunCli({"exec", "--", "sh", "-c", "ulimit -v"});
  EXPECT_EQ(limit.exit_code, 0) << limit.err;
  EXPECT_EQ(limit.out, "262144\n");  // KiB
  // A 300 MiB buffer does not fit in 256 MiB of address space.
  CliResult big =
      cluster->RunCli({"exec", "--", "dd", "if=/dev/zero", "of=/dev/null", "bs=300M", "count=1"});
  EXPECT_NE(big.exit_code, 0) << big.err;
  EXPECT_THAT(big.err, HasSubstr("memory exhausted"));
  CliResult small =
      cluster->RunCli({"exec", "--", "dd", "if=/dev/zero", "of=/dev/null", "bs=16M", "count=1"});
  EXPECT_EQ(small.exit_code, 0) << small.err;
}

TEST(WorkerPolicy, RunAsRunsWorkerProcessesAndTheirCommandsAsThatUser) {
  if (::geteuid() != 0) GTEST_SKIP() << "only root can run worker processes as another user";
  const passwd* nobody = ::getpwnam("nobody");
  if (nobody == nullptr) GTEST_SKIP() << "no user nobody";
  const uid_t uid = nobody->pw_uid;
  const gid_t gid = nobody->pw_gid;
  std::unique_ptr<TestCluster> cluster = ClusterWithNode({"--allow-exec", "--run-as", "nobody"});
  ASSERT_NE(cluster, nullptr);
  CliResult r = cluster->RunCli({"exec", "--", "sh", "-c", "id -u; id -g; id -G"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, absl::StrCat(uid, "\n", gid, "\n", gid, "\n"));

  // A change of user must not undo the tie to the node: killing the node
  // still ends its worker processes.
  std::vector<pid_t> workers = cluster->WorkerProcessPids(0);
  ASSERT_EQ(workers.size(), 1u);
  cluster->worker(0).Signal(SIGKILL);
  for (pid_t worker : workers) EXPECT_TRUE(WaitUntilGone(worker)) << worker;
}

}  // namespace
}  // namespace netpool
