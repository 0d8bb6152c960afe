// Runs the real netpool-worker binary. Most tests need no scheduler: a node
// starts its worker processes whether or not it can connect. The drain tests
// connect it to a stand-in scheduler (FakeHub) to see what it sends.
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/time/clock.h"
#include "common/value_proto.h"
#include "gtest/gtest.h"
#include "netpool/v1/worker.pb.h"
#include "tests/support/eventually.h"
#include "tests/support/proc.h"
#include "tests/support/subprocess.h"
#include "tests/worker/fake_hub.h"
#include "tests/worker/shell_job.h"
#include "worker/command.h"

namespace netpool {
namespace {

using ::netpool::testing::ChildPids;
using ::netpool::testing::FakeHub;
using ::netpool::testing::IsRunning;
using ::netpool::testing::ShellJob;
using ::netpool::testing::Subprocess;
using ::netpool::testing::WaitUntilGone;

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
  return testing::Eventually(condition, kWait);
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
                           "--max-tasks-per-child", "--grace", "--init", "--init-args",
                           "--log-level", "--allow-exec", "--exec-allow", "--max-memory",
                           "--max-open-files", "--run-as", "--max-output"}) {
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
                                             {"--log-level", "loud"},
                                             {"--grace", "-1"},
                                             {"--grace", "nan"},
                                             {"--init", "no.such.function"},
                                             {"--init-args", "[1]"},
                                             {"--init", "echo", "--init-args", "{}"},
                                             {"--init", "echo", "--init-args", "[1,"},
                                             {"--exec-allow", "sh"},
                                             {"--allow-exec", "--exec-allow", ""},
                                             {"--max-memory", "lots"},
                                             {"--max-memory", "1M"},
                                             {"--max-output", "0"},
                                             {"--max-output", "31M"},
                                             {"--max-output", "lots"},
                                             {"--max-open-files", "8"},
                                             {"--run-as", "no-such-user.netpool"}}) {
    CommandOutcome outcome = RunWorker(args);
    EXPECT_EQ(outcome.exit_code, 64) << args[0];
    EXPECT_TRUE(absl::StartsWith(outcome.stderr_data, "netpool-worker: ")) << outcome.stderr_data;
    EXPECT_EQ(std::count(outcome.stderr_data.begin(), outcome.stderr_data.end(), '\n'), 1)
        << outcome.stderr_data;
  }
}

TEST(WorkerBinary, UnknownInitializerIsAUsageError) {
  CommandOutcome outcome = RunWorker({"--init", "no.such.function"});
  EXPECT_EQ(outcome.exit_code, 64);
  EXPECT_EQ(outcome.stderr_data, "netpool-worker: --init: unknown function \"no.such.function\"\n");
}

TEST(WorkerBinary, FailingInitializerEndsTheNodeWithExitCode1AndItsMessage) {
  // The built-in sleep refuses a string: a real initializer that fails.
  CommandOutcome outcome = RunWorker({"--scheduler", "127.0.0.1:1", "--processes", "2",
                                      "--log-level", "off", "--init", "sleep", "--init-args",
                                      "[\"x\"]"});
  EXPECT_EQ(outcome.exit_code, 1);
  EXPECT_EQ(outcome.stderr_data,
            "netpool-worker: initializer sleep failed: sleep: expected one argument, a number of "
            "seconds >= 0\n");
}

TEST(WorkerBinary, ExecAllowNeedsAllowExec) {
  CommandOutcome outcome = RunWorker({"--exec-allow", "/usr/bin/*"});
  EXPECT_EQ(outcome.exit_code, 64);
  EXPECT_EQ(outcome.stderr_data, "netpool-worker: --exec-allow requires --allow-exec\n");
}

TEST(WorkerBinary, RunAsIsRefusedUnlessTheNodeRunsAsRoot) {
  const std::string expected =
      "netpool-worker: --run-as: only a node running as root can run its worker processes as "
      "another user\n";
  if (::geteuid() != 0) {
    CommandOutcome outcome = RunWorker({"--run-as", "nobody"});
    EXPECT_EQ(outcome.exit_code, 64);
    EXPECT_EQ(outcome.stderr_data, expected);
    return;
  }
  // As root, the node must be someone else: nobody, if it may run this binary.
  CommandOptions options;
  options.timeout = kWait;
  absl::StatusOr<CommandOutcome> outcome = RunCommand(
      {"su", "-s", "/bin/sh", "-c",
       absl::StrCat("exec '", NETPOOL_WORKER_BINARY, "' --run-as nobody"), "nobody"},
      options);
  ASSERT_TRUE(outcome.ok()) << outcome.status();
  if (outcome->exit_code == 126 || outcome->exit_code == 127) {
    GTEST_SKIP() << "nobody cannot run " << NETPOOL_WORKER_BINARY << ": "
                 << outcome->stderr_data;
  }
  EXPECT_EQ(outcome->exit_code, 64) << outcome->stderr_data;
  EXPECT_TRUE(absl::EndsWith(outcome->stderr_data, expected)) << outcome->stderr_data;
}

