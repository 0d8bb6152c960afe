// The netpool CLI, exactly as a user types it, against real binaries: a
// cluster's, and none at all for `map --local`.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <iterator>
#include <regex>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "common/packed_chunk.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "netpool/v1/netpool.grpc.pb.h"
#include "netpool/value.h"
#include "tests/support/eventually.h"
#include "tests/support/proc.h"
#include "tests/support/scratch_dir.h"
#include "tests/support/terminal.h"
#include "tests/support/test_cluster.h"

namespace netpool {
namespace {

using ::netpool::testing::CliResult;
using ::netpool::testing::TestCluster;
using ::testing::ContainsRegex;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::MatchesRegex;
using ::testing::Not;

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

// Map's chunk jobs come back as one packed value, which get unpacks.
TEST_F(CliTest, GetPrintsAPackedChunkJobsResultList) {
  v1::SubmitRequest submit;
  v1::JobSpec* job = submit.add_jobs();
  job->set_function("echo");
  job->set_packed_chunk(PackChunk({{1, "a"}, {}, {ValueList{2}}}));
  grpc::ClientContext context;
  cluster_->AuthorizeAsOwner(context);
  v1::SubmitResponse submitted;
  grpc::Status status =
      v1::Scheduler::NewStub(cluster_->OwnerChannel())->Submit(&context, submit, &submitted);
  ASSERT_TRUE(status.ok()) << status.error_message();
  CliResult get = Run({"get", submitted.job_ids(0), "--timeout", "30"});
  EXPECT_EQ(get.exit_code, 0) << get.err;
  EXPECT_EQ(get.out, "[[1,\"a\"],[],[[2]]]\n");
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
  ASSERT_EQ(lines.size(), 50u) << "stdout:\n" << r.out << "stderr:\n" << r.err;
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

TEST_F(CliTest, MapCommandOnTheClusterHasGnuParallelReplacementStringsAndJoblog) {
  const std::string log = ::testing::TempDir() + "/cli_map_joblog.txt";
  CliResult r = Run({"map", "--joblog", log, "--", "echo", "{/.}", "{//}", "{#}", ":::",
                     "d.x/a.b", "c"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "a d.x 1\nc . 2\n");
  std::ifstream file(log);
  std::string text((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  std::vector<std::string> lines = Lines(text);
  ASSERT_EQ(lines.size(), 3u) << text;
  EXPECT_EQ(lines[0],
            "Seq\tHost\tStarttime\tJobRuntime\tSend\tReceive\tExitval\tSignal\tCommand");
  // Host is the worker node that ran the job (the cluster's is named node0).
  EXPECT_THAT(lines[1], MatchesRegex("1\tnode0\t[0-9]{10}\\.[0-9]{3}\t *[0-9.]+\t0\t8\t0\t0\t"
                                     "echo a d.x 1"));
  EXPECT_THAT(lines[2], MatchesRegex("2\tnode0\t.*\t0\t6\t0\t0\techo c . 2"));
}

// The map submits all ten jobs at once; parallel would start none after the
// failure, and neither do the cluster's workers (two slots) here.
TEST_F(CliTest, MapHaltSoonStartsNoJobAfterTheFailureOnTheCluster) {
  CliResult r = Run({"map", "--halt", "soon,fail=1", "--", "sh", "-c",
                     "sleep 0.5; echo ran; exit $0", "{}", ":::", "1", "0", "0", "0", "0", "0",
                     "0", "0", "0", "0"});
  EXPECT_EQ(r.exit_code, 1) << "parallel's: the failed command's exit status; " << r.err;
  EXPECT_LE(Lines(r.out).size(), 4u) << r.out;
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
  EXPECT_THAT(stats.out, HasSubstr("\nready yes\n"));
  EXPECT_THAT(stats.out, Not(HasSubstr("not_ready_reason")));
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

TEST_F(CliTest, MapCommandReadsItemsFromStandardInputLines) {
  CliResult r = Run({"map", "--", "echo", "got"}, "a b\n\nc\n");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "got a b\ngot c\n");
}

TEST_F(CliTest, MapAndStarmapReadAJobsFile) {
  const std::string values = ::testing::TempDir() + "/cli_values.jsonl";
  std::ofstream(values) << "1\n\"two\"\n[3]\n";
  CliResult map = Run({"map", "--jobs-file", values, "echo"});
  EXPECT_EQ(map.exit_code, 0) << map.err;
  EXPECT_THAT(Lines(map.out), ElementsAre("[1]", "[\"two\"]", "[[3]]"));

  const std::string lists = ::testing::TempDir() + "/cli_lists.jsonl";
  std::ofstream(lists) << "[1,2]\n[]\n";
  CliResult starmap = Run({"starmap", "--jobs-file", lists, "echo"});
  EXPECT_EQ(starmap.exit_code, 0) << starmap.err;
  EXPECT_THAT(Lines(starmap.out), ElementsAre("[1,2]", "[]"));
}

TEST_F(CliTest, StarmapLineThatIsNotAnArrayExits64AfterTheLinesBeforeIt) {
  CliResult r = Run({"starmap", "echo"}, "[1]\n5\n[2]\n");
  EXPECT_EQ(r.exit_code, kExitUsage);
  EXPECT_EQ(r.out, "[1]\n");
  EXPECT_THAT(r.err, HasSubstr("standard input line 2"));
  EXPECT_EQ(Lines(r.err).size(), 1u) << r.err;
}

TEST_F(CliTest, StatusVerboseListsEveryAttempt) {
  // The command kills its own worker process: each attempt is lost, until
  // the job has used its attempts.
  CliResult exec = Run({"exec", "--detach", "--", "sh", "-c", "kill -9 $PPID"});
  ASSERT_EQ(exec.exit_code, 0) << exec.err;
  const std::string id(absl::StripSuffix(exec.out, "\n"));
  ASSERT_EQ(Run({"wait", id, "--timeout", "120"}).exit_code, 0);

  CliResult status = Run({"status", "-v", id});
  EXPECT_EQ(status.exit_code, 0) << status.err;
  const std::vector<std::string> lines = Lines(status.out);
  ASSERT_EQ(lines.size(), 6u) << status.out;
  EXPECT_EQ(lines[0], id + "\tFAILED");
  EXPECT_EQ(lines[1], "  submitted by owner");  // the scheduler's own admin token
  EXPECT_EQ(lines[2], "  max attempts 3");
  const std::string time = "[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}";
  for (int attempt = 1; attempt <= 3; ++attempt) {
    EXPECT_THAT(lines[2 + attempt],
                MatchesRegex("  attempt " + std::to_string(attempt) + " on node0 started " + time +
                             " finished " + time + " error: .*SIGKILL.*"));
  }
  // Without -v, the output is as it always was.
  EXPECT_EQ(Run({"status", id}).out, id + "\tFAILED\n");
}

TEST_F(CliTest, StatusVerboseOfARunningJob) {
  const std::string id = Submit({"sleep", "30"});
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  CliResult status;
  do {
    status = Run({"status", "-v", id});
  } while (!absl::StrContains(status.out, "RUNNING") && absl::Now() < deadline);
  EXPECT_THAT(status.out, ContainsRegex("\n  attempt 1 on node0 started [^\n]* running\n"));
  Run({"cancel", id});
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

// ---------------------------------------------------------------- scheduler restarts

constexpr int kExitNoPermission = 77;

// A cluster whose scheduler keeps its jobs across a kill -9.
std::unique_ptr<TestCluster> StartDurableCluster() {
  absl::StatusOr<std::unique_ptr<TestCluster>> cluster =
      TestCluster::Start({.workers = 1, .processes = 4, .durable = true});
  EXPECT_TRUE(cluster.ok()) << cluster.status();
  return cluster.ok() ? *std::move(cluster) : nullptr;
}

// Starts the CLI against `cluster` in the background, its output piped.
absl::StatusOr<netpool::testing::Subprocess> StartCli(const TestCluster& cluster,
                                                       const std::vector<std::string>& args) {
  std::vector<std::string> argv = {netpool::testing::CliPath(), "--scheduler",
                                   cluster.address()};
  argv.insert(argv.end(), args.begin(), args.end());
  return netpool::testing::Subprocess::Start(argv, {.pipe_stdout = true, .pipe_stderr = true});
}

// kill -9 of the scheduler while `cli` runs, and a new one on the same port
// and data two seconds later.
void RestartSchedulerUnder(TestCluster& cluster, netpool::testing::Subprocess& cli) {
  ASSERT_TRUE(cli.running()) << "the command ended before the restart";
  cluster.KillScheduler();
  absl::SleepFor(absl::Seconds(2));
  ASSERT_TRUE(cluster.StartScheduler().ok());
}

TEST(CliRestart, WaitRidesThroughASchedulerRestart) {
  std::unique_ptr<TestCluster> cluster = StartDurableCluster();
  ASSERT_NE(cluster, nullptr);
  CliResult submit = cluster->RunCli({"submit", "sleep", "5"});
  ASSERT_EQ(submit.exit_code, 0) << submit.err;
  const std::string id(absl::StripSuffix(submit.out, "\n"));
  absl::StatusOr<netpool::testing::Subprocess> wait = StartCli(*cluster, {"wait", id});
  ASSERT_TRUE(wait.ok()) << wait.status();
  absl::SleepFor(absl::Seconds(1));
  RestartSchedulerUnder(*cluster, *wait);
  CliResult r;
  absl::StatusOr<int> code = wait->Communicate(absl::Seconds(120), &r.out, &r.err);
  ASSERT_TRUE(code.ok()) << code.status();
  EXPECT_EQ(*code, 0) << r.err;
  EXPECT_EQ(r.err, "") << "nothing but the final error when not on a terminal";
  EXPECT_EQ(cluster->RunCli({"status", id}).out, id + "\tSUCCEEDED\n");
}

TEST(CliRestart, GetRidesThroughASchedulerRestart) {
  std::unique_ptr<TestCluster> cluster = StartDurableCluster();
  ASSERT_NE(cluster, nullptr);
  CliResult submit = cluster->RunCli({"submit", "sleep", "5"});
  ASSERT_EQ(submit.exit_code, 0) << submit.err;
  const std::string id(absl::StripSuffix(submit.out, "\n"));
  absl::StatusOr<netpool::testing::Subprocess> get = StartCli(*cluster, {"get", id});
  ASSERT_TRUE(get.ok()) << get.status();
  absl::SleepFor(absl::Seconds(1));
  RestartSchedulerUnder(*cluster, *get);
  CliResult r;
  absl::StatusOr<int> code = get->Communicate(absl::Seconds(120), &r.out, &r.err);
  ASSERT_TRUE(code.ok()) << code.status();
  EXPECT_EQ(*code, 0) << r.err;
  EXPECT_EQ(r.out, "null\n");  // what sleep returns
}

TEST(CliRestart, MapRidesThroughASchedulerRestartPrintingEachLineOnceInOrder) {
  std::unique_ptr<TestCluster> cluster = StartDurableCluster();
  ASSERT_NE(cluster, nullptr);
  constexpr int kItems = 300;
  std::vector<std::string> args = {"map", "--", "sh", "-c", "sleep 0.1; echo $0", "{}", ":::"};
  for (int i = 0; i < kItems; ++i) args.push_back(std::to_string(i));
  absl::StatusOr<netpool::testing::Subprocess> map = StartCli(*cluster, args);
  ASSERT_TRUE(map.ok()) << map.status();
  // The first results are out: the run is under way.
  absl::StatusOr<std::string> first = map->ReadLine(absl::Seconds(60));
  ASSERT_TRUE(first.ok()) << first.status();
  absl::SleepFor(absl::Seconds(1));
  RestartSchedulerUnder(*cluster, *map);
  CliResult r;
  absl::StatusOr<int> code = map->Communicate(absl::Seconds(240), &r.out, &r.err);
  ASSERT_TRUE(code.ok()) << code.status();
  EXPECT_EQ(*code, 0) << r.err;
  const std::vector<std::string> lines = Lines(*first + "\n" + r.out);
  ASSERT_EQ(lines.size(), static_cast<size_t>(kItems)) << r.out;
  for (int i = 0; i < kItems; ++i) ASSERT_EQ(lines[i], std::to_string(i)) << "line " << i;
}

TEST(CliRestart, AfterRetryForOfNoSchedulerGetAndMapExit69SayingSo) {
  std::unique_ptr<TestCluster> cluster = StartDurableCluster();
  ASSERT_NE(cluster, nullptr);
  CliResult submit = cluster->RunCli({"submit", "sleep", "60"});
  ASSERT_EQ(submit.exit_code, 0) << submit.err;
  const std::string id(absl::StripSuffix(submit.out, "\n"));
  absl::StatusOr<netpool::testing::Subprocess> get =
      StartCli(*cluster, {"get", id, "--retry-for", "2s"});
  ASSERT_TRUE(get.ok()) << get.status();
  absl::StatusOr<netpool::testing::Subprocess> map = StartCli(
      *cluster, {"map", "--retry-for", "2s", "sleep", ":::", "60", "60", "60", "60", "60"});
  ASSERT_TRUE(map.ok()) << map.status();
  absl::SleepFor(absl::Seconds(2));
  ASSERT_TRUE(get->running());
  ASSERT_TRUE(map->running());
  cluster->KillScheduler();  // for good
  const absl::Time killed = absl::Now();
  for (netpool::testing::Subprocess* cli : {&*get, &*map}) {
    CliResult r;
    absl::StatusOr<int> code = cli->Communicate(absl::Seconds(60), &r.out, &r.err);
    const absl::Duration took = absl::Now() - killed;
    ASSERT_TRUE(code.ok()) << code.status();
    EXPECT_EQ(*code, kExitUnavailable) << r.err;
    EXPECT_GE(took, absl::Milliseconds(1500));
    EXPECT_LT(took, absl::Seconds(15));
    EXPECT_EQ(r.out, "");
    EXPECT_THAT(r.err, MatchesRegex("netpool: scheduler unreachable for 2s, giving up: [^\n]*" +
                                    cluster->address() + "[^\n]*\n"));
  }
}

TEST(CliRestart, ARefusedTokenExits77AtOnceWithoutRetrying) {
  std::unique_ptr<TestCluster> cluster = StartDurableCluster();
  ASSERT_NE(cluster, nullptr);
  const std::string token_file = ::testing::TempDir() + "/cli_wrong_token";
  {
    std::ofstream file(token_file);
    file << "not-the-token\n";
  }
  ASSERT_EQ(::chmod(token_file.c_str(), 0600), 0);
  for (const std::vector<std::string>& command : std::vector<std::vector<std::string>>{
           {"get", "j-1"}, {"wait", "j-1"}, {"map", "echo", "1"}}) {
    std::vector<std::string> args = {"--token-file", token_file};
    args.insert(args.end(), command.begin(), command.end());
    const absl::Time start = absl::Now();
    CliResult r = cluster->RunCli(args);
    EXPECT_EQ(r.exit_code, kExitNoPermission) << command[0] << ": " << r.err;
    EXPECT_LT(absl::Now() - start, absl::Seconds(10)) << command[0];
  }
}

// ---------------------------------------------------------------- map --local

// Nobody listens here: a --local run that used the scheduler would fail.
constexpr char kNoScheduler[] = "127.0.0.1:1";

// Runs the CLI with no cluster at all.
CliResult RunWithoutScheduler(const std::vector<std::string>& args,
                              const std::string& stdin_data = "") {
  std::vector<std::string> argv = {netpool::testing::CliPath(), "--scheduler", kNoScheduler};
  argv.insert(argv.end(), args.begin(), args.end());
  CliResult result = netpool::testing::RunProgram(argv, stdin_data, absl::Seconds(240));
  EXPECT_NE(result.exit_code, -1) << result.err;
  return result;
}

TEST(CliLocal, MapCommandRunsWithNoDaemonLikeGnuParallel) {
  CliResult r = RunWithoutScheduler({"map", "--local", "-j", "2", "--", "echo", "{}", ":::", "a",
                                     "b", "c"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "a\nb\nc\n");
  EXPECT_EQ(r.err, "") << "no progress line when not on a terminal";
}

TEST(CliLocal, MapAndStarmapOfBuiltInFunctions) {
  CliResult map = RunWithoutScheduler({"map", "--local", "echo", ":::", "1", "x"});
  EXPECT_EQ(map.exit_code, 0) << map.err;
  EXPECT_THAT(Lines(map.out), ElementsAre("[1]", "[\"x\"]"));

  CliResult starmap = RunWithoutScheduler({"starmap", "--local", "-j", "1", "echo"},
                                          "[1,2]\n[\"a\"]\n");
  EXPECT_EQ(starmap.exit_code, 0) << starmap.err;
  EXPECT_THAT(Lines(starmap.out), ElementsAre("[1,2]", "[\"a\"]"));
}

TEST(CliLocal, FailedItemsExit1) {
  CliResult r = RunWithoutScheduler({"map", "--local", "sleep", ":::", "0", "oops"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.out, "null\n");
  EXPECT_THAT(r.err, HasSubstr("item 1"));
}

TEST(CliLocal, JobsFileOfTwentyThousandLinesStreamsInOrder) {
  const std::string path = ::testing::TempDir() + "/cli_local_jobs.txt";
  {
    std::ofstream file(path);
    for (int i = 0; i < 20'000; ++i) file << i << '\n';
  }
  // Chunks of 4: 5,000 jobs, more than the CLI keeps submitted at a time.
  CliResult r = RunWithoutScheduler(
      {"map", "--local", "-j", "2", "--chunksize", "4", "--jobs-file", path, "echo"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  const std::vector<std::string> lines = Lines(r.out);
  ASSERT_EQ(lines.size(), 20'000u);
  for (int i = 0; i < 20'000; ++i) {
    ASSERT_EQ(lines[i], "[" + std::to_string(i) + "]") << "line " << i;
  }
}

TEST(CliLocal, AnInterruptedRunLeavesNoProcessBehind) {
  for (int signal_number : {SIGINT, SIGTERM}) {
    absl::StatusOr<netpool::testing::Subprocess> cli = netpool::testing::Subprocess::Start(
        {netpool::testing::CliPath(), "--scheduler", kNoScheduler, "map", "--local", "-j", "2",
         "--", "sleep", ":::", "60", "61"});
    ASSERT_TRUE(cli.ok()) << cli.status();
    // The commands run in the CLI's worker processes, each in one.
    std::vector<pid_t> commands;
    const absl::Time deadline = absl::Now() + absl::Seconds(60);
    while (commands.size() < 2 && absl::Now() < deadline) {
      absl::SleepFor(absl::Milliseconds(10));
      commands.clear();
      for (pid_t worker : netpool::testing::ChildPids(cli->pid())) {
        for (pid_t command : netpool::testing::ChildPids(worker)) commands.push_back(command);
      }
    }
    ASSERT_EQ(commands.size(), 2u);
    cli->Signal(signal_number);
    EXPECT_EQ(cli->Wait(absl::Seconds(30)), 128 + signal_number);
    for (pid_t command : commands) {
      EXPECT_TRUE(netpool::testing::WaitUntilGone(command)) << "command " << command;
    }
  }
}

// What the CLI wrote where a user would see it.
struct TerminalRun {
  int exit_code = -1;
  std::string terminal;  // everything written to the pseudo-terminal
  std::string piped;     // standard output, when it was a pipe
};

// Runs the CLI with its standard error (and standard output, when
// `stdout_on_terminal`; else a pipe) on a pseudo-terminal, as in a shell.
TerminalRun RunOnTerminal(const std::vector<std::string>& args, bool stdout_on_terminal) {
  TerminalRun run;
  int pipe_fds[2] = {-1, -1};
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) {
    ADD_FAILURE() << "pipe: " << std::strerror(errno);
    return run;
  }
  std::vector<std::string> words = {netpool::testing::CliPath(), "--scheduler", kNoScheduler};
  words.insert(words.end(), args.begin(), args.end());
  absl::StatusOr<netpool::testing::TerminalChild> cli =
      netpool::testing::SpawnOnTerminal(words, stdout_on_terminal ? -1 : pipe_fds[1]);
  ::close(pipe_fds[1]);
  if (!cli.ok()) {
    ADD_FAILURE() << cli.status();
    ::close(pipe_fds[0]);
    return run;
  }
  // Until the terminal's last writer is gone (EIO) and the pipe's (EOF).
  pollfd fds[2] = {{cli->master, POLLIN, 0}, {pipe_fds[0], POLLIN, 0}};
  std::string* sinks[2] = {&run.terminal, &run.piped};
  const absl::Time deadline = absl::Now() + absl::Seconds(120);
  int open_fds = 2;
  while (open_fds > 0 && absl::Now() < deadline) {
    if (::poll(fds, 2, 1000) <= 0) continue;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      char buffer[4096];
      const ssize_t n = ::read(fds[i].fd, buffer, sizeof(buffer));
      if (n > 0) {
        sinks[i]->append(buffer, static_cast<size_t>(n));
      } else {
        ::close(fds[i].fd);
        fds[i].fd = -1;
        --open_fds;
      }
    }
  }
  for (pollfd& fd : fds) {
    if (fd.fd >= 0) ::close(fd.fd);
  }
  int status = 0;
  if (::waitpid(cli->pid, &status, 0) == cli->pid && WIFEXITED(status)) {
    run.exit_code = WEXITSTATUS(status);
  }
  return run;
}

// The terminal's text without the progress line's drawing: each "\r...ESC[K"
// redraw is dropped, and "\r\n" (the terminal's line end) becomes "\n".
std::string WithoutProgressLine(const std::string& terminal) {
  std::string text = std::regex_replace(terminal, std::regex("\r[^\r\n]*\x1b\\[K"), "");
  return absl::StrReplaceAll(text, {{"\r\n", "\n"}});
}

const std::vector<std::string> kSlowItems = {
    "map", "--local", "-j", "2", "--", "sh", "-c", "sleep 0.2; echo $0", "{}",
    ":::", "a", "b", "c", "d", "e", "f"};

TEST(CliLocal, ProgressLineOnATerminalIsRedrawnAndClearedAtTheEnd) {
  TerminalRun run = RunOnTerminal(kSlowItems, /*stdout_on_terminal=*/true);
  EXPECT_EQ(run.exit_code, 0) << run.terminal;
  EXPECT_THAT(run.terminal, ContainsRegex("\r[0-6]/6 done  [^\r]*0 failed\x1b\\[K"));
  // The last line drawn is erased again: nothing of it is left on the screen.
  const size_t last_line_end = run.terminal.rfind("failed\x1b[K");
  ASSERT_NE(last_line_end, std::string::npos);
  EXPECT_EQ(run.terminal.substr(last_line_end + 9, 4), "\r\x1b[K") << run.terminal;
  EXPECT_EQ(WithoutProgressLine(run.terminal), "a\nb\nc\nd\ne\nf\n");
}

TEST(CliLocal, NoProgressLineWhenStandardOutputIsNotATerminal) {
  TerminalRun run = RunOnTerminal(kSlowItems, /*stdout_on_terminal=*/false);
  EXPECT_EQ(run.exit_code, 0) << run.terminal;
  EXPECT_EQ(run.piped, "a\nb\nc\nd\ne\nf\n");
  EXPECT_EQ(run.terminal, "") << "nothing extra on the terminal";
}

TEST(CliRestart, OnATerminalOneLineSaysItIsReconnecting) {
  TerminalRun run = RunOnTerminal({"get", "j-1", "--retry-for", "1s"}, true);
  EXPECT_EQ(run.exit_code, kExitUnavailable);
  EXPECT_THAT(WithoutProgressLine(run.terminal),
              MatchesRegex("netpool: scheduler at 127.0.0.1:1 is unreachable; reconnecting for "
                           "up to 1s\nnetpool: scheduler unreachable for 1s, giving up: [^\n]*\n"));

  TerminalRun piped = RunOnTerminal({"get", "j-1", "--retry-for", "1s"}, false);
  EXPECT_EQ(piped.exit_code, kExitUnavailable);
  EXPECT_THAT(WithoutProgressLine(piped.terminal),
              MatchesRegex("netpool: scheduler unreachable for 1s, giving up: [^\n]*\n"));
}

// ---------------------------------------------------------------- what a new user meets

// How many jobs the scheduler has, in any state.
int64_t JobCount(TestCluster& cluster) {
  CliResult stats = cluster.RunCli({"stats"});
  EXPECT_EQ(stats.exit_code, 0) << stats.err;
  int64_t total = 0;
  for (const std::string& line : Lines(stats.out)) {
    for (const char* state : {"pending ", "running ", "succeeded ", "failed ", "cancelled "}) {
      if (absl::StartsWith(line, state)) total += std::stoll(line.substr(std::strlen(state)));
    }
  }
  return total;
}

TEST_F(CliTest, AWordThatStartsLikeJsonButIsNotIsBadJsonAndNothingIsSubmitted) {
  const int64_t jobs_before = JobCount(*cluster_);
  for (const std::string word : {"{bad", "[1,", "\"unterminated"}) {
    CliResult submit = Run({"submit", "echo", "1", word});
    EXPECT_EQ(submit.exit_code, kExitUsage) << word << ": " << submit.err;
    EXPECT_EQ(submit.out, "") << word;
    EXPECT_EQ(Lines(submit.err).size(), 1u) << submit.err;
    EXPECT_THAT(submit.err, HasSubstr("argument 2")) << word;
    EXPECT_THAT(submit.err, HasSubstr(word));

    CliResult map = Run({"map", "echo", ":::", "1", word});
    EXPECT_EQ(map.exit_code, kExitUsage) << word << ": " << map.err;
    EXPECT_EQ(map.out, "") << word;
    EXPECT_EQ(Lines(map.err).size(), 1u) << map.err;
    EXPECT_THAT(map.err, HasSubstr(word));
  }
  EXPECT_EQ(JobCount(*cluster_), jobs_before);
  // Other words that are not JSON are still strings.
  const std::string id = Submit({"echo", "plain", "a{b", "1,2]"});
  EXPECT_EQ(Run({"get", id, "--timeout", "30"}).out, "[\"plain\",\"a{b\",\"1,2]\"]\n");
}

TEST_F(CliTest, ExecWithoutDashDashSaysToPutItBeforeTheCommand) {
  CliResult r = Run({"exec", "sh", "-c", "echo hi"});
  EXPECT_EQ(r.exit_code, kExitUsage) << r.err;
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(Lines(r.err).size(), 1u) << r.err;
  EXPECT_THAT(r.err, HasSubstr("put -- before the command: netpool exec [OPTIONS] -- sh -c"));
  // After "--", a word that looks like an option before it is a misspelt one.
  CliResult misspelt = Run({"exec", "--detatch", "--", "true"});
  EXPECT_EQ(misspelt.exit_code, kExitUsage);
  EXPECT_THAT(misspelt.err, HasSubstr("exec has no option --detatch"));
  // A command without options needs no "--".
  CliResult plain = Run({"exec", "echo", "hi"});
  EXPECT_EQ(plain.exit_code, 0) << plain.err;
  EXPECT_EQ(plain.out, "hi\n");
}

TEST_F(CliTest, AnOutOfRangeNumberSaysWhatTheFlagTakes) {
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"jobs", "--limit", "-1"}, "--limit: must be 0 or more, got -1"},
      {{"get", "j-1", "--timeout", "-2"}, "--timeout: must be 0 or more, got -2"},
      {{"wait", "j-1", "--timeout", "-2"}, "--timeout: must be 0 or more, got -2"},
      {{"exec", "--timeout", "-2", "--", "true"}, "--timeout: \"-2\" is negative"},  // a duration
      {{"submit", "--max-attempts", "0", "echo"}, "--max-attempts: must be from 1 to 100, got 0"},
      {{"map", "--chunksize", "0", "echo", ":::", "1"}, "--chunksize: must be 1 or more, got 0"},
      {{"map", "--local", "-j", "0", "echo", ":::", "1"}, "--jobs: must be from 1 to 4096, got 0"},
  };
  for (const auto& [args, message] : cases) {
    CliResult r = Run(args);
    EXPECT_EQ(r.exit_code, kExitUsage) << args[0] << ": " << r.err;
    EXPECT_EQ(Lines(r.err).size(), 1u) << r.err;
    EXPECT_THAT(r.err, HasSubstr(message));
    EXPECT_LT(r.err.size(), 160u) << r.err;
  }
}

TEST(CliVersion, EveryProgramPrintsItsNameAndTheSameVersion) {
  const std::vector<std::pair<std::string, std::string>> programs = {
      {netpool::testing::CliPath(), "netpool"},
      {netpool::testing::NetpooldPath(), "netpoold"},
      {netpool::testing::WorkerPath(), "netpool-worker"}};
  std::vector<std::string> versions;
  for (const auto& [path, name] : programs) {
    CliResult r = netpool::testing::RunProgram({path, "--version"});
    EXPECT_EQ(r.exit_code, 0) << name << ": " << r.err;
    EXPECT_THAT(r.out, MatchesRegex(name + " [0-9]+\\.[0-9]+\\.[0-9]+\n"));
    versions.push_back(std::string(absl::StripPrefix(r.out, name)));
  }
  EXPECT_THAT(versions, ::testing::Each(versions[0]));
}

TEST_F(CliTest, ExecOfACommandThatTimesOutExits124LikeTimeout) {
  CliResult r = Run({"exec", "--timeout", "0.5", "--", "sleep", "30"});
  EXPECT_EQ(r.exit_code, 124) << r.err;
  EXPECT_THAT(r.err, HasSubstr("timed out"));
}

TEST_F(CliTest, ErrorsShowNoGrpcStatusNames) {
  CliResult exec = Run({"exec", "--", "sh", "-c", "kill -TERM $$"});
  EXPECT_NE(exec.exit_code, 0);
  EXPECT_THAT(exec.err, HasSubstr("command killed by"));
  const std::string id = Submit({"sleep", "not-a-number"});
  CliResult get = Run({"get", id, "--timeout", "30"});
  EXPECT_EQ(get.exit_code, 1);
  for (const std::string& err : {exec.err, get.err}) {
    EXPECT_THAT(err, Not(ContainsRegex("(UNKNOWN|INVALID_ARGUMENT|DEADLINE_EXCEEDED|INTERNAL): ")))
        << err;
  }
}

// ---------------------------------------------------------------- -o json, -o jsonl
// Parsed as a script would, against the README's schema.

Value ParseJson(const std::string& text) {
  absl::StatusOr<Value> value = Value::FromJson(text);
  EXPECT_TRUE(value.ok()) << value.status() << "\n" << text;
  return value.ok() ? *std::move(value) : Value();
}

// A record's field; null (and a test failure) when it is missing.
Value Field(const Value& record, const std::string& name) {
  auto it = record.AsMap().find(name);
  EXPECT_TRUE(it != record.AsMap().end()) << name << " missing from " << record.ToJson();
  return it == record.AsMap().end() ? Value() : it->second;
}

constexpr char kRfc3339Utc[] = "[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z";

TEST_F(CliTest, StatusAsJsonIsOneDocumentWithTheDocumentedFields) {
  const std::string id = Submit({"echo", "1"});
  ASSERT_EQ(Run({"wait", id, "--timeout", "30"}).exit_code, 0);
  CliResult json = Run({"status", "-o", "json", id, "j-doesnotexist"});
  EXPECT_EQ(json.exit_code, 1) << json.err;  // an unknown id, as without -o
  const Value document = ParseJson(json.out);
  ASSERT_TRUE(document.is_list()) << json.out;
  ASSERT_EQ(document.AsList().size(), 2u) << json.out;
  const Value& job = document.AsList()[0];
  EXPECT_EQ(Field(job, "id").AsString(), id);
  EXPECT_EQ(Field(job, "state").AsString(), "SUCCEEDED");
  EXPECT_EQ(Field(job, "function").AsString(), "echo");
  EXPECT_EQ(Field(job, "attempts").AsInt(), 1);
  EXPECT_EQ(Field(job, "max_attempts").AsInt(), 3);
  EXPECT_EQ(Field(job, "worker").AsString(), "node0");
  EXPECT_EQ(Field(job, "owner").AsString(), "owner");
  for (const char* time : {"submitted", "started", "finished"}) {
    EXPECT_THAT(Field(job, time).AsString(), MatchesRegex(kRfc3339Utc)) << time;
  }
  EXPECT_TRUE(Field(job, "duration_s").is_number());
  EXPECT_TRUE(Field(job, "error").is_null());
  EXPECT_EQ(Field(job, "history").AsList().size(), 1u);
  EXPECT_EQ(document.AsList()[1].ToJson(), "{\"id\":\"j-doesnotexist\",\"state\":\"NOT_FOUND\"}");

  CliResult lines = Run({"status", "-o", "jsonl", id, id});
  EXPECT_EQ(lines.exit_code, 0) << lines.err;
  ASSERT_EQ(Lines(lines.out).size(), 2u) << lines.out;
  for (const std::string& line : Lines(lines.out)) {
    EXPECT_EQ(Field(ParseJson(line), "id").AsString(), id);
  }
}

TEST_F(CliTest, JobsWorkersAndStatsAsJson) {
  const std::string id = Submit({"echo", "listed"});
  ASSERT_EQ(Run({"wait", id, "--timeout", "30"}).exit_code, 0);
  CliResult jobs = Run({"jobs", "-o", "json"});
  ASSERT_EQ(jobs.exit_code, 0) << jobs.err;
  bool listed = false;
  const Value listing = ParseJson(jobs.out);
  for (const Value& job : listing.AsList()) {
    if (Field(job, "id").AsString() == id) listed = Field(job, "state").AsString() == "SUCCEEDED";
  }
  EXPECT_TRUE(listed) << jobs.out;

  CliResult workers = Run({"workers", "-o", "jsonl"});
  ASSERT_EQ(workers.exit_code, 0) << workers.err;
  ASSERT_EQ(Lines(workers.out).size(), 1u) << workers.out;
  const Value worker = ParseJson(workers.out);
  EXPECT_EQ(Field(worker, "name").AsString(), "node0");
  EXPECT_EQ(Field(worker, "slots").AsInt(), 2);
  EXPECT_THAT(Field(worker, "connected").AsString(), MatchesRegex(kRfc3339Utc));
  EXPECT_TRUE(Field(worker, "labels").is_map());

  for (const char* format : {"json", "jsonl"}) {
    CliResult stats = Run({"stats", "-o", format});
    ASSERT_EQ(stats.exit_code, 0) << stats.err;
    EXPECT_EQ(Lines(stats.out).size(), 1u) << stats.out;
    const Value counters = ParseJson(stats.out);
    EXPECT_TRUE(Field(counters, "ready").AsBool());
    EXPECT_EQ(Field(counters, "slots").AsInt(), 2);
    EXPECT_GE(Field(counters, "succeeded").AsInt(), 1);
    EXPECT_TRUE(Field(counters, "not_ready_reason").is_null());
  }
}

TEST_F(CliTest, GetAsJsonIsTheResultOrTheErrorRecord) {
  const std::string ok = Submit({"echo", "1"});
  CliResult got = Run({"get", "-o", "json", ok, "--timeout", "30"});
  EXPECT_EQ(got.exit_code, 0) << got.err;
  EXPECT_EQ(got.out, "{\"id\":\"" + ok + "\",\"state\":\"SUCCEEDED\",\"value\":[1]}\n");

  const std::string failing = Submit({"sleep", "not-a-number"});
  CliResult failed = Run({"get", "-o", "jsonl", failing, "--timeout", "30"});
  EXPECT_EQ(failed.exit_code, 1);
  const Value record = ParseJson(failed.out);
  EXPECT_EQ(Field(record, "state").AsString(), "FAILED");
  const Value error = Field(record, "error");
  EXPECT_THAT(Field(error, "code").AsString(), MatchesRegex("[A-Z_]+"));
  EXPECT_THAT(failed.err, HasSubstr(Field(error, "message").AsString()));
}

TEST_F(CliTest, JobsTableShowsAttemptsSubmittedDurationAndError) {
  const std::string id = Submit({"sleep", "not-a-number"});
  ASSERT_EQ(Run({"wait", id, "--timeout", "30"}).exit_code, 0);
  const Value job = ParseJson(Run({"status", "-o", "jsonl", id}).out);
  const std::string message = Field(Field(job, "error"), "message").AsString();
  ASSERT_FALSE(message.empty());

  CliResult table = Run({"jobs", "--state", "FAILED"});
  ASSERT_EQ(table.exit_code, 0) << table.err;
  const std::vector<std::string> lines = Lines(table.out);
  EXPECT_THAT(lines[0], MatchesRegex("ID +STATE +FUNCTION +ATTEMPTS +WORKER +SUBMITTED +DURATION "
                                     "+OWNER +ERROR +COMMAND"));
  std::string row;
  for (const std::string& line : lines) {
    if (absl::StartsWith(line, id + " ")) row = line;
  }
  // SUBMITTED is one word, so that a script splitting on blanks finds the columns after it.
  EXPECT_THAT(row, ContainsRegex(" FAILED +sleep +1/3 +node0 +[0-9]{4}-[0-9]{2}-[0-9]{2}T"
                                 "[0-9:]{8} +[0-9]+\\.[0-9]s +owner +"))
      << table.out;
  EXPECT_THAT(row, HasSubstr(message.substr(0, 20))) << table.out;
}

// Each "Examples:" line of each command's --help, run by sh as a user would
// type it, next to two .nii files for the examples that compress some.
TEST_F(CliTest, EveryHelpExampleWorksAsWritten) {
  std::vector<std::string> examples;
  const std::string commands = Run({"--help"}).out;
  for (absl::string_view line : absl::StrSplit(commands.substr(commands.find("Subcommands:")), '\n')) {
    if (!absl::ConsumePrefix(&line, "  ")) continue;
    const std::string command(line.substr(0, line.find(' ')));
    const std::string help = Run({command, "--help"}).out;
    const size_t at = help.find("Examples:\n");
    if (at == std::string::npos) continue;
    for (absl::string_view example : absl::StrSplit(help.substr(at + 10), '\n')) {
      if (!absl::ConsumePrefix(&example, "  ")) break;
      examples.emplace_back(example);
    }
  }
  ASSERT_GE(examples.size(), 6u);
  const std::string cli_dir = testing::CliPath().substr(0, testing::CliPath().rfind('/'));
  for (const std::string& example : examples) {
    testing::ScratchDir dir;
    dir.Write("a.nii", "first image");
    dir.Write("b.nii", "second image");
    CliResult run = testing::RunProgram(
        {"/bin/sh", "-c",
         absl::StrCat("PATH=", cli_dir, ":$PATH; cd ", dir.path(), " && ", example)},
        "", absl::Seconds(60), {absl::StrCat("NETPOOL_SCHEDULER=", cluster_->address())});
    EXPECT_EQ(run.exit_code, 0) << example << "\n" << run.err;
  }
}

TEST_F(CliTest, JobsShowsAnExecJobsCommandLine) {
  ASSERT_EQ(Run({"exec", "--", "sh", "-c", "exit 0", "it's"}).exit_code, 0);
  CliResult table = Run({"jobs", "--state", "SUCCEEDED"});
  ASSERT_EQ(table.exit_code, 0) << table.err;
  EXPECT_THAT(Lines(table.out)[0], HasSubstr(" COMMAND"));
  EXPECT_THAT(table.out, HasSubstr("sh -c 'exit 0' 'it'\\''s'")) << table.out;
  CliResult json = Run({"jobs", "--state", "SUCCEEDED", "-o", "jsonl"});
  EXPECT_THAT(json.out, HasSubstr("\"command\":\"sh -c 'exit 0' 'it'\\\\''s'\"")) << json.out;
}

TEST_F(CliTest, MapAsJsonLinesIsOneRecordPerItemInOrder) {
  CliResult lines =
      Run({"map", "-o", "jsonl", "--chunksize", "2", "echo", ":::", "a", "1", "[true]"});
  EXPECT_EQ(lines.exit_code, 0) << lines.err;
  EXPECT_THAT(Lines(lines.out),
              ElementsAre("{\"index\":0,\"item\":\"a\",\"value\":[\"a\"]}",
                          "{\"index\":1,\"item\":1,\"value\":[1]}",
                          "{\"index\":2,\"item\":[true],\"value\":[[true]]}"));

  CliResult starmap = Run({"starmap", "-o", "jsonl", "echo"}, "[1,2]\n");
  EXPECT_EQ(starmap.out, "{\"index\":0,\"item\":[1,2],\"value\":[1,2]}\n");

  CliResult command = Run({"map", "-o", "json", "--", "echo", "got", ":::", "x"});
  EXPECT_EQ(command.exit_code, 0) << command.err;
  const Value records = ParseJson(command.out);
  ASSERT_EQ(records.AsList().size(), 1u) << command.out;
  EXPECT_EQ(Field(records.AsList()[0], "item").AsString(), "x");
  EXPECT_EQ(Field(Field(records.AsList()[0], "value"), "stdout").AsString(), "got x\n");
}

TEST_F(CliTest, AFailedMapItemIsNamedByItsIndexAndHasAnErrorRecord) {
  CliResult r = Run({"map", "-o", "json", "sleep", ":::", "0", "oops", "0"});
  EXPECT_EQ(r.exit_code, 1);
  const Value records = ParseJson(r.out);
  ASSERT_EQ(records.AsList().size(), 3u) << r.out;
  const Value& failed = records.AsList()[1];
  EXPECT_EQ(Field(failed, "index").AsInt(), 1);
  EXPECT_EQ(Field(failed, "item").AsString(), "oops");
  const std::string message = Field(Field(failed, "error"), "message").AsString();
  ASSERT_FALSE(message.empty());
  // As map --help promises: "item N: MESSAGE", N counting from 0.
  EXPECT_EQ(r.err, "item 1: " + message + "\n");
  EXPECT_TRUE(Field(records.AsList()[0], "value").is_null());
}

// ---------------------------------------------------------------- scheduling flags

// The job's record, once it has finished.
Value FinishedJob(TestCluster& cluster, const std::string& id) {
  EXPECT_EQ(cluster.RunCli({"wait", id, "--timeout", "60"}).exit_code, 0);
  return ParseJson(cluster.RunCli({"status", "-o", "jsonl", id}).out);
}

TEST_F(CliTest, MaxAttemptsAndRetryOnErrorShowInTheAttempts) {
  const Value retried = FinishedJob(
      *cluster_, Submit({"--max-attempts", "2", "--retry-on-error", "sleep", "not-a-number"}));
  EXPECT_EQ(Field(retried, "state").AsString(), "FAILED");
  EXPECT_EQ(Field(retried, "attempts").AsInt(), 2);
  EXPECT_EQ(Field(retried, "max_attempts").AsInt(), 2);
  EXPECT_EQ(Field(retried, "history").AsList().size(), 2u);

  // Without --retry-on-error a task's own error is not retried.
  const Value once = FinishedJob(*cluster_, Submit({"--max-attempts", "2", "sleep", "nan"}));
  EXPECT_EQ(Field(once, "attempts").AsInt(), 1);
  EXPECT_EQ(Field(once, "max_attempts").AsInt(), 2);
}

TEST_F(CliTest, SubmitTimeoutFailsTheJobAndExecTakesADuration) {
  const Value job = FinishedJob(*cluster_, Submit({"--timeout", "500ms", "sleep", "30"}));
  EXPECT_EQ(Field(job, "state").AsString(), "FAILED");
  EXPECT_EQ(Field(Field(job, "error"), "code").AsString(), "DEADLINE_EXCEEDED");
  CliResult exec = Run({"exec", "--timeout", "500ms", "--", "sleep", "30"});
  EXPECT_EQ(exec.exit_code, 124) << exec.err;
}

TEST_F(CliTest, AnIdempotencyKeySubmittedTwiceIsOneJob) {
  const std::string key = absl::StrCat("cli-", absl::ToUnixNanos(absl::Now()));
  const int64_t before = JobCount(*cluster_);
  const std::string first = Submit({"--idempotency-key", key, "echo", "1"});
  EXPECT_EQ(Submit({"--idempotency-key", key, "echo", "1"}), first);
  CliResult exec = Run({"exec", "--detach", "--idempotency-key", key + "-exec", "--", "true"});
  CliResult again = Run({"exec", "--detach", "--idempotency-key", key + "-exec", "--", "true"});
  EXPECT_EQ(exec.out, again.out);
  for (int run = 0; run < 2; ++run) {
    CliResult map = Run({"map", "--idempotency-key", key + "-map", "echo", ":::", "1", "2"});
    EXPECT_EQ(map.exit_code, 0) << map.err;
    EXPECT_THAT(Lines(map.out), ElementsAre("[1]", "[2]"));
  }
  EXPECT_EQ(JobCount(*cluster_), before + 1 + 1 + 2);
}

// One slot, so that the order in which jobs start is the scheduler's.
TEST(CliScheduling, PriorityOrdersJobsAndLabelsPickTheNode) {
  // One process and no prefetch: a job the node does not run waits in the
  // scheduler's queue, where priority orders it.
  absl::StatusOr<std::unique_ptr<TestCluster>> started =
      TestCluster::Start({.workers = 1, .processes = 1, .worker_args = {"--prefetch", "0"}});
  ASSERT_TRUE(started.ok()) << started.status();
  TestCluster& cluster = **started;
  auto submit = [&](const std::vector<std::string>& args) {
    std::vector<std::string> argv = {"submit"};
    argv.insert(argv.end(), args.begin(), args.end());
    CliResult r = cluster.RunCli(argv);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return std::string(absl::StripSuffix(r.out, "\n"));
  };
  // The blocker holds the only process until both others are queued, however
  // slowly they arrive (a sanitized CLI takes a second).
  const std::string blocker = submit({"sleep", "60"});
  ASSERT_TRUE(testing::Eventually(
      [&] { return cluster.RunCli({"status", blocker}).out == blocker + "\tRUNNING\n"; },
      absl::Seconds(30)));
  const std::string low = submit({"--priority", "-5", "echo", "low"});
  const std::string high = submit({"--priority", "5", "echo", "high"});
  ASSERT_EQ(cluster.RunCli({"cancel", blocker}).exit_code, 0);
  const std::string low_started = Field(FinishedJob(cluster, low), "started").AsString();
  const std::string high_started = Field(FinishedJob(cluster, high), "started").AsString();
  EXPECT_LT(high_started, low_started);  // RFC 3339 UTC strings sort as times
  const Value high_job = ParseJson(cluster.RunCli({"status", "-o", "jsonl", high}).out);
  EXPECT_EQ(Field(high_job, "priority").ToJson(), "5");
  EXPECT_EQ(Field(high_job, "args").ToJson(), "[\"high\"]");

  absl::StatusOr<int> labelled = cluster.AddWorker(1, {"--label", "gpu=yes"});
  ASSERT_TRUE(labelled.ok()) << labelled.status();
  const std::string node = absl::StrCat("node", *labelled);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(Field(FinishedJob(cluster, submit({"--label", "gpu=yes", "echo", "1"})), "worker")
                  .AsString(),
              node);
  }
  CliResult exec = cluster.RunCli({"exec", "--label", "gpu=yes", "--", "true"});
  EXPECT_EQ(exec.exit_code, 0) << exec.err;
  // No node has gpu=no: the job waits.
  const std::string waiting = submit({"--label", "gpu=no", "echo", "1"});
  absl::SleepFor(absl::Seconds(1));
  EXPECT_EQ(cluster.RunCli({"status", waiting}).out, waiting + "\tPENDING\n");
  EXPECT_EQ(Field(ParseJson(cluster.RunCli({"status", "-o", "jsonl", waiting}).out), "labels")
                .ToJson(),
            "{\"gpu\":\"no\"}");
  EXPECT_EQ(cluster.RunCli({"cancel", waiting}).exit_code, 0);
}

}  // namespace
}  // namespace netpool
