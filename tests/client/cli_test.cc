// The command line's behaviour that needs no scheduler: help, usage errors,
// input errors, and an unreachable scheduler.
#include "client/cli/cli.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/scratch_dir.h"

namespace netpool {
namespace cli {
namespace {

using ::testing::HasSubstr;

struct CliRun {
  int exit_code;
  std::string out;
  std::string err;
};

CliRun Cli(const std::vector<std::string>& args, const std::string& stdin_text = "") {
  std::istringstream in(stdin_text);
  std::ostringstream out;
  std::ostringstream err;
  int exit_code = RunCli(args, in, out, err);
  return CliRun{exit_code, out.str(), err.str()};
}

int LineCount(const std::string& text) {
  return static_cast<int>(std::count(text.begin(), text.end(), '\n'));
}

// A loopback address where nothing listens: a port the kernel handed out and
// that was closed again at once.
std::string DeadAddress() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  socklen_t length = sizeof(addr);
  EXPECT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &length), 0);
  ::close(fd);
  return absl::StrCat("127.0.0.1:", ntohs(addr.sin_port));
}

TEST(Cli, HelpListsTheCommandsAndExitsZero) {
  CliRun run = Cli({"--help"});
  EXPECT_EQ(run.exit_code, 0);
  for (const char* command : {"submit", "exec", "get", "wait", "status", "cancel", "map",
                              "starmap", "jobs", "workers", "stats", "dashboard"}) {
    EXPECT_THAT(run.out, HasSubstr(command));
  }
}

TEST(Cli, EveryCommandTakesHelp) {
  for (const char* command : {"submit", "exec", "get", "wait", "status", "cancel", "map",
                              "starmap", "jobs", "workers", "stats", "dashboard"}) {
    CliRun run = Cli({command, "--help"});
    EXPECT_EQ(run.exit_code, 0) << command;
    EXPECT_THAT(run.out, HasSubstr(command));
  }
  for (const char* command : {"map", "starmap"}) {
    const std::string help = Cli({command, "--help"}).out;
    for (const char* option : {"--chunksize", "--unordered", "--local", "-j", "--jobs-file"}) {
      EXPECT_THAT(help, HasSubstr(option)) << command;
    }
  }
  EXPECT_THAT(Cli({"status", "--help"}).out, HasSubstr("--verbose"));
}

TEST(Cli, BadFlagIsAOneLineUsageError) {
  CliRun run = Cli({"--bogus", "stats"});
  EXPECT_EQ(run.exit_code, 64);
  EXPECT_EQ(LineCount(run.err), 1) << run.err;
  EXPECT_THAT(run.err, HasSubstr("--bogus"));
  EXPECT_EQ(run.out, "");
}

TEST(Cli, MissingCommandOrArgumentIsAUsageError) {
  EXPECT_EQ(Cli({}).exit_code, 64);
  EXPECT_EQ(Cli({"submit"}).exit_code, 64);
  EXPECT_EQ(Cli({"get"}).exit_code, 64);
  EXPECT_EQ(Cli({"exec"}).exit_code, 64);
  EXPECT_EQ(Cli({"frobnicate"}).exit_code, 64);
}

TEST(Cli, BadOptionValuesAreUsageErrors) {
  EXPECT_EQ(Cli({"get", "j-1", "--timeout", "soon"}).exit_code, 64);
  EXPECT_EQ(Cli({"get", "j-1", "--timeout", "-1"}).exit_code, 64);
  EXPECT_EQ(Cli({"get", "j-1", "--retry-for", "soon"}).exit_code, 64);
  EXPECT_EQ(Cli({"wait", "j-1", "--retry-for", "-5s"}).exit_code, 64);
  EXPECT_EQ(Cli({"map", "--retry-for", "x", "echo", "1"}).exit_code, 64);
  EXPECT_EQ(Cli({"map", "--chunksize", "0", "f", "1"}).exit_code, 64);
  EXPECT_EQ(Cli({"--log-level", "loud", "stats"}).exit_code, 64);
  CliRun run = Cli({"jobs", "--state", "done"});
  EXPECT_EQ(run.exit_code, 64);
  EXPECT_THAT(run.err, HasSubstr("done"));
}

TEST(Cli, AnOutputFormatOtherThanTableJsonOrJsonlIsAUsageErrorNamingThem) {
  for (std::vector<std::string> args :
       std::vector<std::vector<std::string>>{{"status", "j-1"}, {"jobs"}, {"workers"}, {"stats"},
                                             {"get", "j-1"}, {"map", "echo", "1"}}) {
    args.insert(args.begin() + 1, {"-o", "yaml"});
    CliRun run = Cli(args);
    EXPECT_EQ(run.exit_code, 64) << args[0];
    EXPECT_THAT(run.err, HasSubstr("--output: must be table, json or jsonl, got \"yaml\""))
        << args[0];
    EXPECT_EQ(LineCount(run.err), 1) << run.err;
  }
}