TEST(WorkerBinary, RunAsAnUnknownUserIsAUsageError) {
  CommandOutcome outcome = RunWorker({"--run-as", "no-such-user.netpool"});
  EXPECT_EQ(outcome.exit_code, 64);
  EXPECT_TRUE(absl::StartsWith(outcome.stderr_data, "netpool-worker: --run-as: "))
      << outcome.stderr_data;
}

TEST(WorkerBinary, ProcessesDefaultToOnePerCore) {
  Subprocess node = *Subprocess::Start(
      {NETPOOL_WORKER_BINARY, "--scheduler", "127.0.0.1:1", "--log-level", "off"});
  const size_t cores = std::max(1u, std::thread::hardware_concurrency());
  EXPECT_TRUE(Eventually([&] { return ChildPids(node.pid()).size() == cores; }));
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

// A netpool-worker with these extra flags connected to a FakeHub and
// welcomed; returns its hello.
class PolicyNode : public ::testing::Test {
 protected:
  v1::WorkerHello Start(const std::vector<std::string>& flags) {
    EXPECT_TRUE(hub_.ok());
    std::vector<std::string> argv = {NETPOOL_WORKER_BINARY, "--scheduler", hub_.address(),
                                     "--processes", "1", "--log-level", "off"};
    argv.insert(argv.end(), flags.begin(), flags.end());
    absl::StatusOr<Subprocess> node = Subprocess::Start(argv);
    EXPECT_TRUE(node.ok()) << node.status();
    if (node.ok()) node_ = *std::move(node);
    std::optional<v1::WorkerHello> hello = hub_.HelloOf(1, kWait);
    EXPECT_TRUE(hello.has_value());
    EXPECT_TRUE(hub_.Welcome());
    return hello.value_or(v1::WorkerHello());
  }

  // Sends the node an exec job, whatever its hello offered; its result.
  v1::JobResult Exec(const std::string& job_id, const std::vector<std::string>& argv) {
    v1::SchedulerMessage message;
    v1::Assignment* assignment = message.add_assignments();
    assignment->set_job_id(job_id);
    assignment->set_function("exec");
    ToProto(Value(ValueList(argv.begin(), argv.end())), assignment->add_args());
    EXPECT_TRUE(hub_.Send(message));
    std::optional<FakeHub::Received> received = hub_.ResultMessage(job_id, kWait);
    EXPECT_TRUE(received.has_value()) << "no result for " << job_id;
    return received.has_value() ? received->message.results(0) : v1::JobResult();
  }

  static bool Offers(const v1::WorkerHello& hello, const std::string& function) {
    return std::find(hello.functions().begin(), hello.functions().end(), function) !=
           hello.functions().end();
  }

  FakeHub hub_;
  Subprocess node_;
};

TEST_F(PolicyNode, WithoutAllowExecTheNodeNeitherOffersNorRunsExec) {
  v1::WorkerHello hello = Start({});
  EXPECT_FALSE(Offers(hello, "exec"));
  EXPECT_TRUE(Offers(hello, "echo"));
  // An exec job that reaches the node anyway fails in the worker process.
  const std::string marker =
      absl::StrCat(::testing::TempDir(), "/netpool-", ::getpid(), "-exec-refused");
  ::unlink(marker.c_str());
  v1::JobResult result = Exec("refused", {"touch", marker});
  EXPECT_EQ(result.state(), v1::FAILED);
  EXPECT_EQ(result.error().code(), static_cast<int>(absl::StatusCode::kPermissionDenied));
  EXPECT_EQ(result.error().message(),
            "exec is not allowed on this node (start netpool-worker with --allow-exec)");
  EXPECT_NE(::access(marker.c_str(), F_OK), 0) << "the command ran";
}

TEST_F(PolicyNode, AllowExecGivenTwiceOffersAndRunsExec) {
  v1::WorkerHello hello = Start({"--allow-exec", "--allow-exec"});
  EXPECT_TRUE(Offers(hello, "exec"));
  v1::JobResult result = Exec("allowed", {"sh", "-c", "echo ok"});
  EXPECT_EQ(result.state(), v1::SUCCEEDED) << result.error().message();
}

TEST_F(PolicyNode, ExecAllowRefusesOtherCommands) {
  v1::WorkerHello hello = Start({"--allow-exec", "--exec-allow", "/bin/*", "--exec-allow", "sh"});
  EXPECT_TRUE(Offers(hello, "exec"));
  EXPECT_EQ(Exec("matching", {"/bin/echo", "ok"}).state(), v1::SUCCEEDED);
  v1::JobResult refused = Exec("refused", {"rm", "-f", "/nonexistent/netpool"});
  EXPECT_EQ(refused.error().code(), static_cast<int>(absl::StatusCode::kPermissionDenied));
  EXPECT_EQ(refused.error().message(),
            "exec: \"rm\" is not allowed on this node (--exec-allow /bin/* --exec-allow sh)");
}

// A netpool-worker connected to a FakeHub and welcomed.
class DrainingNode : public ::testing::Test {
 protected:
  void Start(const std::string& grace) {
    ASSERT_TRUE(hub_.ok());
    absl::StatusOr<Subprocess> node =
        Subprocess::Start({NETPOOL_WORKER_BINARY, "--scheduler", hub_.address(), "--processes", "1",
                           "--grace", grace, "--log-level", "off", "--allow-exec"});
    ASSERT_TRUE(node.ok()) << node.status();
    node_ = *std::move(node);
    ASSERT_TRUE(hub_.HelloOf(1, kWait).has_value());
    ASSERT_TRUE(hub_.Welcome());
  }

  // Runs `job` on the node; returns its pid once it runs.
  pid_t Run(const std::string& job_id, const ShellJob& job) {
    v1::SchedulerMessage message;
    v1::Assignment* assignment = message.add_assignments();
    assignment->set_job_id(job_id);
    assignment->set_function("exec");
    for (const Value& arg : job.args()) ToProto(arg, assignment->add_args());
    EXPECT_TRUE(hub_.Send(message));
    std::optional<pid_t> pid = job.WaitUntilStarted(kWait);
    EXPECT_TRUE(pid.has_value()) << job_id << " never started";
    return pid.value_or(0);
  }

  bool SawDraining() {
    return hub_
        .WaitFor([](const FakeHub::Received& r) { return r.message.draining(); }, kWait)
        .has_value();
  }

  FakeHub hub_;
  Subprocess node_;
};

TEST_F(DrainingNode, SigtermLetsTheRunningJobFinishAndSendsItsResult) {
  Start(/*grace=*/"5");
  ShellJob job("finishes", "sleep 1");
  Run("finishes", job);
  node_.Signal(SIGTERM);
  EXPECT_TRUE(SawDraining());
  std::optional<FakeHub::Received> result = hub_.ResultMessage("finishes", kWait);
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(result->message.results(0).state(), v1::SUCCEEDED);
  EXPECT_EQ(result->message.credits(), 0);
  EXPECT_EQ(node_.Wait(kWait), 0);
  EXPECT_TRUE(hub_.WaitForClosedByNode(1, kWait));
}

TEST_F(DrainingNode, JobsThatOutliveTheGraceAreKilledAndTheNodeExits) {
  Start(/*grace=*/"0.5");
  ShellJob job("outlives", "exec sleep 30");
  pid_t pid = Run("outlives", job);
  std::vector<pid_t> worker_processes = ChildPids(node_.pid());
  ASSERT_FALSE(worker_processes.empty());
  absl::Time signalled = absl::Now();
  node_.Signal(SIGTERM);
  EXPECT_EQ(node_.Wait(kWait), 0);
  // Far less than the job's 30 s: the grace, then the kill.
  EXPECT_LT(absl::Now() - signalled, absl::Seconds(10));
  EXPECT_TRUE(WaitUntilGone(pid));
  for (pid_t worker : worker_processes) EXPECT_TRUE(WaitUntilGone(worker)) << worker;
  for (const FakeHub::Received& r : hub_.received()) {
    EXPECT_EQ(r.message.results_size(), 0) << "the scheduler requeues the killed job";
  }
}

TEST_F(DrainingNode, SecondSigtermEndsTheGracePeriodAtOnce) {
  Start(/*grace=*/"60");
  ShellJob job("cut-short", "exec sleep 30");
  pid_t pid = Run("cut-short", job);
  node_.Signal(SIGTERM);
  ASSERT_TRUE(SawDraining());
  node_.Signal(SIGTERM);
  EXPECT_EQ(node_.Wait(kWait), 0);  // well before the 30 s job or the 60 s grace
  EXPECT_TRUE(WaitUntilGone(pid));
}

}  // namespace
}  // namespace netpool
