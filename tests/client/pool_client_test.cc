// The client library's own machinery against a scripted, in-process Scheduler
// service on 127.0.0.1 port 0: which RPCs it makes, when, and what it does
// when the result stream breaks. (Against the real scheduler: see
// tests/integration/pool_integration_test.cc.)
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "client/pool_client.h"
#include "common/packed_chunk.h"
#include "common/value_proto.h"
#include "common/transport.h"
#include "gmock/gmock.h"
#include "grpcpp/server.h"
#include "grpcpp/server_builder.h"
#include "gtest/gtest.h"
#include "netpool/pool.h"
#include "netpool/v1/netpool.grpc.pb.h"

namespace netpool {
namespace {

using ::testing::ElementsAre;
using ::testing::SizeIs;

constexpr absl::Duration kPatience = absl::Seconds(10);

// A Scheduler that accepts every job submitted on its Watch stream and
// finishes one only when the test says so; it records what it saw and can
// break every open Watch stream.
class FakeScheduler final : public v1::Scheduler::Service {
 public:
  FakeScheduler() {
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", *MakeServerCredentials(ServerTls()), &port_);
    builder.RegisterService(this);
    server_ = builder.BuildAndStart();
  }
  ~FakeScheduler() override {
    BreakStreams();
    server_->Shutdown(absl::ToChronoTime(absl::Now() + absl::Seconds(1)));
  }

  std::string address() const { return absl::StrCat("127.0.0.1:", port_); }

  // Submissions wait until ReleaseSubmits(); each still records itself as
  // it arrives.
  void HoldSubmits() {
    absl::MutexLock lock(&mutex_);
    hold_submits_ = true;
  }
  void ReleaseSubmits() {
    absl::MutexLock lock(&mutex_);
    hold_submits_ = false;
  }
  void FailSubmits(grpc::Status status) {
    absl::MutexLock lock(&mutex_);
    submit_error_ = status;
  }
  // As a scheduler older than the Watch stream's submissions.
  void TakeNoJobsOnWatch() {
    absl::MutexLock lock(&mutex_);
    watch_submit_ = false;
  }

  // Finishes a job: its result goes to every stream that watches it now or
  // later.
  void Finish(const std::string& id, const Value& value) {
    v1::JobResult result;
    result.set_job_id(id);
    result.set_state(v1::SUCCEEDED);
    ToProto(value, result.mutable_value());
    absl::MutexLock lock(&mutex_);
    FinishLocked(std::move(result));
  }

  // Ends every open Watch stream, as a scheduler restart would.
  void BreakStreams() {
    absl::MutexLock lock(&mutex_);
    for (const auto& stream : streams_) stream->broken = true;
  }

  // Waits until `count` Watch streams have been opened in all and the newest
  // one watches exactly `ids`.
  bool WaitForStream(int count, absl::flat_hash_set<std::string> ids) {
    absl::MutexLock lock(&mutex_);
    auto ready = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_) {
      return streams_opened_ == count && !streams_.empty() &&
             streams_.back()->watched == ids;
    };
    return mutex_.AwaitWithTimeout(absl::Condition(&ready), kPatience);
  }

  bool WaitForOpenStreams(size_t count) {
    absl::MutexLock lock(&mutex_);
    auto ready = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_) { return streams_.size() == count; };
    return mutex_.AwaitWithTimeout(absl::Condition(&ready), kPatience);
  }