TEST(Cli, SubmittingCommandsCheckTheirSchedulingOptions) {
  const std::string address = DeadAddress();
  for (const std::vector<std::string>& command : std::vector<std::vector<std::string>>{
           {"submit", "echo"}, {"exec", "--", "true"}, {"map", "echo", "1"}}) {
    auto with = [&](std::vector<std::string> options) {
      // A map would otherwise wait a minute for the scheduler to come up.
      if (command[0] == "map") options.insert(options.begin(), {"--retry-for", "0"});
      options.insert(options.begin(), {"--scheduler", address, command[0]});
      options.insert(options.end(), command.begin() + 1, command.end());
      return Cli(options);
    };
    // --label takes one word: the command's words after it are not labels.
    CliRun one_word = with({"--label", "gpu=a100"});
    EXPECT_EQ(one_word.exit_code, 69) << command[0] << ": " << one_word.err;
    CliRun label = with({"--label", "gpu"});
    EXPECT_EQ(label.exit_code, 64) << command[0];
    EXPECT_THAT(label.err, HasSubstr("--label: \"gpu\" is not KEY=VALUE")) << command[0];
    CliRun attempts = with({"--max-attempts", "0"});
    EXPECT_EQ(attempts.exit_code, 64) << command[0];
    EXPECT_THAT(attempts.err, HasSubstr("--max-attempts: must be from 1 to 100, got 0"));
    CliRun priority = with({"--priority", "2000000"});
    EXPECT_EQ(priority.exit_code, 64) << command[0];
    EXPECT_THAT(priority.err, HasSubstr("from -1000000 to 1000000"));
    EXPECT_EQ(with({"--timeout", "soon"}).exit_code, 64) << command[0];
    EXPECT_EQ(with({"--timeout", "-1s"}).exit_code, 64) << command[0];
    // Well-formed options get as far as the (unreachable) scheduler.
    std::vector<std::string> good = {"--label",       "gpu=a100",  "--label",   "zone=b",
                                     "--priority",    "-3",        "--timeout", "1m30s",
                                     "--max-attempts", "5",        "--retry-on-error",
                                     "--idempotency-key", "nightly"};
    CliRun well_formed = with(good);
    EXPECT_EQ(well_formed.exit_code, 69) << command[0] << ": " << well_formed.err;
  }
}

TEST(Cli, LabelsCannotGoWithLocal) {
  CliRun run = Cli({"map", "--local", "--label", "gpu=a100", "echo", "1"});
  EXPECT_EQ(run.exit_code, 64);
  EXPECT_THAT(run.err, HasSubstr("--label"));
}

TEST(Cli, MalformedMapCommandLinesAreUsageErrors) {
  EXPECT_EQ(Cli({"map", "--", ":::", "a"}).exit_code, 64);  // no command
  EXPECT_EQ(Cli({"map", "square", "x", ":::", "1"}).exit_code, 64);
  EXPECT_EQ(Cli({"map", "--chunksize", "2", "--", "echo", ":::", "a"}).exit_code, 64);
  EXPECT_EQ(Cli({"map", "-j", "0", "--local", "square", "1"}).exit_code, 64);
}

TEST(Cli, JobsWithoutLocalIsAUsageError) {
  const std::string address = DeadAddress();
  for (const char* command : {"map", "starmap"}) {
    CliRun run = Cli({"--scheduler", address, command, "-j", "2", "echo"});
    EXPECT_EQ(run.exit_code, 64) << command;
    EXPECT_THAT(run.err, HasSubstr("--local")) << command;
    EXPECT_EQ(LineCount(run.err), 1) << run.err;
  }
}

TEST(Cli, JobsFileThatCannotBeReadIsAUsageErrorNamingIt) {
  const std::string address = DeadAddress();
  const std::string missing = ::testing::TempDir() + "/no-such-jobs-file";
  for (const char* command : {"map", "starmap"}) {
    CliRun run = Cli({"--scheduler", address, command, "--jobs-file", missing, "echo"});
    EXPECT_EQ(run.exit_code, 64) << command;
    EXPECT_THAT(run.err, HasSubstr(missing)) << command;
  }
}

TEST(Cli, ItemsFromBothWordsAndAJobsFileIsAUsageError) {
  CliRun run = Cli({"--scheduler", DeadAddress(), "map", "--jobs-file", "/dev/null", "echo", "1"});
  EXPECT_EQ(run.exit_code, 64);
  EXPECT_THAT(run.err, HasSubstr("--jobs-file"));
}

