// The netpool CLI, exactly as a user types it, against real binaries.
#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/test_cluster.h"

namespace netpool {
namespace {

using ::netpool::testing::CliResult;
using ::netpool::testing::TestCluster;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::MatchesRegex;

constexpr int kExitUsage = 64;
constexpr int kExitUnavailable = 69;

std::vector<std::string> Lines(const std::string& text) {
  return absl::StrSplit(absl::StripSuffix(text, "\n"), '\n');
}

class CliTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    absl::StatusOr<std::unique_ptr<TestCluster>> cluster =
        TestCluster::Start({.workers = 1, .processes = 2});
    ASSERT_TRUE(cluster.ok()) << cluster.status();
    cluster_ = cluster->release();
  }
  static void TearDownTestSuite() {
    delete cluster_;
    cluster_ = nullptr;
  }
  CliResult Run(const std::vector<std::string>& args, const std::string& in = "") {
    return cluster_->RunCli(args, in);
  }
  // Submits and returns the id.
  std::string Submit(const std::vector<std::string>& args) {
    std::vector<std::string> argv = {"submit"};
    argv.insert(argv.end(), args.begin(), args.end());
    CliResult r = Run(argv);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return std::string(absl::StripSuffix(r.out, "\n"));
  }

  static TestCluster* cluster_;
};

TestCluster* CliTest::cluster_ = nullptr;

TEST_F(CliTest, SubmitPrintsTheIdAloneAndGetPrintsJson) {
  CliResult submit = Run({"submit", "echo", "1", "[2,3]", "word", "\"quoted\"", "{\"k\":null}"});
  ASSERT_EQ(submit.exit_code, 0) << submit.err;
  EXPECT_THAT(submit.out, MatchesRegex("[A-Za-z0-9_.-]+\n"));
  const std::string id(absl::StripSuffix(submit.out, "\n"));
  CliResult get = Run({"get", id, "--timeout", "30"});
  EXPECT_EQ(get.exit_code, 0) << get.err;
  EXPECT_EQ(get.out, "[1,[2,3],\"word\",\"quoted\",{\"k\":null}]\n");
}

TEST_F(CliTest, ExecPrintsOutputAndExitsWithTheCommandsCode) {
  CliResult ok = Run({"exec", "--", "sh", "-c", "echo out; echo err >&2"});
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_EQ(ok.out, "out\n");
  EXPECT_EQ(ok.err, "err\n");

  CliResult failing = Run({"exec", "--", "sh", "-c", "printf partial; exit 7"});
  EXPECT_EQ(failing.exit_code, 7);
  EXPECT_EQ(failing.out, "partial");

  CliResult missing = Run({"exec", "--", "/no/such/program"});
  EXPECT_EQ(missing.exit_code, 127);
  EXPECT_THAT(missing.err, HasSubstr("/no/such/program"));
}

TEST_F(CliTest, ExecDetachPrintsAnIdToWaitOn) {
  CliResult detached = Run({"exec", "--detach", "--", "true"});
  ASSERT_EQ(detached.exit_code, 0) << detached.err;
  const std::string id(absl::StripSuffix(detached.out, "\n"));
  EXPECT_EQ(Run({"wait", id, "--timeout", "30"}).exit_code, 0);
  CliResult status = Run({"status", id});
  EXPECT_EQ(status.out, id + "\tSUCCEEDED\n");
}

TEST_F(CliTest, GetOfAFailedJobPrintsTheErrorAndExits1) {
  const std::string id = Submit({"sleep", "not-a-number"});
  CliResult get = Run({"get", id, "--timeout", "30"});
  EXPECT_EQ(get.exit_code, 1);
  EXPECT_TRUE(get.out.empty());
  EXPECT_FALSE(get.err.empty());
}

TEST_F(CliTest, GetAndWaitTimeOutWithExit2) {
  const std::string id = Submit({"sleep", "3"});
  EXPECT_EQ(Run({"get", id, "--timeout", "0.2"}).exit_code, 2);
  EXPECT_EQ(Run({"wait", id, "--timeout", "0.2"}).exit_code, 2);
  EXPECT_EQ(Run({"wait", id, "--timeout", "30"}).exit_code, 0);
}