  bool WaitForSubmits(size_t count) {
    absl::MutexLock lock(&mutex_);
    auto ready = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_) { return submits_.size() >= count; };
    return mutex_.AwaitWithTimeout(absl::Condition(&ready), kPatience);
  }

  // Waits until `count` jobs in all have been submitted; returns them all.
  std::vector<v1::JobSpec> WaitForJobs(size_t count) {
    absl::MutexLock lock(&mutex_);
    auto ready = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_) { return jobs_.size() >= count; };
    mutex_.AwaitWithTimeout(absl::Condition(&ready), kPatience);
    return jobs_;
  }

  // Every job submitted so far, in arrival order.
  std::vector<v1::JobSpec> jobs() {
    absl::MutexLock lock(&mutex_);
    return jobs_;
  }
  int get_stats_calls() {
    absl::MutexLock lock(&mutex_);
    return get_stats_calls_;
  }

  // The job ids of each submission, in arrival order.
  std::vector<std::vector<std::string>> submits() {
    absl::MutexLock lock(&mutex_);
    return submits_;
  }
  // "submitted ID" and "cancel ID" in the order the RPCs completed / arrived.
  std::vector<std::string> events() {
    absl::MutexLock lock(&mutex_);
    return events_;
  }

  grpc::Status Cancel(grpc::ServerContext*, const v1::CancelRequest* request,
                      v1::CancelResponse* response) override {
    absl::MutexLock lock(&mutex_);
    for (const std::string& id : request->job_ids()) {
      events_.push_back("cancel " + id);
      // As the real scheduler: an unfinished job ends CANCELLED.
      if (finished_.contains(id)) continue;
      v1::JobResult result;
      result.set_job_id(id);
      result.set_state(v1::CANCELLED);
      result.mutable_error()->set_code(static_cast<int>(absl::StatusCode::kCancelled));
      result.mutable_error()->set_message("cancelled");
      FinishLocked(std::move(result));
    }
    return grpc::Status::OK;
  }

  grpc::Status GetStats(grpc::ServerContext*, const v1::GetStatsRequest*,
                        v1::GetStatsResponse* response) override {
    absl::MutexLock lock(&mutex_);
    ++get_stats_calls_;
    response->set_slots(4);
    response->set_watch_submit(watch_submit_);
    return grpc::Status::OK;
  }

  grpc::Status Watch(
      grpc::ServerContext* context,
      grpc::ServerReaderWriter<v1::WatchResponse, v1::WatchRequest>* stream) override {
    auto me = std::make_shared<Stream>();
    {
      absl::MutexLock lock(&mutex_);
      ++streams_opened_;
      streams_.push_back(me);
    }
    std::thread reader([&] {
      v1::WatchRequest request;
      while (stream->Read(&request)) {
        absl::MutexLock lock(&mutex_);
        if (!request.submit().empty()) SubmitLocked(request.submit(), *me);
        for (const std::string& id : request.job_ids()) {
          me->watched.insert(id);
          if (auto it = finished_.find(id); it != finished_.end()) {
            me->outbox.push_back(it->second);
          }
        }
      }
      absl::MutexLock lock(&mutex_);
      me->reader_done = true;
    });
    for (;;) {
      std::vector<v1::JobResult> results;
      std::vector<std::string> submitted;
      {
        absl::MutexLock lock(&mutex_);
        auto wake = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_) {
          return !me->outbox.empty() || !me->submitted.empty() || me->broken || me->reader_done;
        };
        mutex_.Await(absl::Condition(&wake));
        if (me->broken || me->reader_done) break;
        results.swap(me->outbox);
        submitted.swap(me->submitted);
      }
      v1::WatchResponse response;
      for (std::string& id : submitted) response.add_submitted_job_ids(std::move(id));
      for (v1::JobResult& result : results) *response.add_results() = std::move(result);
      if (!stream->Write(response)) break;
    }
    context->TryCancel();
    reader.join();
    absl::MutexLock lock(&mutex_);
    streams_.erase(std::find(streams_.begin(), streams_.end(), me));
    return grpc::Status(grpc::StatusCode::UNAVAILABLE, "fake scheduler broke the stream");
  }

 private:
  struct Stream {
    absl::flat_hash_set<std::string> watched;
    std::vector<v1::JobResult> outbox;
    std::vector<std::string> submitted;  // to confirm
    bool broken = false;
    bool reader_done = false;
  };

  // Jobs submitted on `stream`: recorded, held while the test holds
  // submissions, then confirmed and watched, or refused with submit_error_.
  void SubmitLocked(const google::protobuf::RepeatedPtrField<v1::JobSpec>& jobs, Stream& stream)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_) {
    std::vector<std::string> ids;
    for (const v1::JobSpec& job : jobs) ids.push_back(job.job_id());
    submits_.push_back(ids);
    mutex_.Await(absl::Condition(
        +[](bool* hold) { return !*hold; }, &hold_submits_));
    for (const std::string& id : ids) {
      if (!submit_error_.ok()) {
        v1::JobResult refusal;
        refusal.set_job_id(id);
        refusal.mutable_error()->set_code(submit_error_.error_code());
        refusal.mutable_error()->set_message(submit_error_.error_message());
        stream.outbox.push_back(std::move(refusal));
        continue;
      }
      events_.push_back("submitted " + id);
      stream.submitted.push_back(id);
      stream.watched.insert(id);
      // Sent again after a broken stream, and finished meanwhile.
      if (auto it = finished_.find(id); it != finished_.end()) stream.outbox.push_back(it->second);
    }
    if (submit_error_.ok()) jobs_.insert(jobs_.end(), jobs.begin(), jobs.end());
  }

  void FinishLocked(v1::JobResult result) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_) {
    for (const auto& stream : streams_) {
      if (stream->watched.contains(result.job_id())) stream->outbox.push_back(result);
    }
    finished_[result.job_id()] = std::move(result);
  }

  int port_ = 0;
  std::unique_ptr<grpc::Server> server_;

  absl::Mutex mutex_;
  bool hold_submits_ ABSL_GUARDED_BY(mutex_) = false;
  grpc::Status submit_error_ ABSL_GUARDED_BY(mutex_);
  bool watch_submit_ ABSL_GUARDED_BY(mutex_) = true;
  std::vector<std::vector<std::string>> submits_ ABSL_GUARDED_BY(mutex_);
  std::vector<v1::JobSpec> jobs_ ABSL_GUARDED_BY(mutex_);
  int get_stats_calls_ ABSL_GUARDED_BY(mutex_) = 0;
  std::vector<std::string> events_ ABSL_GUARDED_BY(mutex_);
  absl::flat_hash_map<std::string, v1::JobResult> finished_ ABSL_GUARDED_BY(mutex_);
  std::vector<std::shared_ptr<Stream>> streams_ ABSL_GUARDED_BY(mutex_);
  int streams_opened_ ABSL_GUARDED_BY(mutex_) = 0;
};

class PoolClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<Pool> pool = Pool::Connect(scheduler_.address());
    ASSERT_TRUE(pool.ok()) << pool.status();
    pool_ = std::make_unique<Pool>(*std::move(pool));
    ASSERT_TRUE(scheduler_.WaitForStream(1, {}));
    stats_calls_at_connect_ = scheduler_.get_stats_calls();
  }

  // Connect asks once whether the scheduler takes jobs on its Watch stream.
  int StatsCallsSinceConnect() { return scheduler_.get_stats_calls() - stats_calls_at_connect_; }

  FakeScheduler scheduler_;
  std::unique_ptr<Pool> pool_;
  int stats_calls_at_connect_ = 0;
};

TEST_F(PoolClientTest, CallsMadeDuringASubmitGoTogetherInTheNextOne) {
  scheduler_.HoldSubmits();
  AsyncResult first = pool_->ApplyAsync("echo", {0});
  ASSERT_TRUE(scheduler_.WaitForSubmits(1));
  std::vector<AsyncResult> more;
  for (int i = 1; i <= 5; ++i) more.push_back(pool_->ApplyAsync("echo", {i}));
  scheduler_.ReleaseSubmits();
  ASSERT_TRUE(scheduler_.WaitForSubmits(2));
  std::vector<std::vector<std::string>> submits = scheduler_.submits();
  ASSERT_THAT(submits, SizeIs(2));
  EXPECT_THAT(submits[0], ElementsAre(first.id()));
  EXPECT_THAT(submits[1], ElementsAre(more[0].id(), more[1].id(), more[2].id(), more[3].id(),
                                      more[4].id()));
}

TEST_F(PoolClientTest, ResultArrivesOnTheWatchStreamAndCallbackRunsOnce) {
  int calls = 0;
  CallOptions options;
  options.callback = [&](const Value&) { ++calls; };
  AsyncResult result = pool_->ApplyAsync("echo", {1}, options);
  ASSERT_TRUE(scheduler_.WaitForStream(1, {result.id()}));
  EXPECT_FALSE(result.Ready());
  scheduler_.Finish(result.id(), Value("done"));
  EXPECT_EQ(*result.Get(kPatience), Value("done"));
  EXPECT_EQ(*result.Get(absl::ZeroDuration()), Value("done"));
  EXPECT_EQ(calls, 1);  // it ran before the result became ready
}