TEST(Cli, MalformedIdIsNotFoundWithoutAskingTheScheduler) {
  CliRun run = Cli({"--scheduler", DeadAddress(), "status", "no such id!"});
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_EQ(run.out, "no such id!\tNOT_FOUND\n");
}

TEST(Cli, BracketedWordsStayWhole) {
  // CLI11 would read [x,y] as the two words x and y.
  CliRun run = Cli({"--scheduler", DeadAddress(), "status", "[x,y]", "[]"});
  EXPECT_EQ(run.out, "[x,y]\tNOT_FOUND\n[]\tNOT_FOUND\n");
}

TEST(Cli, UnreachableSchedulerExits69NamingTheAddress) {
  const std::string address = DeadAddress();
  for (std::vector<std::string> command :
       std::vector<std::vector<std::string>>{{"stats"},
                                             {"submit", "echo", "1"},
                                             {"get", "j-1", "--timeout", "1", "--retry-for", "0"},
                                             {"wait", "j-1", "--retry-for", "0"},
                                             {"status", "j-1"},
                                             {"exec", "--", "true"},
                                             {"map", "--retry-for", "0", "square", "1", "2"},
                                             {"map", "--retry-for", "0", "square"},
                                             {"starmap", "--retry-for", "0", "add"},
                                             {"status", "-v", "j-1"}}) {
    command.insert(command.begin(), {"--scheduler", address});
    CliRun run = Cli(command);
    EXPECT_EQ(run.exit_code, 69) << command[2] << ": " << run.err;
    EXPECT_THAT(run.err, HasSubstr(address)) << command[2];
    EXPECT_EQ(LineCount(run.err), 1) << run.err;
  }
}

TEST(Cli, GetWaitAndMapKeepReconnectingForRetryForThenExit69SayingHowLong) {
  const std::string address = DeadAddress();
  for (std::vector<std::string> command : std::vector<std::vector<std::string>>{
           {"get", "j-1", "--retry-for", "1s"},
           {"wait", "j-1", "--retry-for", "1s"},
           {"map", "--retry-for", "1s", "square", "1", "2"}}) {
    command.insert(command.begin(), {"--scheduler", address});
    const absl::Time start = absl::Now();
    CliRun run = Cli(command);
    const absl::Duration took = absl::Now() - start;
    EXPECT_EQ(run.exit_code, 69) << command[2] << ": " << run.err;
    EXPECT_GE(took, absl::Seconds(1)) << command[2];
    EXPECT_LT(took, absl::Seconds(10)) << command[2];
    EXPECT_THAT(run.err, HasSubstr("unreachable for 1s")) << command[2];
    EXPECT_THAT(run.err, HasSubstr(address)) << command[2];
    // Not a terminal: no word about reconnecting, only the final error.
    EXPECT_EQ(LineCount(run.err), 1) << run.err;
  }
}

TEST(Cli, SchedulerAddressComesFromTheEnvironment) {
  const std::string address = DeadAddress();
  ::setenv("NETPOOL_SCHEDULER", address.c_str(), 1);
  CliRun run = Cli({"stats"});
  ::unsetenv("NETPOOL_SCHEDULER");
  EXPECT_EQ(run.exit_code, 69);
  EXPECT_THAT(run.err, HasSubstr(address));
}

// The token goes in the fragment, where the page looks and which browsers
// never send; characters outside the URL-safe ones are %-escaped.
TEST(Cli, DashboardPrintsTheAddressWithTheTokenInTheFragment) {
  testing::ScratchDir dir;
  const std::string token_file = dir.Write("token", "a+b/c=d\n");
  CliRun run = Cli({"--scheduler", "127.0.0.1:7340", "--token-file", token_file, "dashboard"});
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(run.out, "http://127.0.0.1:7341/#token=a%2Bb%2Fc%3Dd\n");

  run = Cli({"--token-file", token_file, "dashboard", "--http", "10.0.0.5:8080"});
  EXPECT_EQ(run.out, "http://10.0.0.5:8080/#token=a%2Bb%2Fc%3Dd\n");
}

TEST(Cli, DashboardWithoutATokenPrintsThePageThatAsksForOne) {
  CliRun run = Cli({"--scheduler", DeadAddress(), "dashboard", "--http", "127.0.0.1:1"});
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(run.out, "http://127.0.0.1:1/\n");
  EXPECT_THAT(run.err, HasSubstr("no token"));
}

TEST(Cli, DashboardRefusesAnUnreadableTokenFile) {
  CliRun run = Cli({"--token-file", "/nonexistent/token", "dashboard"});
  EXPECT_EQ(run.exit_code, 77);
  EXPECT_EQ(run.out, "");
}

}  // namespace
}  // namespace cli
}  // namespace netpool
