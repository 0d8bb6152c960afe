// Runs the real netpool-worker binary. No scheduler is needed: a node starts
// its worker processes whether or not it can connect.
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "tests/support/proc.h"
#include "worker/command.h"

namespace netpool {
namespace {

using ::netpool::testing::ChildPids;
using ::netpool::testing::IsRunning;

constexpr absl::Duration kWait = absl::Seconds(20);
// Nothing listens on port 1: the node keeps retrying in the background.
const std::vector<std::string> kNodeArgs = {
    NETPOOL_WORKER_BINARY, "--scheduler", "127.0.0.1:1", "--processes", "2", "--log-level", "off"};

CommandOutcome RunWorker(std::vector<std::string> args) {
  args.insert(args.begin(), NETPOOL_WORKER_BINARY);
  CommandOptions options;
  options.timeout = kWait;
  absl::StatusOr<CommandOutcome> outcome = RunCommand(args, options);
  EXPECT_TRUE(outcome.ok()) << outcome.status();
  return outcome.value_or(CommandOutcome{});
}

// Polls `condition` until it holds or kWait passes.
bool Eventually(const std::function<bool()>& condition) {
  absl::Time deadline = absl::Now() + kWait;
  while (!condition()) {
    if (absl::Now() > deadline) return false;
    absl::SleepFor(absl::Milliseconds(10));
  }
  return true;
}

class RunningNode {
 public:
  RunningNode() {
    std::vector<char*> argv;
    for (const std::string& arg : kNodeArgs) argv.push_back(const_cast<char*>(arg.c_str()));
    argv.push_back(nullptr);
    EXPECT_EQ(posix_spawn(&pid_, argv[0], nullptr, nullptr, argv.data(), environ), 0);
  }
  ~RunningNode() {
    if (!reaped_) {
      ::kill(pid_, SIGKILL);
      Wait();
    }
  }
  pid_t pid() const { return pid_; }
  // Exit code, or 128 + signal.
  int Wait() {
    int status = 0;
    ::waitpid(pid_, &status, 0);
    reaped_ = true;
    return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
  }

 private:
  pid_t pid_ = 0;
  bool reaped_ = false;
};

TEST(WorkerBinary, HelpPrintsTheFlagsAndExitsZero) {
  CommandOutcome outcome = RunWorker({"--help"});
  EXPECT_EQ(outcome.exit_code, 0);
  for (const char* flag : {"--scheduler", "--processes", "--name", "--label",
                           "--max-tasks-per-child", "--log-level"}) {
    EXPECT_TRUE(absl::StrContains(outcome.stdout_data, flag)) << flag;
  }
}

TEST(WorkerBinary, BadFlagsGiveOneLineAndExit64) {
  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{{"--bogus"},
                                             {"--processes", "0"},
                                             {"--processes", "many"},
                                             {"--max-tasks-per-child", "-1"},
                                             {"--label", "no-equals-sign"},
                                             {"--log-level", "loud"}}) {
    CommandOutcome outcome = RunWorker(args);
    EXPECT_EQ(outcome.exit_code, 64) << args[0];
    EXPECT_TRUE(absl::StartsWith(outcome.stderr_data, "netpool-worker: ")) << outcome.stderr_data;
    EXPECT_EQ(std::count(outcome.stderr_data.begin(), outcome.stderr_data.end(), '\n'), 1)
        << outcome.stderr_data;
  }
}

TEST(WorkerBinary, SigtermStopsTheNodeAndItsWorkerProcesses) {
  RunningNode node;
  std::vector<pid_t> workers;
  ASSERT_TRUE(Eventually([&] { return (workers = ChildPids(node.pid())).size() == 2; }));
  ::kill(node.pid(), SIGTERM);
  EXPECT_EQ(node.Wait(), 0);
  for (pid_t worker : workers) EXPECT_FALSE(IsRunning(worker)) << worker;
}

TEST(WorkerBinary, KillingTheNodeLeavesNoWorkerProcessBehind) {
  RunningNode node;
  std::vector<pid_t> workers;
  ASSERT_TRUE(Eventually([&] { return (workers = ChildPids(node.pid())).size() == 2; }));
  ::kill(node.pid(), SIGKILL);
  EXPECT_EQ(node.Wait(), 128 + SIGKILL);
  for (pid_t worker : workers) {
    EXPECT_TRUE(Eventually([&] { return !IsRunning(worker); })) << worker;
  }
}

}  // namespace
}  // namespace netpool
