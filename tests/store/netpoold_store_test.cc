// netpoold's store flags, on the real binary: the durable store is the
// default and lives in --data, --store memory touches no disk, a store that
// cannot be opened stops start-up with one line, bad durations are usage
// errors, SIGTERM flushes, and a job submitted before kill -9 is known after
// a restart on the same directory.
#include <signal.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/store/store_test_support.h"
#include "tests/support/subprocess.h"
#include "tests/support/test_cluster.h"

namespace netpool::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::MatchesRegex;

constexpr int kExitUsage = 64;

// A netpoold that printed its address.
struct Scheduler {
  Subprocess process;
  std::string address;
};

absl::StatusOr<Scheduler> StartScheduler(std::vector<std::string> args) {
  std::vector<std::string> argv = {NetpooldPath(), "--listen", "127.0.0.1:0", "--log-level",
                                   "info"};
  argv.insert(argv.end(), args.begin(), args.end());
  absl::StatusOr<Subprocess> process =
      Subprocess::Start(argv, {.pipe_stdout = true, .pipe_stderr = true});
  if (!process.ok()) return process.status();
  absl::StatusOr<std::string> line = process->ReadLine(absl::Seconds(60));
  if (!line.ok()) return line.status();
  if (!absl::StartsWith(*line, "listening on ")) {
    return absl::InternalError(absl::StrCat("netpoold printed \"", *line, "\""));
  }
  return Scheduler{*std::move(process), line->substr(strlen("listening on "))};
}

// Runs netpoold to its exit; returns the exit code and stderr.
CliResult RunToExit(std::vector<std::string> args) {
  std::vector<std::string> argv = {NetpooldPath(), "--listen", "127.0.0.1:0"};
  argv.insert(argv.end(), args.begin(), args.end());
  CliResult result = RunProgram(argv);
  EXPECT_NE(result.exit_code, -1) << result.err;
  return result;
}

CliResult RunCli(const std::string& address, std::vector<std::string> args) {
  std::vector<std::string> argv = {CliPath(), "--scheduler", address};
  argv.insert(argv.end(), args.begin(), args.end());
  CliResult result = RunProgram(argv);
  EXPECT_NE(result.exit_code, -1) << result.err;
  return result;
}

TEST(NetpooldStore, JobSubmittedBeforeKillNineIsKnownAfterRestart) {
  ScratchDir dir;
  const std::string data = dir.path() + "/data";
  absl::StatusOr<Scheduler> first = StartScheduler({"--data", data});
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_TRUE(std::filesystem::exists(data + "/netpool.db"));
  CliResult submit = RunCli(first->address, {"submit", "echo", "1"});
  ASSERT_EQ(submit.exit_code, 0) << submit.err;
  const std::string id(absl::StripSuffix(submit.out, "\n"));
  first->process.Signal(SIGKILL);
  ASSERT_TRUE(first->process.Wait(absl::Seconds(10)).has_value());

  absl::StatusOr<Scheduler> second = StartScheduler({"--data", data});
  ASSERT_TRUE(second.ok()) << second.status();
  CliResult status = RunCli(second->address, {"status", id});
  EXPECT_EQ(status.exit_code, 0) << status.err;
  EXPECT_THAT(status.out, HasSubstr(id));
  EXPECT_THAT(status.out, HasSubstr("PENDING"));

  second->process.Signal(SIGTERM);
  std::string out, err;
  absl::StatusOr<int> exit_code = second->process.Communicate(absl::Seconds(30), &out, &err);
  ASSERT_TRUE(exit_code.ok()) << exit_code.status();
  EXPECT_EQ(*exit_code, 0) << err;
  EXPECT_THAT(err, HasSubstr("store flushed"));
}

TEST(NetpooldStore, MemoryStoreLeavesTheDataDirectoryAlone) {
  ScratchDir dir;
  const std::string data = dir.path() + "/unused";
  absl::StatusOr<Scheduler> scheduler = StartScheduler({"--store", "memory", "--data", data});
  ASSERT_TRUE(scheduler.ok()) << scheduler.status();
  EXPECT_FALSE(std::filesystem::exists(data));
}

TEST(NetpooldStore, StoreThatCannotBeOpenedStopsStartUpWithOneLine) {
  ScratchDir dir;
  std::ofstream(dir.path() + "/netpool.db") << std::string(5000, 'x');
  CliResult result = RunToExit({"--data", dir.path()});
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_THAT(result.err, MatchesRegex(absl::StrCat("netpoold: cannot open store ", dir.path(),
                                                    "/netpool.db: [^\n]+\n")));
}

TEST(NetpooldStore, EmptyDataDirectoryIsAUsageError) {
  CliResult result = RunToExit({"--data", ""});
  EXPECT_EQ(result.exit_code, kExitUsage);
  EXPECT_EQ(result.err, "netpoold: --data must name a directory\n");
}

TEST(NetpooldStore, DurationFlagsMustBePositiveAndFinite) {
  for (const char* flag : {"--lease-timeout", "--result-ttl", "--retry-backoff",
                           "--heartbeat-interval"}) {
    for (const char* value : {"0", "-2", "inf", "nan"}) {
      SCOPED_TRACE(absl::StrCat(flag, " ", value));
      CliResult result = RunToExit({"--store", "memory", flag, value});
      EXPECT_EQ(result.exit_code, kExitUsage);
      EXPECT_THAT(result.err, MatchesRegex(absl::StrCat(
                                  "netpoold: ", flag, " must be a positive number of seconds, got "
                                  "[^\n]+\n")));
    }
  }
}

}  // namespace
}  // namespace netpool::testing