TEST_F(PoolClientTest, BrokenWatchStreamIsReopenedForTheUnansweredJobs) {
  AsyncResult a = pool_->ApplyAsync("echo", {1});
  AsyncResult b = pool_->ApplyAsync("echo", {2});
  AsyncResult c = pool_->ApplyAsync("echo", {3});
  ASSERT_TRUE(scheduler_.WaitForStream(1, {a.id(), b.id(), c.id()}));
  scheduler_.Finish(a.id(), Value("a"));
  ASSERT_TRUE(a.Wait(kPatience));

  scheduler_.BreakStreams();
  // Only the jobs still waiting are watched again.
  ASSERT_TRUE(scheduler_.WaitForStream(2, {b.id(), c.id()}));
  scheduler_.Finish(b.id(), Value("b"));
  scheduler_.Finish(c.id(), Value("c"));
  EXPECT_EQ(*b.Get(kPatience), Value("b"));
  EXPECT_EQ(*c.Get(kPatience), Value("c"));
}

TEST_F(PoolClientTest, JobFinishedWhileTheStreamWasDownArrivesOnReconnect) {
  AsyncResult result = pool_->ApplyAsync("echo", {1});
  ASSERT_TRUE(scheduler_.WaitForStream(1, {result.id()}));
  scheduler_.BreakStreams();
  scheduler_.Finish(result.id(), Value(7));
  EXPECT_EQ(*result.Get(kPatience), Value(7));
}

TEST_F(PoolClientTest, FailedSubmitFailsItsJobsWithTheError) {
  scheduler_.FailSubmits(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "bad job"));
  absl::Notification called;
  CallOptions options;
  options.error_callback = [&](const absl::Status& status) {
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
    called.Notify();
  };
  AsyncResult result = pool_->ApplyAsync("echo", {1}, options);
  absl::StatusOr<Value> value = result.Get(kPatience);
  EXPECT_EQ(value.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(value.status().message(), "bad job");
  EXPECT_TRUE(called.HasBeenNotified());
  EXPECT_EQ(*result.Successful(), false);
}

TEST_F(PoolClientTest, AJobRefusedForNowIsSentAgainUntilTheSchedulerTakesIt) {
  scheduler_.FailSubmits(grpc::Status(grpc::StatusCode::UNAVAILABLE, "disk full"));
  AsyncResult result = pool_->ApplyAsync("echo", {1});
  ASSERT_TRUE(scheduler_.WaitForSubmits(2));
  scheduler_.FailSubmits(grpc::Status::OK);
  ASSERT_TRUE(scheduler_.WaitForStream(1, {result.id()}));
  scheduler_.Finish(result.id(), Value("taken"));
  EXPECT_EQ(*result.Get(kPatience), Value("taken"));
  for (const std::vector<std::string>& ids : scheduler_.submits()) {
    EXPECT_THAT(ids, ElementsAre(result.id()));
  }
}

TEST_F(PoolClientTest, AJobNotYetConfirmedIsSentAgainOnTheNextStream) {
  scheduler_.HoldSubmits();
  AsyncResult result = pool_->ApplyAsync("echo", {1});
  ASSERT_TRUE(scheduler_.WaitForSubmits(1));
  scheduler_.BreakStreams();
  scheduler_.ReleaseSubmits();
  ASSERT_TRUE(scheduler_.WaitForSubmits(2));
  EXPECT_THAT(scheduler_.submits()[1], ElementsAre(result.id()));
  ASSERT_TRUE(scheduler_.WaitForStream(2, {result.id()}));
  scheduler_.Finish(result.id(), Value("once"));
  EXPECT_EQ(*result.Get(kPatience), Value("once"));
}

TEST_F(PoolClientTest, CancelWaitsForTheJobsSubmission) {
  scheduler_.HoldSubmits();
  AsyncResult result = pool_->ApplyAsync("sleep", {60});
  ASSERT_TRUE(scheduler_.WaitForSubmits(1));
  std::thread cancel([&] { EXPECT_TRUE(result.Cancel().ok()); });
  absl::SleepFor(absl::Milliseconds(50));  // give a wrong Cancel time to overtake
  scheduler_.ReleaseSubmits();
  cancel.join();
  EXPECT_THAT(scheduler_.events(),
              ElementsAre("submitted " + result.id(), "cancel " + result.id()));
}

TEST_F(PoolClientTest, ResultsOutliveThePool) {
  AsyncResult result = pool_->ApplyAsync("echo", {1});
  ASSERT_TRUE(scheduler_.WaitForStream(1, {result.id()}));
  pool_.reset();
  scheduler_.Finish(result.id(), Value("still delivered"));
  EXPECT_EQ(*result.Get(kPatience), Value("still delivered"));
  result = AsyncResult();
  // The last handle took the client down: its stream is closed.
  EXPECT_TRUE(scheduler_.WaitForOpenStreams(0));
}

