// CPython's multiprocessing Pool tests (test_multiprocessing's _TestPool),
// for netpool::Pool: apply, apply_async with callbacks, map, map_async with
// callback and error_callback, chunksize, starmap, imap, imap_unordered,
// async timeouts, errors in map, empty input, terminate, close and join.
//
// The bodies are written once, as a typed test over "ways of getting a
// Pool", so that every kind of Pool (remote and Pool::Local) passes the same
// suite. A backend type provides:
//   static constexpr char kName[] = "Remote";  // names the instantiation
//   static absl::StatusOr<std::unique_ptr<Backend>> Start(int processes);
//   absl::StatusOr<Pool> TakePool();  // called once per test
// The tests look behind the Pool through its own connection.
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "client/pool_client.h"
#include "client/scheduler_client.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "netpool/netpool.h"
#include "tests/support/test_cluster.h"

namespace netpool {
namespace {

using ::netpool::testing::TestCluster;
using ::testing::AnyOf;
using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
using ::testing::HasSubstr;
using ::testing::UnorderedElementsAreArray;

// Worker slots every backend gets: enough to run things side by side, few
// enough that a third long job waits.
constexpr int kSlots = 2;
// Generous bound for anything that should take well under a second.
constexpr absl::Duration kPatience = absl::Seconds(30);

// A remote Pool: netpoold and one stock netpool-worker node on 127.0.0.1.
class RemoteBackend {
 public:
  static constexpr char kName[] = "Remote";

  static absl::StatusOr<std::unique_ptr<RemoteBackend>> Start(int processes) {
    absl::StatusOr<std::unique_ptr<TestCluster>> cluster =
        TestCluster::Start({.workers = 1, .processes = processes});
    if (!cluster.ok()) return cluster.status();
    return std::unique_ptr<RemoteBackend>(new RemoteBackend(*std::move(cluster)));
  }
  absl::StatusOr<Pool> TakePool() { return Pool::Connect(cluster_->address()); }

 private:
  explicit RemoteBackend(std::unique_ptr<TestCluster> cluster) : cluster_(std::move(cluster)) {}
  std::unique_ptr<TestCluster> cluster_;
};

// The argv of an exec item that prints `word` once `gate` exists, so a test
// decides when it finishes.
Value GatedEcho(const std::string& gate, const std::string& word) {
  return ValueList{"sh", "-c",
                   absl::StrCat("while [ ! -e '", gate, "' ]; do sleep 0.02; done; echo ", word)};
}

Value ExecItem(const std::string& script) { return ValueList{"sh", "-c", script}; }

// The stdout of an exec result.
std::string StdoutOf(const absl::StatusOr<Value>& result) {
  if (!result.ok()) return "error: " + result.status().ToString();
  return result->AsMap().at("stdout").AsString();
}

template <typename Backend>
class PoolParityTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<Backend>> backend = Backend::Start(kSlots);
    ASSERT_TRUE(backend.ok()) << backend.status();
    backend_ = *std::move(backend);
    absl::StatusOr<Pool> pool = backend_->TakePool();
    ASSERT_TRUE(pool.ok()) << pool.status();
    pool_ = std::make_unique<Pool>(*std::move(pool));
    // The pool's own connection: a Pool::Local's scheduler admits no other.
    scheduler_ = &internal::ClientOf(*pool_).scheduler();
    gate_ = absl::StrCat(::testing::TempDir(), "/netpool-parity-gate-", ::getpid(), "-",
                         ::testing::UnitTest::GetInstance()->current_test_info()->name());
    ::unlink(gate_.c_str());
  }

  void TearDown() override {
    // Long jobs a test left behind need not hold up the backend's shutdown.
    if (pool_ != nullptr) pool_->Terminate();
    ::unlink(gate_.c_str());
  }

  void OpenGate() { std::ofstream(gate_).put('\n'); }

