// `netpool top` against a real netpoold and node: one snapshot when its
// output is a pipe (or with --once), as text and as JSON, showing the node
// and the queue of jobs waiting for a node that never comes; and on a
// terminal, frames redrawn in place until Ctrl-C, which ends it with exit 0.
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "netpool/value.h"
#include "tests/support/terminal.h"
#include "tests/support/test_cluster.h"

namespace netpool::testing {
namespace {

using ::testing::ContainsRegex;
using ::testing::HasSubstr;

// One node of one process, and three jobs that wait for a node labelled
// zone=mars.
class TopTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto cluster = TestCluster::Start({.workers = 1, .processes = 1});
    ASSERT_TRUE(cluster.ok()) << cluster.status();
    cluster_ = *std::move(cluster);
    for (int i = 0; i < 3; ++i) {
      ASSERT_EQ(cluster_->RunCli({"submit", "--label", "zone=mars", "echo", "1"}).exit_code, 0);
    }
    ASSERT_EQ(cluster_->RunCli({"map", "echo", ":::", "a", "b"}).exit_code, 0);
  }

  std::unique_ptr<TestCluster> cluster_;
};

TEST_F(TopTest, PipedItPrintsOneSnapshotOfTotalsWorkersAndQueues) {
  CliResult top = cluster_->RunCli({"top"}, "", absl::Seconds(30));
  ASSERT_EQ(top.exit_code, 0) << top.err;
  EXPECT_THAT(top.out, HasSubstr("pending 3  running 0  succeeded 2")) << top.out;
  EXPECT_THAT(top.out, ContainsRegex("WORKER +SLOTS +RUNNING +JOBS DONE +CONNECTED\n"
                                     "node0 +1 +0 +[0-9]+ +[0-9hms]+\n"))
      << top.out;
  EXPECT_THAT(top.out, ContainsRegex("QUEUE +LABELS +JOBS\necho +zone=mars +3\n")) << top.out;
  EXPECT_FALSE(absl::StrContains(top.out, "\x1b[")) << "no terminal drawing in a pipe";
}

TEST_F(TopTest, AsJsonItIsOneRecordOfStatsWorkersAndQueues) {
  CliResult top = cluster_->RunCli({"top", "--once", "-o", "json"}, "", absl::Seconds(30));
  ASSERT_EQ(top.exit_code, 0) << top.err;
  absl::StatusOr<Value> record = Value::FromJson(top.out);
  ASSERT_TRUE(record.ok()) << record.status() << " in " << top.out;
  const ValueMap& fields = record->AsMap();
  EXPECT_EQ(fields.at("stats").AsMap().at("pending").AsInt(), 3);
  ASSERT_EQ(fields.at("workers").AsList().size(), 1u);
  EXPECT_EQ(fields.at("workers").AsList()[0].AsMap().at("name").AsString(), "node0");
  ASSERT_EQ(fields.at("queues").AsList().size(), 1u) << top.out;
  const ValueMap& queue = fields.at("queues").AsList()[0].AsMap();
  EXPECT_EQ(queue.at("function").AsString(), "echo");
  EXPECT_EQ(queue.at("labels").AsMap().at("zone").AsString(), "mars");
  EXPECT_EQ(queue.at("jobs").AsInt(), 3);
  EXPECT_EQ(fields.at("queues_left_out").AsInt(), 0);
}

TEST_F(TopTest, OnATerminalItRedrawsUntilCtrlCAndExitsZero) {
  absl::StatusOr<TerminalChild> top = SpawnOnTerminal(
      {CliPath(), "--scheduler", cluster_->address(), "top", "--interval", "200ms"});
  ASSERT_TRUE(top.ok()) << top.status();
  const pid_t pid = top->pid;
  const int master = top->master;

  // Three frames, then Ctrl-C.
  std::string screen;
  auto frames = [&] {
    size_t count = 0;
    for (size_t at = screen.find("\x1b[H"); at != std::string::npos;
         at = screen.find("\x1b[H", at + 1)) {
      ++count;
    }
    return count;
  };
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  bool interrupted = false;
  while (absl::Now() < deadline) {
    if (!interrupted && frames() >= 3) {
      ::kill(pid, SIGINT);
      interrupted = true;
    }
    pollfd fd = {master, POLLIN, 0};
    if (::poll(&fd, 1, 100) <= 0) continue;
    char buffer[4096];
    const ssize_t n = ::read(master, buffer, sizeof(buffer));
    if (n <= 0) break;  // EIO: the terminal's last writer is gone
    screen.append(buffer, static_cast<size_t>(n));
  }
  ::close(master);
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(interrupted) << screen;
  ASSERT_TRUE(WIFEXITED(status)) << "ended by signal " << WTERMSIG(status);
  EXPECT_EQ(WEXITSTATUS(status), 0) << screen;
  EXPECT_THAT(screen, HasSubstr("Ctrl-C quits"));
  EXPECT_THAT(screen, ContainsRegex("echo +zone=mars +3"));
}

TEST(TopFlags, AnIntervalBelow100msIsAUsageError) {
  CliResult top = RunProgram({CliPath(), "top", "--interval", "10ms"});
  EXPECT_EQ(top.exit_code, 64);
  EXPECT_THAT(top.err, HasSubstr("--interval"));
}

}  // namespace
}  // namespace netpool::testing