TEST_F(PoolClientTest, DroppingEverythingWithJobsOutstandingStopsCleanly) {
  for (int i = 0; i < 10; ++i) pool_->ApplyAsync("sleep", {60});
  pool_.reset();
  EXPECT_TRUE(scheduler_.WaitForOpenStreams(0));
  // Queued jobs were still submitted.
  size_t submitted = 0;
  for (const auto& ids : scheduler_.submits()) submitted += ids.size();
  EXPECT_EQ(submitted, 10u);
}

TEST_F(PoolClientTest, CallbackRunsThoughEveryHandleIsGone) {
  absl::Notification called;
  {
    CallOptions options;
    options.callback = [&called](const Value&) { called.Notify(); };
    pool_->ApplyAsync("echo", {1}, options);
  }
  ASSERT_TRUE(scheduler_.WaitForSubmits(1));
  scheduler_.Finish(scheduler_.submits().at(0).at(0), Value(1));
  EXPECT_TRUE(called.WaitForNotificationWithTimeout(kPatience));
}

TEST_F(PoolClientTest, CallbackHoldingTheLastHandleDoesNotDeadlock) {
  // The callback owns the only handle on its own result, so the last reference
  // to the client goes away on the client's reader thread.
  auto holder = std::make_shared<AsyncResult>();
  absl::Notification called;
  {
    CallOptions options;
    options.callback = [holder, &called](const Value&) { called.Notify(); };
    *holder = pool_->ApplyAsync("echo", {1}, options);
  }
  const std::string id = holder->id();
  ASSERT_TRUE(scheduler_.WaitForStream(1, {id}));
  holder.reset();
  pool_.reset();
  scheduler_.Finish(id, Value(1));
  ASSERT_TRUE(called.WaitForNotificationWithTimeout(kPatience));
  EXPECT_TRUE(scheduler_.WaitForOpenStreams(0));
}

TEST_F(PoolClientTest, SlotsComeFromTheSchedulersStats) { EXPECT_EQ(*pool_->Slots(), 4); }

TEST_F(PoolClientTest, AsyncResultPassedAsAnArgumentIsAJobReference) {
  AsyncResult first = pool_->ApplyAsync("echo", {1});
  const Value reference = first;
  ASSERT_TRUE(reference.is_job_ref());
  EXPECT_EQ(reference.AsJobRef(), first.id());

  AsyncResult second = pool_->ApplyAsync("echo", {first, 2});
  ASSERT_TRUE(scheduler_.WaitForStream(1, {first.id(), second.id()}));
  std::vector<v1::JobSpec> jobs = scheduler_.jobs();
  ASSERT_THAT(jobs, SizeIs(2));
  ASSERT_EQ(jobs[1].args_size(), 2);
  EXPECT_EQ(jobs[1].args(0).job_ref(), first.id());
  EXPECT_EQ(jobs[1].args(1).int_value(), 2);
}

TEST_F(PoolClientTest, CallbacksRunOnALibraryThreadWithoutTheLocksGetNeeds) {
  const std::thread::id test_thread = std::this_thread::get_id();
  auto result = std::make_shared<AsyncResult>();
  absl::Notification called;
  bool on_library_thread = false;
  absl::StatusCode get_inside_callback = absl::StatusCode::kOk;
  CallOptions options;
  options.callback = [&, weak = std::weak_ptr<AsyncResult>(result)](const Value&) {
    on_library_thread = std::this_thread::get_id() != test_thread;
    // Neither the result's lock nor the pool's is held here.
    get_inside_callback = weak.lock()->Get(absl::ZeroDuration()).status().code();
    pool_->ApplyAsync("echo", {"from a callback"});
    called.Notify();
  };
  *result = pool_->ApplyAsync("echo", {1}, options);
  ASSERT_TRUE(scheduler_.WaitForStream(1, {result->id()}));
  scheduler_.Finish(result->id(), Value(1));
  ASSERT_TRUE(called.WaitForNotificationWithTimeout(kPatience));
  EXPECT_TRUE(on_library_thread);
  // The result becomes ready after its callback, as in Python.
  EXPECT_EQ(get_inside_callback, absl::StatusCode::kDeadlineExceeded);
  EXPECT_TRUE(scheduler_.WaitForSubmits(2));
}

