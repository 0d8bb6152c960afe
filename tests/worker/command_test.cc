#include "worker/command.h"

#include <stdlib.h>

#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "tests/support/proc.h"
#include "tests/worker/cgroup_probe.h"

namespace netpool {
namespace {

using ::netpool::testing::CgroupsUnavailable;
using ::netpool::testing::WaitUntilGone;

CommandOutcome RunOk(const std::vector<std::string>& argv, const CommandOptions& options = {}) {
  absl::StatusOr<CommandOutcome> outcome = RunCommand(argv, options);
  EXPECT_TRUE(outcome.ok()) << outcome.status();
  return outcome.ok() ? *outcome : CommandOutcome{};
}

TEST(RunCommand, CapturesStdoutAndStderrSeparately) {
  CommandOutcome outcome = RunOk({"sh", "-c", "echo out; echo err >&2"});
  EXPECT_EQ(outcome.exit_code, 0);
  EXPECT_EQ(outcome.signal, 0);
  EXPECT_EQ(outcome.stdout_data, "out\n");
  EXPECT_EQ(outcome.stderr_data, "err\n");
}

TEST(RunCommand, ReportsTheExitCode) { EXPECT_EQ(RunOk({"sh", "-c", "exit 3"}).exit_code, 3); }

TEST(RunCommand, ReportsDeathBySignalAsAShellDoes) {
  CommandOutcome outcome = RunOk({"sh", "-c", "kill -9 $$"});
  EXPECT_EQ(outcome.signal, 9);
  EXPECT_EQ(outcome.exit_code, 137);
}

TEST(RunCommand, CommandNotFoundExitsWith127) {
  CommandOutcome outcome = RunOk({"netpool-no-such-command", "x"});
  EXPECT_EQ(outcome.exit_code, 127);
  EXPECT_EQ(outcome.stderr_data,
            "netpool: exec: netpool-no-such-command: No such file or directory\n");
}

TEST(RunCommand, FileThatIsNotExecutableExitsWith126) {
  CommandOutcome outcome = RunOk({"/dev/null"});
  EXPECT_EQ(outcome.exit_code, 126);
  EXPECT_EQ(outcome.stderr_data, "netpool: exec: /dev/null: Permission denied\n");
}

TEST(RunCommand, FeedsStdin) {
  CommandOptions options;
  options.stdin_data = "hello\nworld\n";
  EXPECT_EQ(RunOk({"cat"}, options).stdout_data, "hello\nworld\n");
}

TEST(RunCommand, StdinIsEmptyWhenNotGiven) {
  CommandOutcome outcome = RunOk({"cat"});
  EXPECT_EQ(outcome.exit_code, 0);
  EXPECT_EQ(outcome.stdout_data, "");
}

TEST(RunCommand, LargeInputAndOutputOnAllStreamsDoNotDeadlock) {
  CommandOptions options;
  options.stdin_data = std::string(4 << 20, 'i');
  CommandOutcome outcome = RunOk(
      {"sh", "-c", "head -c 3000000 /dev/zero >&2; cat; head -c 2000000 /dev/zero >&2"}, options);
  EXPECT_EQ(outcome.exit_code, 0);
  EXPECT_EQ(outcome.stdout_data, *options.stdin_data);
  EXPECT_EQ(outcome.stderr_data.size(), 5000000u);
}

TEST(RunCommand, ProgramThatIgnoresItsInputDoesNotHurtTheCaller) {
  CommandOptions options;
  options.stdin_data = std::string(4 << 20, 'i');
  EXPECT_EQ(RunOk({"true"}, options).exit_code, 0);
}

TEST(RunCommand, AddsEnvToTheInheritedEnvironment) {
  ::setenv("NETPOOL_TEST_INHERITED", "kept", 1);
  CommandOptions options;
  options.env = {{"NETPOOL_TEST_ADDED", "added"}, {"NETPOOL_TEST_INHERITED", "replaced"}};
  CommandOutcome outcome = RunOk(
      {"sh", "-c", "printf '%s %s' \"$NETPOOL_TEST_ADDED\" \"$NETPOOL_TEST_INHERITED\""}, options);
  EXPECT_EQ(outcome.stdout_data, "added replaced");
  EXPECT_EQ(RunOk({"sh", "-c", "printf %s \"$NETPOOL_TEST_INHERITED\""}).stdout_data, "kept");
}

TEST(RunCommand, RunsInTheGivenDirectory) {
  CommandOptions options;
  options.cwd = "/usr";
  EXPECT_EQ(RunOk({"pwd"}, options).stdout_data, "/usr\n");
}

TEST(RunCommand, MissingDirectoryIsInvalidArgument) {
  CommandOptions options;
  options.cwd = "/nonexistent/netpool";
  EXPECT_EQ(RunCommand({"pwd"}, options).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(RunCommand, EmptyCommandIsInvalidArgument) {
  EXPECT_EQ(RunCommand({}, {}).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(RunCommand, TimeoutKillsTheCommandAndKeepsItsOutput) {
  CommandOptions options;
  options.timeout = absl::Milliseconds(200);
  absl::Time start = absl::Now();
  CommandOutcome outcome = RunOk({"sh", "-c", "echo started; exec sleep 30"}, options);
  EXPECT_LT(absl::Now() - start, absl::Seconds(10));
  EXPECT_TRUE(outcome.timed_out);
  EXPECT_EQ(outcome.signal, 9);
  EXPECT_EQ(outcome.exit_code, 137);
  EXPECT_EQ(outcome.stdout_data, "started\n");
}

TEST(RunCommand, CommandThatFinishesInTimeIsNotTimedOut) {
  CommandOptions options;
  options.timeout = absl::Seconds(30);
  CommandOutcome outcome = RunOk({"echo", "quick"}, options);
  EXPECT_FALSE(outcome.timed_out);
  EXPECT_EQ(outcome.stdout_data, "quick\n");
}

// The pids a shell command printed, one per line.
std::vector<pid_t> PidsIn(const std::string& text) {
  std::vector<pid_t> pids;
  for (absl::string_view line : absl::StrSplit(text, '\n', absl::SkipEmpty())) {
    pid_t pid = 0;
    EXPECT_TRUE(absl::SimpleAtoi(line, &pid)) << line;
    pids.push_back(pid);
  }
  return pids;
}

TEST(RunCommand, TimeoutKillsTheWholeProcessTree) {
  CommandOptions options;
  options.timeout = absl::Milliseconds(500);
  // A background sleep, and a foreground one that the shell waits for.
  CommandOutcome outcome = RunOk(
      {"sh", "-c", "sleep 302 & echo $!; sh -c 'echo $$; exec sleep 303'; echo x"}, options);
  EXPECT_TRUE(outcome.timed_out);
  std::vector<pid_t> sleeps = PidsIn(outcome.stdout_data);
  ASSERT_EQ(sleeps.size(), 2u) << outcome.stdout_data;
  for (pid_t pid : sleeps) EXPECT_TRUE(WaitUntilGone(pid, absl::Seconds(5))) << pid;
}

TEST(RunCommand, EndsWhenTheProgramEndsThoughABackgroundChildHoldsStdout) {
  CommandOptions options;
  options.timeout = absl::Seconds(20);
  const absl::Time start = absl::Now();
  CommandOutcome outcome = RunOk({"sh", "-c", "sleep 300 & echo $!; echo done"}, options);
  EXPECT_LT(absl::Now() - start, absl::Seconds(1));
  EXPECT_FALSE(outcome.timed_out);
  EXPECT_EQ(outcome.exit_code, 0);
  ASSERT_EQ(outcome.stdout_data.substr(outcome.stdout_data.find('\n') + 1), "done\n");
  const pid_t sleep_pid = PidsIn(outcome.stdout_data.substr(0, outcome.stdout_data.find('\n')))[0];
  EXPECT_TRUE(WaitUntilGone(sleep_pid, absl::Seconds(5)));
}

TEST(RunCommand, ChildThatCallsSetsidIsKilledWhenACgroupCanBeMade) {
  if (std::optional<std::string> why = CgroupsUnavailable()) GTEST_SKIP() << *why;
  // Not a group leader, the background child's setsid execs sleep at once:
  // $! is the sleep, in a session of its own.
  CommandOutcome outcome = RunOk({"sh", "-c", "setsid sleep 300 & echo $!"});
  std::vector<pid_t> sleeps = PidsIn(outcome.stdout_data);
  ASSERT_EQ(sleeps.size(), 1u) << outcome.stdout_data;
  EXPECT_TRUE(WaitUntilGone(sleeps[0], absl::Seconds(5)));
}

TEST(RunCommand, OutputBeyondTheLimitIsCutThereAndMarked) {
  CommandOptions options;
  options.max_output_bytes = 1000;
  CommandOutcome cut =
      RunOk({"sh", "-c", "head -c 100000 /dev/zero | tr '\\0' a; printf 12345 >&2"}, options);
  EXPECT_EQ(cut.exit_code, 0);
  EXPECT_EQ(cut.stdout_data, std::string(1000, 'a'));
  EXPECT_TRUE(cut.stdout_truncated);
  EXPECT_EQ(cut.stderr_data, "12345");
  EXPECT_FALSE(cut.stderr_truncated);

  CommandOutcome whole =
      RunOk({"sh", "-c", "head -c 1000 /dev/zero | tr '\\0' a >&2"}, options);
  EXPECT_EQ(whole.stderr_data, std::string(1000, 'a'));
  EXPECT_FALSE(whole.stderr_truncated);
}

}  // namespace
}  // namespace netpool
