// Pool::Local end to end: this test program is its own worker. It registers
// its functions at namespace scope and hands main() to netpool::Init first,
// so the worker processes Pool::Local spawns from it serve them.
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstdlib>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "netpool/netpool.h"
#include "tests/support/proc.h"
#include "tests/support/subprocess.h"

namespace netpool {
namespace {

using ::netpool::testing::ChildPids;
using ::netpool::testing::IsRunning;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

absl::StatusOr<Value> Square(const std::vector<Value>& args, TaskContext&) {
  return args.at(0).AsInt() * args.at(0).AsInt();
}

// The worker process's pid, after holding it for args[0] seconds.
absl::StatusOr<Value> Pid(const std::vector<Value>& args, TaskContext&) {
  absl::SleepFor(absl::Seconds(args.at(0).AsDouble()));
  return static_cast<int64_t>(::getpid());
}

// Dies the way a buggy task does.
absl::StatusOr<Value> Abort(const std::vector<Value>&, TaskContext&) {
  const rlimit no_core = {0, 0};
  ::setrlimit(RLIMIT_CORE, &no_core);
  std::abort();
}

const bool kRegistered = Register("test.square", Square) && Register("test.pid", Pid) &&
                         Register("test.abort", Abort);

std::vector<Value> Items(int count) {
  std::vector<Value> items;
  for (int i = 0; i < count; ++i) items.push_back(i);
  return items;
}

// The pids of the pool's `processes` worker processes, found by running
// rounds of jobs that hold a process for a moment until each has answered.
std::set<int64_t> WorkerPids(Pool& pool, int processes) {
  std::set<int64_t> pids;
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  while (static_cast<int>(pids.size()) < processes && absl::Now() < deadline) {
    std::vector<AsyncResult> round;
    for (int i = 0; i < processes; ++i) round.push_back(pool.ApplyAsync("test.pid", {0.2}));
    for (AsyncResult& pid : round) {
      absl::StatusOr<Value> value = pid.Get(absl::Seconds(30));
      EXPECT_TRUE(value.ok()) << value.status();
      if (value.ok()) pids.insert(value->AsInt());
    }
  }
  return pids;
}

TEST(LocalPool, MapRunsTheProgramsOwnFunctionInOrder) {
  absl::StatusOr<Pool> pool = Pool::Local(2);
  ASSERT_TRUE(pool.ok()) << pool.status();
  absl::StatusOr<std::vector<Value>> squares = pool->Map("test.square", Items(100));
  ASSERT_TRUE(squares.ok()) << squares.status();
  ASSERT_EQ(squares->size(), 100u);
  for (int i = 0; i < 100; ++i) EXPECT_EQ((*squares)[i], Value(i * i)) << i;
  EXPECT_EQ(*pool->Slots(), 2);
}

TEST(LocalPool, ApplyAsyncAndTheBuiltIns) {
  absl::StatusOr<Pool> pool = Pool::Local(2);
  ASSERT_TRUE(pool.ok()) << pool.status();
  AsyncResult square = pool->ApplyAsync("test.square", {7});
  AsyncResult echo = pool->ApplyAsync("echo", {1, "two"});
  EXPECT_EQ(*square.Get(absl::Seconds(30)), Value(49));
  EXPECT_EQ(*echo.Get(absl::Seconds(30)), Value(ValueList{1, "two"}));
  EXPECT_TRUE(*square.Successful());
  EXPECT_EQ(pool->ApplyAsync("no.such.function").Get(absl::Seconds(30)).status().code(),
            absl::StatusCode::kNotFound);
}

TEST(LocalPool, RunsOnTheLoopbackWithNoDaemon) {
  absl::StatusOr<Pool> pool = Pool::Local(1);
  ASSERT_TRUE(pool.ok()) << pool.status();
  EXPECT_THAT(pool->address(), ::testing::StartsWith("127.0.0.1:"));
  EXPECT_NE(pool->address(), "127.0.0.1:7340");
}

TEST(LocalPool, ACrashedProcessFailsItsJobAndIsReplaced) {
  absl::StatusOr<Pool> pool = Pool::Local(2);
  ASSERT_TRUE(pool.ok()) << pool.status();
  CallOptions once;
  once.max_attempts = 1;
  absl::StatusOr<Value> crashed =
      pool->ApplyAsync("test.abort", {}, once).Get(absl::Seconds(60));
  ASSERT_FALSE(crashed.ok());
  EXPECT_THAT(std::string(crashed.status().message()), HasSubstr("SIGABRT"));
  // The node replaced the process: the pool still has all its workers.
  absl::StatusOr<std::vector<Value>> squares = pool->Map("test.square", Items(20));
  ASSERT_TRUE(squares.ok()) << squares.status();
  EXPECT_EQ(squares->back(), Value(19 * 19));
  EXPECT_EQ(WorkerPids(*pool, 2).size(), 2u);
}

TEST(LocalPool, ZeroProcessesMeansOnePerCore) {
  absl::StatusOr<Pool> pool = Pool::Local(0);
  ASSERT_TRUE(pool.ok()) << pool.status();
  EXPECT_EQ(*pool->Slots(), static_cast<int>(std::max(1u, std::thread::hardware_concurrency())));
}

TEST(LocalPool, NegativeProcessesIsAnError) {
  EXPECT_EQ(Pool::Local(-1).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(LocalPool, NoProcessIsLeftOnceThePoolIsGone) {
  std::set<int64_t> workers;
  {
    absl::StatusOr<Pool> pool = Pool::Local(2);
    ASSERT_TRUE(pool.ok()) << pool.status();
    workers = WorkerPids(*pool, 2);
    ASSERT_EQ(workers.size(), 2u);
    EXPECT_THAT(ChildPids(::getpid()), Not(IsEmpty()));
  }
  // The pool stops and reaps its processes before the destructor returns.
  for (int64_t pid : workers) EXPECT_FALSE(IsRunning(static_cast<pid_t>(pid))) << pid;
  EXPECT_THAT(ChildPids(::getpid()), IsEmpty());
}

TEST(LocalPool, ResultsOutliveThePoolHandleAndEndIt) {
  AsyncResult slow;
  {
    absl::StatusOr<Pool> pool = Pool::Local(1);
    ASSERT_TRUE(pool.ok()) << pool.status();
    pool->ApplyAsync("sleep", {0.3});
    slow = pool->ApplyAsync("test.square", {12});
  }
  // As with a remote pool (and Python's), a result keeps its pool going.
  EXPECT_EQ(*slow.Get(absl::Seconds(30)), Value(144));
  EXPECT_THAT(ChildPids(::getpid()), Not(IsEmpty()));
  slow = AsyncResult();
  EXPECT_THAT(ChildPids(::getpid()), IsEmpty());
}

TEST(LocalPool, TwoPoolsAtOnceAreIndependent) {
  absl::StatusOr<Pool> first = Pool::Local(1);
  absl::StatusOr<Pool> second = Pool::Local(1);
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_NE(first->address(), second->address());
  EXPECT_EQ(*first->Apply("test.square", {3}), Value(9));
  EXPECT_EQ(*second->Apply("test.square", {4}), Value(16));
}

#ifdef NETPOOL_TEST_LOCAL_SQUARES
TEST(LocalPool, TheReadmeExampleRuns) {
  absl::StatusOr<netpool::testing::Subprocess> example = netpool::testing::Subprocess::Start(
      {NETPOOL_TEST_LOCAL_SQUARES}, {.pipe_stdout = true, .pipe_stderr = true});
  ASSERT_TRUE(example.ok()) << example.status();
  std::string out, err;
  absl::StatusOr<int> code = example->Communicate(absl::Seconds(60), &out, &err);
  ASSERT_TRUE(code.ok()) << code.status();
  EXPECT_EQ(*code, 0) << err;
  EXPECT_EQ(out, "1\n4\n9\n16\n25\n");
  EXPECT_EQ(err, "") << "nothing but the results";
}
#endif

}  // namespace
}  // namespace netpool

int main(int argc, char** argv) {
  netpool::Init(argc, argv);
  testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