TEST_F(CliTest, MapItemsAfterTripleColonInOrder) {
  CliResult r = Run({"map", "echo", ":::", "a", "1", "[true]"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(Lines(r.out), ElementsAre("[\"a\"]", "[1]", "[[true]]"));
}

TEST_F(CliTest, MapJsonLinesFromStdin) {
  std::string input;
  for (int i = 0; i < 50; ++i) input += std::to_string(i) + "\n";
  CliResult r = Run({"map", "echo"}, input);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::vector<std::string> lines = Lines(r.out);
  ASSERT_EQ(lines.size(), 50u);
  for (int i = 0; i < 50; ++i) EXPECT_EQ(lines[i], "[" + std::to_string(i) + "]");
}

TEST_F(CliTest, MapWithAFailedItemExits1) {
  CliResult r = Run({"map", "sleep", ":::", "0", "oops", "0"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("item 1"));
}

TEST_F(CliTest, MapCommandStyleLikeGnuParallel) {
  CliResult r = Run({"map", "--", "sh", "-c", "echo item-$0", "{}", ":::", "x", "y", "z"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "item-x\nitem-y\nitem-z\n");
}

TEST_F(CliTest, StarmapTakesArgumentListsFromStdin) {
  CliResult r = Run({"starmap", "echo"}, "[1,2]\n[\"a\",\"b\"]\n");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(Lines(r.out), ElementsAre("[1,2]", "[\"a\",\"b\"]"));
}

TEST_F(CliTest, CancelEndsAJob) {
  const std::string id = Submit({"sleep", "30"});
  CliResult cancel = Run({"cancel", id});
  EXPECT_EQ(cancel.exit_code, 0) << cancel.err;
  EXPECT_THAT(cancel.out, HasSubstr("CANCELLED"));
  EXPECT_EQ(Run({"status", id}).out, id + "\tCANCELLED\n");
  EXPECT_EQ(Run({"get", id, "--timeout", "5"}).exit_code, 1);
}

TEST_F(CliTest, UnknownIdsAreReported) {
  CliResult status = Run({"status", "j-doesnotexist"});
  EXPECT_EQ(status.exit_code, 1);
  EXPECT_EQ(status.out, "j-doesnotexist\tNOT_FOUND\n");
  EXPECT_EQ(Run({"get", "j-doesnotexist"}).exit_code, 1);
}

TEST_F(CliTest, UnknownFunctionIsAClearError) {
  CliResult r = Run({"submit", "no_such_fn"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_THAT(r.err, HasSubstr("unknown function \"no_such_fn\""));
}

TEST_F(CliTest, JobsWorkersAndStatsList) {
  Submit({"echo", "listed"});
  CliResult jobs = Run({"jobs"});
  EXPECT_EQ(jobs.exit_code, 0) << jobs.err;
  EXPECT_THAT(jobs.out, HasSubstr("echo"));
  CliResult workers = Run({"workers"});
  EXPECT_EQ(workers.exit_code, 0) << workers.err;
  EXPECT_THAT(workers.out, HasSubstr("node0"));
  CliResult stats = Run({"stats"});
  EXPECT_EQ(stats.exit_code, 0) << stats.err;
  EXPECT_THAT(stats.out, HasSubstr("slots"));
}

TEST_F(CliTest, BadUsageExits64WithOneLine) {
  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{{"--no-such-flag"}, {"frobnicate"},
                                             {"get"}, {"get", "x", "--timeout", "soon"}}) {
    CliResult r = Run(args);
    EXPECT_EQ(r.exit_code, kExitUsage) << args[0] << ": " << r.err;
    EXPECT_EQ(Lines(r.err).size(), 1u) << r.err;
  }
  CliResult bad_json = Run({"map", "echo"}, "1\n{not json\n");
  EXPECT_EQ(bad_json.exit_code, kExitUsage);
  EXPECT_THAT(bad_json.err, HasSubstr("2"));  // the line number
}

TEST_F(CliTest, EveryCommandHasHelp) {
  for (const char* command : {"submit", "exec", "get", "wait", "status", "cancel", "map",
                              "starmap", "jobs", "workers", "stats"}) {
    CliResult r = Run({command, "--help"});
    EXPECT_EQ(r.exit_code, 0) << command;
    EXPECT_FALSE(r.out.empty()) << command;
  }
}

TEST(CliWithoutScheduler, UnreachableSchedulerExits69) {
  CliResult r;
  absl::StatusOr<netpool::testing::Subprocess> cli = netpool::testing::Subprocess::Start(
      {netpool::testing::CliPath(), "--scheduler", "127.0.0.1:1", "stats"},
      {.pipe_stdout = true, .pipe_stderr = true});
  ASSERT_TRUE(cli.ok());
  absl::StatusOr<int> code = cli->Communicate(absl::Seconds(60), &r.out, &r.err);
  ASSERT_TRUE(code.ok());
  EXPECT_EQ(*code, kExitUnavailable);
  EXPECT_THAT(r.err, HasSubstr("127.0.0.1:1"));
}

}  // namespace
}  // namespace netpool
