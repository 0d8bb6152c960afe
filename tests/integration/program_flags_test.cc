// The flags all three programs take alike (common/program_flags.h): a TOML
// --config file of any of their flags, and --log-format json, tried on the
// real binaries.
#include <signal.h>

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/support/scratch_dir.h"
#include "tests/support/test_cluster.h"

namespace netpool {
namespace {

using ::netpool::testing::CliPath;
using ::netpool::testing::CliResult;
using ::netpool::testing::NetpooldPath;
using ::netpool::testing::RunProgram;
using ::netpool::testing::ScratchDir;
using ::netpool::testing::Subprocess;
using ::netpool::testing::WorkerPath;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr int kExitUsage = 64;

TEST(ProgramFlags, NetpooldTakesItsFlagsFromTheConfigFile) {
  ScratchDir dir;
  const std::string config =
      dir.Write("netpoold.toml", "listen = \"0.0.0.0:0\"\nstore = \"memory\"\nhttp = \"off\"\n");
  CliResult result = RunProgram({NetpooldPath(), "--config", config});
  EXPECT_EQ(result.exit_code, kExitUsage) << result.err;
  EXPECT_THAT(result.err, HasSubstr("listen on 0.0.0.0, which is not loopback"));
}

TEST(ProgramFlags, TheWorkerAndTheCliTakeTheirFlagsFromTheConfigFile) {
  ScratchDir dir;
  CliResult worker = RunProgram(
      {WorkerPath(), "--config", dir.Write("worker.toml", "max-memory = \"lots\"\n")});
  EXPECT_EQ(worker.exit_code, kExitUsage) << worker.err;
  EXPECT_THAT(worker.err, HasSubstr("--max-memory"));

  // A subcommand's flags go in a section named after it.
  CliResult cli = RunProgram(
      {CliPath(), "--config", dir.Write("cli.toml", "[jobs]\nlimit = -1\n"), "jobs"});
  EXPECT_EQ(cli.exit_code, kExitUsage) << cli.err;
  EXPECT_THAT(cli.err, HasSubstr("--limit"));
}

TEST(ProgramFlags, AKeyThatIsNoFlagIsAUsageErrorNamingIt) {
  ScratchDir dir;
  const std::string config = dir.Write("typo.toml", "listne = \"127.0.0.1:0\"\n");
  for (const std::vector<std::string>& argv :
       {std::vector<std::string>{NetpooldPath(), "--config", config},
        std::vector<std::string>{WorkerPath(), "--config", config},
        std::vector<std::string>{CliPath(), "--config", config, "stats"}}) {
    CliResult result = RunProgram(argv);
    EXPECT_EQ(result.exit_code, kExitUsage) << argv[0] << ": " << result.err;
    EXPECT_THAT(result.err, HasSubstr("\"listne\" is not a flag")) << argv[0];
  }
}

TEST(ProgramFlags, AMissingConfigFileIsAUsageError) {
  ScratchDir dir;
  CliResult result = RunProgram({NetpooldPath(), "--config", dir.File("absent.toml")});
  EXPECT_EQ(result.exit_code, kExitUsage) << result.err;
  EXPECT_THAT(result.err, HasSubstr("--config: " + dir.File("absent.toml") + " was not readable"));
}

// The command line wins over the file; the file's logging choice holds.
TEST(ProgramFlags, NetpooldLogsOneJsonObjectPerLine) {
  ScratchDir dir;
  const std::string config = dir.Write(
      "netpoold.toml",
      "listen = \"0.0.0.0:0\"\nstore = \"memory\"\nhttp = \"off\"\nlog-level = \"info\"\n"
      "log-format = \"json\"\n");
  absl::StatusOr<Subprocess> netpoold =
      Subprocess::Start({NetpooldPath(), "--config", config, "--listen", "127.0.0.1:0"},
                        {.pipe_stdout = true, .pipe_stderr = true});
  ASSERT_TRUE(netpoold.ok()) << netpoold.status();
  absl::StatusOr<std::string> listening = netpoold->ReadLine(absl::Seconds(30));
  ASSERT_TRUE(listening.ok()) << listening.status();
  EXPECT_THAT(*listening, HasSubstr("listening on 127.0.0.1:"));
  netpoold->Signal(SIGTERM);
  std::string out, err;
  absl::StatusOr<int> exit_code = netpoold->Communicate(absl::Seconds(30), &out, &err);
  ASSERT_TRUE(exit_code.ok()) << exit_code.status();
  EXPECT_EQ(*exit_code, 0) << err;

  int lines = 0;
  for (absl::string_view line : absl::StrSplit(err, '\n', absl::SkipEmpty())) {
    ++lines;
    const nlohmann::json entry = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    ASSERT_TRUE(entry.is_object()) << "not a JSON object: " << line;
    EXPECT_EQ(entry.value("program", ""), "netpoold") << line;
    EXPECT_TRUE(entry["pid"].is_number_integer()) << line;
    EXPECT_THAT(entry.value("level", ""), Not(""));
    EXPECT_THAT(entry.value("time", ""), ::testing::EndsWith("Z")) << line;
    EXPECT_TRUE(entry["message"].is_string()) << line;
  }
  EXPECT_GT(lines, 0) << "info logging said nothing";
}

TEST(ProgramFlags, UsageLinesNameTheProgramNotItsPath) {
  for (const auto& [path, name] : {std::pair{NetpooldPath(), "netpoold"},
                                   std::pair{WorkerPath(), "netpool-worker"},
                                   std::pair{CliPath(), "netpool"}}) {
    CliResult help = RunProgram({path, "--help"});
    EXPECT_EQ(help.exit_code, 0) << help.err;
    EXPECT_THAT(help.out, HasSubstr(absl::StrCat("Usage: ", name, " [OPTIONS]"))) << help.out;
  }
}

TEST(ProgramFlags, AnUnknownLogFormatIsAUsageError) {
  CliResult result = RunProgram({NetpooldPath(), "--log-format", "xml"});
  EXPECT_EQ(result.exit_code, kExitUsage) << result.err;
  EXPECT_THAT(result.err, HasSubstr("--log-format: xml not in {text,json}"));
}

}  // namespace
}  // namespace netpool