  v1::GetStatsResponse Stats() {
    absl::StatusOr<v1::GetStatsResponse> stats = scheduler_->GetStats();
    EXPECT_TRUE(stats.ok()) << stats.status();
    return stats.ok() ? *stats : v1::GetStatsResponse();
  }

  // Jobs the scheduler has seen, in any state.
  int64_t JobsSubmitted() {
    v1::GetStatsResponse stats = Stats();
    return stats.pending() + stats.running() + stats.succeeded() + stats.failed() +
           stats.cancelled();
  }

  v1::JobState StateOf(const std::string& job_id) {
    v1::GetStatusRequest request;
    request.add_job_ids(job_id);
    absl::StatusOr<v1::GetStatusResponse> status = scheduler_->GetStatus(request);
    EXPECT_TRUE(status.ok()) << status.status();
    return status.ok() ? status->jobs(0).state() : v1::JOB_STATE_UNSPECIFIED;
  }

  // Polls the scheduler's stats until `done` holds; false after kPatience.
  template <typename Predicate>
  bool PollStats(Predicate done) {
    for (const absl::Time deadline = absl::Now() + kPatience; absl::Now() < deadline;) {
      if (done(Stats())) return true;
      absl::SleepFor(absl::Milliseconds(20));
    }
    return false;
  }

  // True once no worker slot runs a job.
  bool WorkersIdle() {
    for (const absl::Time deadline = absl::Now() + kPatience; absl::Now() < deadline;) {
      absl::StatusOr<v1::ListWorkersResponse> workers = scheduler_->ListWorkers();
      if (!workers.ok()) return false;
      int busy = 0;
      for (const v1::WorkerStatus& worker : workers->workers()) busy += worker.running();
      if (busy == 0) return true;
      absl::SleepFor(absl::Milliseconds(20));
    }
    return false;
  }

  std::unique_ptr<Backend> backend_;
  std::unique_ptr<Pool> pool_;
  SchedulerClient* scheduler_ = nullptr;
  std::string gate_;  // a file path no test has created yet
};

// Pool::Local: a scheduler inside this test process and worker processes
// spawned from this test binary (its main() below hands them to
// netpool::Init).
class LocalBackend {
 public:
  static constexpr char kName[] = "Local";

  static absl::StatusOr<std::unique_ptr<LocalBackend>> Start(int processes) {
    absl::StatusOr<Pool> pool = Pool::Local(processes);
    if (!pool.ok()) return pool.status();
    return std::unique_ptr<LocalBackend>(new LocalBackend(*std::move(pool)));
  }
  absl::StatusOr<Pool> TakePool() {
    if (!pool_.has_value()) return absl::FailedPreconditionError("the pool was taken");
    Pool pool = *std::move(pool_);
    pool_.reset();
    return pool;
  }
 private:
  explicit LocalBackend(Pool pool) : pool_(std::move(pool)) {}
  std::optional<Pool> pool_;
};

using Backends = ::testing::Types<RemoteBackend, LocalBackend>;
struct BackendName {
  template <typename Backend>
  static std::string GetName(int) {
    return Backend::kName;
  }
};
TYPED_TEST_SUITE(PoolParityTest, Backends, BackendName);

std::vector<Value> Range(int n) {
  std::vector<Value> items;
  for (int i = 0; i < n; ++i) items.push_back(i);
  return items;
}

// echo's results for Range(n): each item comes back as the list of its args.
std::vector<Value> Echoed(int n) {
  std::vector<Value> results;
  for (int i = 0; i < n; ++i) results.push_back(ValueList{i});
  return results;
}

// ---------------------------------------------------------------- apply

TYPED_TEST(PoolParityTest, Apply) {
  absl::StatusOr<Value> result = this->pool_->Apply("echo", {1, "two", 3.5});
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(*result, Value(ValueList{1, "two", 3.5}));
}