TEST_F(PoolClientTest, ErrorCallbackRunsOnceWhenTheJobIsCancelled) {
  int callbacks = 0;
  int error_callbacks = 0;
  absl::Status error;
  CallOptions options;
  options.callback = [&](const Value&) { ++callbacks; };
  options.error_callback = [&](const absl::Status& status) {
    ++error_callbacks;
    error = status;
  };
  AsyncResult result = pool_->ApplyAsync("sleep", {60}, options);
  ASSERT_TRUE(result.Cancel().ok());
  EXPECT_EQ(result.Get(kPatience).status().code(), absl::StatusCode::kCancelled);
  // A second cancel, and a late result for the job, change nothing.
  ASSERT_TRUE(result.Cancel().ok());
  scheduler_.Finish(result.id(), Value(1));
  EXPECT_EQ(result.Get(kPatience).status().code(), absl::StatusCode::kCancelled);
  EXPECT_EQ(error_callbacks, 1);
  EXPECT_EQ(error.code(), absl::StatusCode::kCancelled);
  EXPECT_EQ(callbacks, 0);
}

// The calls in a chunk job, which Map sends packed.
int Entries(const v1::JobSpec& job) { return UnpackChunk(job.packed_chunk())->entries_size(); }

TEST_F(PoolClientTest, MapAsyncSendsOneJobPerChunkAndFlattensTheResults) {
  int callbacks = 0;
  Value seen;
  MapOptions options;
  options.chunksize = 2;
  options.call.callback = [&](const Value& all) {
    ++callbacks;
    seen = all;
  };
  MapResult map = pool_->MapAsync("echo", {"a", "b", "c", "d", "e"}, options);
  std::vector<v1::JobSpec> jobs = scheduler_.WaitForJobs(3);
  ASSERT_THAT(jobs, SizeIs(3));
  EXPECT_EQ(Entries(jobs[0]), 2);
  EXPECT_EQ(Entries(jobs[1]), 2);
  EXPECT_EQ(Entries(jobs[2]), 1);
  scheduler_.Finish(jobs[2].job_id(), Value(ValueList{"E"}));
  scheduler_.Finish(jobs[0].job_id(), Value(ValueList{"A", "B"}));
  EXPECT_FALSE(map.Wait(absl::Milliseconds(10)));
  EXPECT_EQ(map.Successful().status().code(), absl::StatusCode::kFailedPrecondition);
  scheduler_.Finish(jobs[1].job_id(), Value(ValueList{"C", "D"}));
  absl::StatusOr<std::vector<Value>> results = map.Get(kPatience);
  ASSERT_TRUE(results.ok()) << results.status();
  EXPECT_THAT(*results, ElementsAre("A", "B", "C", "D", "E"));
  EXPECT_EQ(*map.Get(), *results);  // the same again
  EXPECT_EQ(*map.Successful(), true);
  EXPECT_EQ(callbacks, 1);
  EXPECT_EQ(seen, Value(ValueList{"A", "B", "C", "D", "E"}));
  EXPECT_EQ(StatsCallsSinceConnect(), 0);  // the chunksize was given
}

TEST_F(PoolClientTest, DefaultChunksizeComesFromTheSlots) {
  std::vector<Value> items(40, Value(1));
  MapResult map = pool_->MapAsync("echo", items);
  // 4 slots: ceil(40 / 16) = 3 items per job, so 14 jobs.
  std::vector<v1::JobSpec> jobs = scheduler_.WaitForJobs(14);
  ASSERT_THAT(jobs, SizeIs(14));
  EXPECT_EQ(Entries(jobs[0]), 3);
  EXPECT_EQ(StatsCallsSinceConnect(), 1);
  ASSERT_TRUE(map.Cancel().ok());
}

TEST_F(PoolClientTest, MapResultCancelCancelsItsJobs) {
  MapResult map = pool_->MapAsync("sleep", {60, 60, 60}, {.chunksize = 1});
  std::vector<v1::JobSpec> jobs = scheduler_.WaitForJobs(3);
  ASSERT_THAT(jobs, SizeIs(3));
  ASSERT_TRUE(map.Cancel().ok());
  EXPECT_EQ(map.Get(kPatience).status().code(), absl::StatusCode::kCancelled);
  for (const v1::JobSpec& job : jobs) {
    EXPECT_THAT(scheduler_.events(), ::testing::Contains("cancel " + job.job_id()));
  }
}

