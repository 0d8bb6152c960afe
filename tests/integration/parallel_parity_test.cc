// `netpool map --local -- CMD` against GNU parallel itself (Debian's, from
// scripts/install-deps.sh): the same inputs through both must give the same
// output, joblog columns, --results files and --halt exit codes.
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/scratch_dir.h"
#include "tests/support/test_cluster.h"

namespace netpool {
namespace {

using ::netpool::testing::CliResult;
using ::netpool::testing::ScratchDir;
using ::testing::ElementsAre;
using ::testing::SizeIs;

// Nobody listens here: a --local run that used the scheduler would fail.
constexpr char kNoScheduler[] = "127.0.0.1:1";

// The same run through GNU parallel and through netpool map --local.
struct BothRuns {
  CliResult parallel;
  CliResult netpool;
};

// Runs `options -- command ::: items` as both programs; `file_for` gives
// each program's own file (index 0 for parallel, 1 for netpool), put in
// place of every "@" word.
BothRuns RunBoth(const std::vector<std::string>& options, const std::vector<std::string>& command,
                 const std::vector<std::string>& items,
                 const std::vector<std::string>& file_for = {"", ""}) {
  auto with_file = [&](const std::vector<std::string>& words, size_t which) {
    std::vector<std::string> replaced = words;
    for (std::string& word : replaced) {
      if (word == "@") word = file_for[which];
    }
    return replaced;
  };
  // netpool runs the command's words as they are, without a shell: as
  // parallel -q does (plain parallel joins them into a shell command line).
  std::vector<std::string> parallel = {NETPOOL_GNU_PARALLEL, "-k", "-q"};
  std::vector<std::string> netpool = {netpool::testing::CliPath(), "--scheduler", kNoScheduler,
                                      "map", "--local"};
  for (std::vector<std::string>* argv : {&parallel, &netpool}) {
    const size_t which = argv == &parallel ? 0 : 1;
    for (const std::string& word : with_file(options, which)) argv->push_back(word);
    if (argv == &netpool) argv->push_back("--");
    for (const std::string& word : with_file(command, which)) argv->push_back(word);
    argv->push_back(":::");
    for (const std::string& word : with_file(items, which)) argv->push_back(word);
  }
  return {netpool::testing::RunProgram(parallel, "", absl::Seconds(120)),
          netpool::testing::RunProgram(netpool, "", absl::Seconds(120))};
}

std::string ReadFile(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

// A --joblog file's lines, each split at its tabs.
std::vector<std::vector<std::string>> JoblogRows(const std::string& path) {
  std::vector<std::vector<std::string>> rows;
  const std::string text = ReadFile(path);
  for (absl::string_view line : absl::StrSplit(absl::StripSuffix(text, "\n"), '\n')) {
    rows.push_back(absl::StrSplit(line, '\t'));
  }
  return rows;
}

// What does not depend on when and how fast the jobs ran: Seq, Host,
// Send, Receive, Exitval, Signal and Command, by Seq.
std::map<std::string, std::vector<std::string>> DeterministicColumns(const std::string& path) {
  std::map<std::string, std::vector<std::string>> by_seq;
  for (const std::vector<std::string>& row : JoblogRows(path)) {
    if (row.size() != 9) {
      ADD_FAILURE() << "a joblog line of " << row.size() << " columns in " << path;
      continue;
    }
    by_seq[row[0]] = {row[1], row[4], row[5], row[6], row[7], row[8]};
  }
  return by_seq;
}

// Every file under `dir` with its content, by path relative to it.
std::map<std::string, std::string> Tree(const std::string& dir) {
  std::map<std::string, std::string> files;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir)) {
    if (entry.is_regular_file()) {
      files[std::filesystem::relative(entry.path(), dir).string()] =
          ReadFile(entry.path().string());
    }
  }
  return files;
}

TEST(ParallelParity, ReplacementStrings) {
  BothRuns runs = RunBoth({}, {"echo", "{}", "{.}", "{/}", "{//}", "{/.}", "{#}"},
                          {"dir.d/a.tar.gz", "b", "/x/y.c", "x/y/", ".rc", "dir.d/file"});
  ASSERT_EQ(runs.parallel.exit_code, 0) << runs.parallel.err;
  EXPECT_EQ(runs.netpool.exit_code, 0) << runs.netpool.err;
  EXPECT_EQ(runs.netpool.out, runs.parallel.out);
  EXPECT_EQ(runs.parallel.out.substr(0, runs.parallel.out.find('\n')),
            "dir.d/a.tar.gz dir.d/a.tar a.tar.gz dir.d a.tar 1")
      << "GNU parallel itself should expand them so";
}

TEST(ParallelParity, JoblogHasTheSameLinesButForTheTimes) {
  ScratchDir dir;
  BothRuns runs = RunBoth({"--joblog", "@"}, {"{}"}, {"true", "false", "echo"},
                          {dir.File("parallel.log"), dir.File("netpool.log")});
  EXPECT_EQ(runs.netpool.out, runs.parallel.out);
  EXPECT_EQ(JoblogRows(dir.File("netpool.log"))[0], JoblogRows(dir.File("parallel.log"))[0])
      << "the header";
  std::map<std::string, std::vector<std::string>> parallel =
      DeterministicColumns(dir.File("parallel.log"));
  EXPECT_THAT(parallel, SizeIs(4)) << "the header and three jobs";
  EXPECT_EQ(DeterministicColumns(dir.File("netpool.log")), parallel);
  // Times as parallel writes them: epoch seconds and a padded duration.
  for (const std::vector<std::string>& row : JoblogRows(dir.File("netpool.log"))) {
    if (row.size() != 9 || row[0] == "Seq") continue;
    EXPECT_THAT(row[2], ::testing::MatchesRegex("[0-9]{10}\\.[0-9]{3}"));
    EXPECT_THAT(row[3], ::testing::MatchesRegex(" *[0-9]+\\.[0-9]{3}"));
    EXPECT_EQ(row[3].size(), 10u);
  }
}

TEST(ParallelParity, JoblogOfATimeoutAndExitCodes) {
  ScratchDir dir;
  BothRuns runs = RunBoth({"-j", "2", "--timeout", "1", "--joblog", "@"}, {"sleep"},
                          {"30", "0", "x"}, {dir.File("parallel.log"), dir.File("netpool.log")});
  std::map<std::string, std::vector<std::string>> parallel =
      DeterministicColumns(dir.File("parallel.log"));
  ASSERT_EQ(parallel["1"][3], "-1") << "parallel: a timed-out job's Exitval";
  ASSERT_EQ(parallel["1"][4], "15") << "parallel: a timed-out job's Signal";
  EXPECT_EQ(DeterministicColumns(dir.File("netpool.log")), parallel);
}

// The exit code and the output of each --halt: -j 1, so that which jobs ran
// is the same in both.
TEST(ParallelParity, HaltStopsWhereParallelStopsWithItsExitCode) {
  const std::vector<std::string> command = {"sh", "-c", "echo {}; exit {}"};
  struct Case {
    std::string halt;
    std::vector<std::string> items;
    int parallel_exit;  // as checked by hand with parallel 20221122
  };
  for (const Case& c : std::vector<Case>{{"now,fail=1", {"0", "3", "2"}, 3},
                                         {"soon,fail=1", {"0", "5", "2"}, 5},
                                         {"soon,fail=2", {"0", "3", "2", "4", "5"}, 2},
                                         {"now,fail=2", {"3", "0", "4", "5"}, 2},
                                         {"now,success=2", {"3", "0", "4", "0", "5"}, 0},
                                         {"soon,success=1", {"3", "4"}, 2}}) {
    SCOPED_TRACE(c.halt);
    BothRuns runs = RunBoth({"-j", "1", "--halt", c.halt}, command, c.items);
    EXPECT_EQ(runs.parallel.exit_code, c.parallel_exit) << runs.parallel.err;
    EXPECT_EQ(runs.netpool.exit_code, runs.parallel.exit_code) << runs.netpool.err;
    EXPECT_EQ(runs.netpool.out, runs.parallel.out);
  }
}

TEST(ParallelParity, HaltNowCancelsTheRunningJobs) {
  const absl::Time start = absl::Now();
  BothRuns runs = RunBoth({"-j", "2", "--halt", "now,fail=1"}, {"sh", "-c", "sleep {}; exit 7"},
                          {"60", "0.5"});
  EXPECT_EQ(runs.parallel.exit_code, 7);
  EXPECT_EQ(runs.netpool.exit_code, 7) << runs.netpool.err;
  EXPECT_LT(absl::Now() - start, absl::Seconds(30)) << "the 60 s job should have been killed";
}

TEST(ParallelParity, RetriesRunAFailingJobThatManyTimesInAll) {
  ScratchDir dir;
  BothRuns runs = RunBoth({"--retries", "3"}, {"sh", "-c", "echo x >> $0; exit 1"}, {"@"},
                          {dir.File("parallel"), dir.File("netpool")});
  EXPECT_EQ(ReadFile(dir.File("parallel")), "x\nx\nx\n") << "parallel's --retries 3";
  EXPECT_EQ(runs.netpool.exit_code, 1) << runs.netpool.err;
  EXPECT_EQ(ReadFile(dir.File("netpool")), "x\nx\nx\n");
}

TEST(ParallelParity, ResultsDirectoryHasTheSameFiles) {
  ScratchDir dir;
  BothRuns runs = RunBoth({"--results", "@"}, {"sh", "-c", "echo out $0; echo err $0 >&2"},
                          {"a", "b.c", "x/y", "back\\slash"},
                          {dir.File("parallel"), dir.File("netpool")});
  ASSERT_EQ(runs.parallel.exit_code, 0) << runs.parallel.err;
  EXPECT_EQ(runs.netpool.exit_code, 0) << runs.netpool.err;
  EXPECT_EQ(runs.netpool.out, runs.parallel.out);
  std::map<std::string, std::string> parallel = Tree(dir.File("parallel"));
  EXPECT_EQ(parallel["1/x\\_y/stdout"], "out x/y\n") << "parallel's own layout";
  EXPECT_EQ(Tree(dir.File("netpool")), parallel);
}

}  // namespace
}  // namespace netpool