TYPED_TEST(PoolParityTest, ApplyAsyncCallbackRunsOnceOnALibraryThread) {
  const std::thread::id test_thread = std::this_thread::get_id();
  std::atomic<int> callbacks = 0;
  std::atomic<bool> on_test_thread = false;
  Value seen;
  CallOptions options;
  options.callback = [&](const Value& value) {
    seen = value;
    on_test_thread = std::this_thread::get_id() == test_thread;
    ++callbacks;
  };
  AsyncResult result = this->pool_->ApplyAsync("echo", {"x"}, options);
  ASSERT_TRUE(result.Get(kPatience).ok());
  // The callback ran before the result became ready.
  EXPECT_EQ(callbacks, 1);
  EXPECT_FALSE(on_test_thread);
  EXPECT_EQ(seen, Value(ValueList{"x"}));
}

TYPED_TEST(PoolParityTest, ApplyAsyncErrorCallbackGetsTheJobsError) {
  std::atomic<int> callbacks = 0;
  std::atomic<int> error_callbacks = 0;
  absl::Status error;
  CallOptions options;
  options.callback = [&](const Value&) { ++callbacks; };
  options.error_callback = [&](const absl::Status& status) {
    error = status;
    ++error_callbacks;
  };
  AsyncResult result = this->pool_->ApplyAsync("sleep", {"not a number"}, options);
  EXPECT_EQ(result.Get(kPatience).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(*result.Successful(), false);
  EXPECT_EQ(error_callbacks, 1);
  EXPECT_EQ(error, result.Get().status());
  EXPECT_EQ(callbacks, 0);
}

TYPED_TEST(PoolParityTest, ErrorCallbackRunsOnceWhenTheJobIsCancelled) {
  std::atomic<int> error_callbacks = 0;
  CallOptions options;
  options.error_callback = [&](const absl::Status& status) {
    EXPECT_EQ(status.code(), absl::StatusCode::kCancelled);
    ++error_callbacks;
  };
  AsyncResult result = this->pool_->ApplyAsync("sleep", {30}, options);
  ASSERT_TRUE(result.Cancel().ok());
  EXPECT_EQ(result.Get(kPatience).status().code(), absl::StatusCode::kCancelled);
  EXPECT_EQ(error_callbacks, 1);
}

// ---------------------------------------------------------------- map

TYPED_TEST(PoolParityTest, Map) {
  absl::StatusOr<std::vector<Value>> results = this->pool_->Map("echo", Range(10));
  ASSERT_TRUE(results.ok()) << results.status();
  EXPECT_THAT(*results, ElementsAreArray(Echoed(10)));
}

TYPED_TEST(PoolParityTest, MapAsyncCallbackGetsTheWholeListOnce) {
  std::atomic<int> callbacks = 0;
  std::atomic<int> error_callbacks = 0;
  Value seen;
  MapOptions options;
  options.call.callback = [&](const Value& all) {
    seen = all;
    ++callbacks;
  };
  options.call.error_callback = [&](const absl::Status&) { ++error_callbacks; };
  MapResult map = this->pool_->MapAsync("echo", Range(7), options);
  absl::StatusOr<std::vector<Value>> results = map.Get(kPatience);
  ASSERT_TRUE(results.ok()) << results.status();
  EXPECT_THAT(*results, ElementsAreArray(Echoed(7)));
  EXPECT_TRUE(map.Ready());
  EXPECT_EQ(*map.Successful(), true);
  EXPECT_EQ(callbacks, 1);
  EXPECT_EQ(seen, Value(Echoed(7)));
  EXPECT_EQ(error_callbacks, 0);
}

TYPED_TEST(PoolParityTest, MapAsyncErrorCallbackGetsTheMapsErrorOnce) {
  std::atomic<int> callbacks = 0;
  std::atomic<int> error_callbacks = 0;
  absl::Status error;
  MapOptions options;
  options.chunksize = 1;
  options.call.callback = [&](const Value&) { ++callbacks; };
  options.call.error_callback = [&](const absl::Status& status) {
    error = status;
    ++error_callbacks;
  };
  MapResult map = this->pool_->MapAsync("sleep", {0, "bad", 0}, options);
  EXPECT_EQ(map.Get(kPatience).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(*map.Successful(), false);
  EXPECT_EQ(error_callbacks, 1);
  EXPECT_EQ(error, map.Get().status());
  EXPECT_EQ(callbacks, 0);
}

TYPED_TEST(PoolParityTest, MapChunksizeSendsOneJobPerChunkAndFlattensInOrder) {
  // 23 items in chunks of 5: ceil(23 / 5) = 5 jobs.
  absl::StatusOr<std::vector<Value>> results =
      this->pool_->Map("echo", Range(23), {.chunksize = 5});
  ASSERT_TRUE(results.ok()) << results.status();
  EXPECT_THAT(*results, ElementsAreArray(Echoed(23)));
  EXPECT_EQ(this->JobsSubmitted(), 5);

  // The default, as Python: ceil(23 / (4 * 2 slots)) = 3 items per job, 8 jobs.
  results = this->pool_->Map("echo", Range(23));
  ASSERT_TRUE(results.ok()) << results.status();
  EXPECT_THAT(*results, ElementsAreArray(Echoed(23)));
  EXPECT_EQ(this->JobsSubmitted(), 5 + 8);

  // A chunk larger than the input is one job.
  results = this->pool_->Map("echo", Range(23), {.chunksize = 100});
  ASSERT_TRUE(results.ok()) << results.status();
  EXPECT_THAT(*results, ElementsAreArray(Echoed(23)));
  EXPECT_EQ(this->JobsSubmitted(), 5 + 8 + 1);
}

TYPED_TEST(PoolParityTest, Starmap) {
  absl::StatusOr<std::vector<Value>> results =
      this->pool_->Starmap("echo", {{1, 2}, {3, 4}, {}}, {.chunksize = 2});
  ASSERT_TRUE(results.ok()) << results.status();
  EXPECT_THAT(*results, ElementsAre(Value(ValueList{1, 2}), Value(ValueList{3, 4}),
                                    Value(ValueList{})));
}

TYPED_TEST(PoolParityTest, StarmapAsync) {
  std::atomic<int> callbacks = 0;
  MapOptions options;
  options.call.callback = [&](const Value&) { ++callbacks; };
  MapResult map = this->pool_->StarmapAsync("echo", {{"a", 1}, {"b", 2}}, options);
  absl::StatusOr<std::vector<Value>> results = map.Get(kPatience);
  ASSERT_TRUE(results.ok()) << results.status();
  EXPECT_THAT(*results, ElementsAre(Value(ValueList{"a", 1}), Value(ValueList{"b", 2})));
  EXPECT_EQ(callbacks, 1);
}

TYPED_TEST(PoolParityTest, ErrorsInMapFailTheMapWhileTheOtherItemsStillRun) {
  // Items 1 and 2 fail; item 1 fails later but comes first in input order.
  std::vector<Value> items = {ExecItem("true"), ExecItem("sleep 0.3; exit 3"),
                              ExecItem("exit 4"), ExecItem("true"), ExecItem("true")};
  absl::StatusOr<std::vector<Value>> results =
      this->pool_->Map("exec", items, {.chunksize = 1});
  ASSERT_FALSE(results.ok());
  EXPECT_THAT(std::string(results.status().message()), HasSubstr("exited with code 3"));
  // Map returned once every item was done, and none was cancelled.
  v1::GetStatsResponse stats = this->Stats();
  EXPECT_EQ(stats.succeeded(), 3);
  EXPECT_EQ(stats.failed(), 2);
  EXPECT_EQ(stats.cancelled(), 0);
}

// ---------------------------------------------------------------- imap

TYPED_TEST(PoolParityTest, IMap) {
  IMapIterator it = this->pool_->IMap("echo", Range(10));
  for (int i = 0; i < 10; ++i) {
    absl::StatusOr<Value> next = it.Next(kPatience);
    ASSERT_TRUE(next.ok()) << next.status();
    EXPECT_EQ(*next, Value(ValueList{i}));
  }
  EXPECT_EQ(it.Next(kPatience).status().code(), absl::StatusCode::kOutOfRange);
  // Python's imap sends one item per job unless told otherwise.
  EXPECT_EQ(this->JobsSubmitted(), 10);
}

TYPED_TEST(PoolParityTest, IMapWithChunksize) {
  IMapIterator it = this->pool_->IMap("echo", Range(10), {.chunksize = 3});
  std::vector<Value> results;
  for (absl::StatusOr<Value> next = it.Next(kPatience); next.ok(); next = it.Next(kPatience)) {
    results.push_back(*next);
  }
  EXPECT_EQ(it.Next(kPatience).status().code(), absl::StatusCode::kOutOfRange);
  EXPECT_THAT(results, ElementsAreArray(Echoed(10)));
  EXPECT_EQ(this->JobsSubmitted(), 4);  // ceil(10 / 3)
}

TYPED_TEST(PoolParityTest, IMapHoldsBackResultsThatFinishBeforeAnEarlierOne) {
  IMapIterator it =
      this->pool_->IMap("exec", {GatedEcho(this->gate_, "first"), ExecItem("echo second")});
  ASSERT_TRUE(this->PollStats(
      [](const v1::GetStatsResponse& stats) { return stats.succeeded() == 1; }));
  // "second" is in, but "first" comes first.
  EXPECT_EQ(it.Next(absl::Milliseconds(200)).status().code(),
            absl::StatusCode::kDeadlineExceeded);
  this->OpenGate();
  EXPECT_EQ(StdoutOf(it.Next(kPatience)), "first\n");
  EXPECT_EQ(StdoutOf(it.Next(kPatience)), "second\n");
  EXPECT_EQ(it.Next(kPatience).status().code(), absl::StatusCode::kOutOfRange);
}

TYPED_TEST(PoolParityTest, IMapUnorderedYieldsEveryResultInAnyOrder) {
  IMapIterator it = this->pool_->IMapUnordered("echo", Range(10), {.chunksize = 2});
  std::vector<Value> results;
  for (absl::StatusOr<Value> next = it.Next(kPatience); next.ok(); next = it.Next(kPatience)) {
    results.push_back(*next);
  }
  EXPECT_THAT(results, UnorderedElementsAreArray(Echoed(10)));
}

TYPED_TEST(PoolParityTest, IMapUnorderedYieldsResultsAsTheyFinish) {
  IMapIterator it = this->pool_->IMapUnordered(
      "exec", {GatedEcho(this->gate_, "first"), ExecItem("echo second")});
  EXPECT_EQ(StdoutOf(it.Next(kPatience)), "second\n");
  this->OpenGate();
  EXPECT_EQ(StdoutOf(it.Next(kPatience)), "first\n");
  EXPECT_EQ(it.Next(kPatience).status().code(), absl::StatusCode::kOutOfRange);
}

TYPED_TEST(PoolParityTest, IMapReturnsAFailedItemsErrorInItsPlaceAndGoesOn) {
  IMapIterator it = this->pool_->IMap("sleep", {0, "bad", 0});
  EXPECT_TRUE(it.Next(kPatience).ok());
  EXPECT_EQ(it.Next(kPatience).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(it.Next(kPatience).ok());
  EXPECT_EQ(it.Next(kPatience).status().code(), absl::StatusCode::kOutOfRange);
}

// ---------------------------------------------------------------- AsyncResult

TYPED_TEST(PoolParityTest, AsyncTimeout) {
  AsyncResult result = this->pool_->ApplyAsync("sleep", {5});
  EXPECT_EQ(result.Get(absl::Milliseconds(200)).status().code(),
            absl::StatusCode::kDeadlineExceeded);
  EXPECT_FALSE(result.Ready());
  MapResult map = this->pool_->MapAsync("sleep", {5});
  EXPECT_EQ(map.Get(absl::Milliseconds(200)).status().code(),
            absl::StatusCode::kDeadlineExceeded);
  EXPECT_FALSE(map.Ready());
  IMapIterator it = this->pool_->IMap("sleep", {5});
  EXPECT_EQ(it.Next(absl::Milliseconds(200)).status().code(),
            absl::StatusCode::kDeadlineExceeded);
}

TYPED_TEST(PoolParityTest, SuccessfulBeforeReadyIsAnError) {
  AsyncResult result = this->pool_->ApplyAsync("sleep", {30});
  EXPECT_EQ(result.Successful().status().code(), absl::StatusCode::kFailedPrecondition);
  MapResult map = this->pool_->MapAsync("sleep", {30});
  EXPECT_EQ(map.Successful().status().code(), absl::StatusCode::kFailedPrecondition);
}

TYPED_TEST(PoolParityTest, GetTwiceReturnsTheSameValue) {
  AsyncResult result = this->pool_->ApplyAsync("echo", {7});
  absl::StatusOr<Value> first = result.Get(kPatience);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(*result.Get(absl::ZeroDuration()), *first);

  MapResult map = this->pool_->MapAsync("echo", Range(3));
  absl::StatusOr<std::vector<Value>> all = map.Get(kPatience);
  ASSERT_TRUE(all.ok()) << all.status();
  EXPECT_EQ(*map.Get(absl::ZeroDuration()), *all);

  AsyncResult failed = this->pool_->ApplyAsync("sleep", {"bad"});
  const absl::Status error = failed.Get(kPatience).status();
  EXPECT_FALSE(error.ok());
  EXPECT_EQ(failed.Get(absl::ZeroDuration()).status(), error);
}

TYPED_TEST(PoolParityTest, EmptyInput) {
  absl::StatusOr<std::vector<Value>> mapped = this->pool_->Map("echo", {});
  ASSERT_TRUE(mapped.ok()) << mapped.status();
  EXPECT_TRUE(mapped->empty());
  EXPECT_TRUE(this->pool_->Starmap("echo", {})->empty());
  MapResult map = this->pool_->MapAsync("echo", {});
  EXPECT_TRUE(map.Ready());
  EXPECT_EQ(*map.Successful(), true);
  EXPECT_EQ(this->pool_->IMap("echo", {}).Next(kPatience).status().code(),
            absl::StatusCode::kOutOfRange);
  EXPECT_EQ(this->pool_->IMapUnordered("echo", {}).Next(kPatience).status().code(),
            absl::StatusCode::kOutOfRange);
  EXPECT_EQ(this->JobsSubmitted(), 0);
}

// ---------------------------------------------------------------- ending a pool

TYPED_TEST(PoolParityTest, TerminateCancelsOutstandingJobsAtOnce) {
  std::vector<AsyncResult> results;
  for (int i = 0; i < 3; ++i) results.push_back(this->pool_->ApplyAsync("sleep", {30}));
  MapResult map = this->pool_->MapAsync("sleep", {30, 30}, {.chunksize = 1});
  IMapIterator it = this->pool_->IMap("sleep", {30});
  ASSERT_TRUE(this->PollStats([](const v1::GetStatsResponse& stats) {
    return stats.running() == kSlots && stats.pending() == 4;
  }));

  this->pool_->Terminate();
  // Terminate returned with every result in (long before the sleeps end).
  for (const AsyncResult& result : results) {
    EXPECT_TRUE(result.Ready());
    EXPECT_EQ(result.Get(absl::ZeroDuration()).status().code(), absl::StatusCode::kCancelled);
    EXPECT_EQ(this->StateOf(result.id()), v1::CANCELLED);
  }
  EXPECT_EQ(map.Get(absl::ZeroDuration()).status().code(), absl::StatusCode::kCancelled);
  EXPECT_EQ(it.Next(absl::ZeroDuration()).status().code(), absl::StatusCode::kCancelled);
  EXPECT_EQ(it.Next(absl::ZeroDuration()).status().code(), absl::StatusCode::kOutOfRange);
  v1::GetStatsResponse stats = this->Stats();
  EXPECT_EQ(stats.cancelled(), 6);
  EXPECT_EQ(stats.pending() + stats.running(), 0);
  EXPECT_TRUE(this->WorkersIdle());

  EXPECT_EQ(this->pool_->ApplyAsync("echo", {1}).Get(kPatience).status(),
            absl::FailedPreconditionError("pool is closed"));
  EXPECT_TRUE(this->pool_->Join().ok());
}

TYPED_TEST(PoolParityTest, CloseThenJoinWaitsForAllWork) {
  std::atomic<int> callbacks = 0;
  CallOptions options;
  options.callback = [&](const Value&) { ++callbacks; };
  std::vector<AsyncResult> results;
  for (int i = 0; i < 3; ++i) results.push_back(this->pool_->ApplyAsync("sleep", {0.3}, options));
  MapOptions map_options;
  map_options.chunksize = 2;
  map_options.call = options;
  MapResult map = this->pool_->MapAsync("echo", Range(5), map_options);

  this->pool_->Close();
  const absl::Status closed = absl::FailedPreconditionError("pool is closed");
  EXPECT_EQ(this->pool_->ApplyAsync("echo", {1}).Get(kPatience).status(), closed);
  EXPECT_EQ(this->pool_->Map("echo", Range(2)).status(), closed);
  EXPECT_EQ(this->pool_->StarmapAsync("echo", {{1}}).Get(kPatience).status(), closed);
  EXPECT_EQ(this->pool_->IMap("echo", Range(2)).Next(kPatience).status(), closed);
  EXPECT_EQ(this->pool_->IMapUnordered("echo", Range(2)).Next(kPatience).status(), closed);

  ASSERT_TRUE(this->pool_->Join().ok());
  for (const AsyncResult& result : results) EXPECT_TRUE(result.Ready());
  EXPECT_TRUE(map.Ready());
  EXPECT_EQ(callbacks, 3 + 1);  // three jobs and one map
  v1::GetStatsResponse stats = this->Stats();
  EXPECT_EQ(stats.succeeded(), 3 + 3);  // the map was three chunks
  EXPECT_EQ(stats.pending() + stats.running(), 0);
}

TYPED_TEST(PoolParityTest, JoinBeforeCloseIsAnError) {
  EXPECT_EQ(this->pool_->Join().code(), absl::StatusCode::kFailedPrecondition);
}

TYPED_TEST(PoolParityTest, LeavingThePoolsScopeNeitherWaitsNorCancels) {
  AsyncResult long_job = this->pool_->ApplyAsync("sleep", {30});
  AsyncResult quick_job = this->pool_->ApplyAsync("echo", {"still here"});
  MapResult map = this->pool_->MapAsync("echo", Range(4));
  this->pool_.reset();
  // The pool is gone; its jobs are not, and their handles still work.
  EXPECT_EQ(*quick_job.Get(kPatience), Value(ValueList{"still here"}));
  EXPECT_THAT(*map.Get(kPatience), ElementsAreArray(Echoed(4)));
  EXPECT_THAT(this->StateOf(long_job.id()), AnyOf(v1::PENDING, v1::RUNNING));
  EXPECT_FALSE(long_job.Ready());
  ASSERT_TRUE(long_job.Cancel().ok());
  EXPECT_EQ(long_job.Get(kPatience).status().code(), absl::StatusCode::kCancelled);
}

}  // namespace
}  // namespace netpool

// The Local backend spawns this program as its worker processes.
int main(int argc, char** argv) {
  netpool::Init(argc, argv);
  testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