TEST_F(PoolClientTest, EmptyMapIsReadyAtOnceWithNoRpcAndNoCallback) {
  bool called = false;
  MapOptions options;
  options.call.callback = [&](const Value&) { called = true; };
  MapResult map = pool_->MapAsync("echo", {}, options);
  EXPECT_TRUE(map.Ready());
  EXPECT_EQ(*map.Successful(), true);
  EXPECT_TRUE(map.Get(absl::ZeroDuration())->empty());
  EXPECT_TRUE(pool_->Starmap("echo", {})->empty());
  EXPECT_EQ(pool_->IMap("echo", {}).Next().status().code(), absl::StatusCode::kOutOfRange);
  EXPECT_FALSE(called);
  EXPECT_TRUE(scheduler_.submits().empty());
  EXPECT_EQ(StatsCallsSinceConnect(), 0);
}

TEST_F(PoolClientTest, BadMapOptionsAreInvalidArgument) {
  EXPECT_EQ(pool_->Map("echo", {1}, {.chunksize = -1}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(pool_->IMap("echo", {1}, {.chunksize = -1}).Next().status().code(),
            absl::StatusCode::kInvalidArgument);
  MapOptions with_callback;
  with_callback.call.callback = [](const Value&) {};
  IMapIterator it = pool_->IMapUnordered("echo", {1}, with_callback);
  EXPECT_EQ(it.Next().status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(it.Next().status().code(), absl::StatusCode::kOutOfRange);
  EXPECT_TRUE(scheduler_.submits().empty());
}

TEST_F(PoolClientTest, SubmitAfterCloseFailsWithNoRpcAndNoCallback) {
  pool_->Close();
  bool called = false;
  CallOptions options;
  options.callback = [&](const Value&) { called = true; };
  options.error_callback = [&](const absl::Status&) { called = true; };
  AsyncResult result = pool_->ApplyAsync("echo", {1}, options);
  EXPECT_TRUE(result.Ready());
  EXPECT_EQ(result.Get().status(), absl::FailedPreconditionError("pool is closed"));
  EXPECT_EQ(*result.Successful(), false);
  EXPECT_TRUE(result.Cancel().ok());

  MapOptions map_options;
  map_options.call = options;
  MapResult map = pool_->MapAsync("echo", {1, 2}, map_options);
  EXPECT_EQ(map.Get().status(), absl::FailedPreconditionError("pool is closed"));
  EXPECT_EQ(pool_->Map("echo", {}).status(), absl::FailedPreconditionError("pool is closed"));
  IMapIterator it = pool_->IMap("echo", {1, 2});
  EXPECT_EQ(it.Next().status(), absl::FailedPreconditionError("pool is closed"));
  EXPECT_EQ(it.Next().status().code(), absl::StatusCode::kOutOfRange);

  EXPECT_FALSE(called);
  EXPECT_TRUE(scheduler_.submits().empty());
  EXPECT_TRUE(pool_->Join().ok());  // nothing outstanding
}

TEST_F(PoolClientTest, JoinBeforeCloseIsAnError) {
  EXPECT_EQ(pool_->Join().code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(PoolClientTest, JoinWaitsForEveryJobAndItsCallback) {
  absl::Notification callback_done;
  CallOptions options;
  options.callback = [&](const Value&) { callback_done.Notify(); };
  AsyncResult a = pool_->ApplyAsync("echo", {1}, options);
  MapResult map = pool_->MapAsync("echo", {2}, {.chunksize = 1});
  pool_->Close();
  absl::Notification joined;
  std::thread joiner([&] {
    EXPECT_TRUE(pool_->Join().ok());
    EXPECT_TRUE(callback_done.HasBeenNotified());
    EXPECT_TRUE(map.Ready());
    joined.Notify();
  });
  std::vector<v1::JobSpec> jobs = scheduler_.WaitForJobs(2);
  ASSERT_THAT(jobs, SizeIs(2));
  scheduler_.Finish(jobs[0].job_id(), Value(1));
  EXPECT_FALSE(joined.WaitForNotificationWithTimeout(absl::Milliseconds(100)));
  scheduler_.Finish(jobs[1].job_id(), Value(2));
  EXPECT_TRUE(joined.WaitForNotificationWithTimeout(kPatience));
  joiner.join();
}

TEST_F(PoolClientTest, TerminateCancelsEveryUnfinishedJobOnce) {
  int error_callbacks = 0;
  CallOptions options;
  options.error_callback = [&](const absl::Status& status) {
    EXPECT_EQ(status.code(), absl::StatusCode::kCancelled);
    ++error_callbacks;
  };
  AsyncResult done = pool_->ApplyAsync("echo", {0});
  std::vector<AsyncResult> running;
  for (int i = 0; i < 3; ++i) running.push_back(pool_->ApplyAsync("sleep", {60}, options));
  IMapIterator it = pool_->IMap("sleep", {60, 60});
  ASSERT_THAT(scheduler_.WaitForJobs(6), SizeIs(6));
  scheduler_.Finish(done.id(), Value(ValueList{0}));
  ASSERT_TRUE(done.Wait(kPatience));

  pool_->Terminate();
  // Terminate returns once the cancelled results are in.
  for (const AsyncResult& result : running) {
    EXPECT_TRUE(result.Ready());
    EXPECT_EQ(result.Get().status().code(), absl::StatusCode::kCancelled);
  }
  EXPECT_EQ(it.Next().status().code(), absl::StatusCode::kCancelled);
  EXPECT_EQ(it.Next().status().code(), absl::StatusCode::kCancelled);
  EXPECT_EQ(it.Next().status().code(), absl::StatusCode::kOutOfRange);
  EXPECT_EQ(error_callbacks, 3);
  EXPECT_THAT(scheduler_.events(), ::testing::Not(::testing::Contains("cancel " + done.id())));
  EXPECT_EQ(pool_->ApplyAsync("echo", {1}).Get().status(),
            absl::FailedPreconditionError("pool is closed"));
  EXPECT_TRUE(pool_->Join().ok());
}

TEST_F(PoolClientTest, TerminateCancelsAJobWhoseSubmitWasInFlight) {
  scheduler_.HoldSubmits();
  AsyncResult result = pool_->ApplyAsync("sleep", {60});
  ASSERT_TRUE(scheduler_.WaitForSubmits(1));
  std::thread terminator([&] { pool_->Terminate(); });
  absl::SleepFor(absl::Milliseconds(50));  // give a wrong Cancel time to overtake
  scheduler_.ReleaseSubmits();
  terminator.join();
  EXPECT_EQ(result.Get(kPatience).status().code(), absl::StatusCode::kCancelled);
  EXPECT_THAT(scheduler_.events(),
              ElementsAre("submitted " + result.id(), "cancel " + result.id()));
}

TEST_F(PoolClientTest, DestroyingThePoolNeitherWaitsNorCancels) {
  AsyncResult result = pool_->ApplyAsync("sleep", {60});
  ASSERT_TRUE(scheduler_.WaitForStream(1, {result.id()}));
  pool_.reset();
  EXPECT_FALSE(result.Ready());
  EXPECT_THAT(scheduler_.events(), ElementsAre("submitted " + result.id()));  // no cancel
  scheduler_.Finish(result.id(), Value("finished after the pool"));
  EXPECT_EQ(*result.Get(kPatience), Value("finished after the pool"));
}

TEST(AsyncResult, EmptyHandleHasNoJob) {
  AsyncResult result;
  EXPECT_EQ(result.Get().status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_FALSE(result.Ready());
  EXPECT_FALSE(result.Wait(absl::ZeroDuration()));
  EXPECT_EQ(result.Successful().status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(result.id(), "");
}

TEST(PoolConnect, ASchedulerThatTakesNoJobsOnItsWatchStreamIsRefusedByName) {
  FakeScheduler old;
  old.TakeNoJobsOnWatch();
  absl::StatusOr<Pool> pool = Pool::Connect(old.address());
  EXPECT_EQ(pool.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(pool.status().message(), ::testing::HasSubstr("upgrade netpoold"));
}

TEST(PoolConnect, NothingListeningIsUnavailable) {
  auto gone = std::make_unique<FakeScheduler>();
  const std::string address = gone->address();
  gone.reset();
  absl::StatusOr<Pool> pool =
      Pool::Connect(address, {.connect_timeout = absl::Milliseconds(300)});
  EXPECT_EQ(pool.status().code(), absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace netpool
