// The Store contract (server/core/store.h), run against every store: the
// volatile MemoryStore and the durable SqliteStore. Each check that a
// durable store could answer from its queue or from disk is made both
// before and after Settle(): the writes committed and the committed
// finished records released from RAM.
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/core/store.h"
#include "server/store/memory_store.h"
#include "server/store/sqlite_store.h"
#include "tests/store/store_test_support.h"

namespace netpool {
namespace {

using ::netpool::testing::EditSpec;
using ::netpool::testing::FinishJob;
using ::netpool::testing::FinishedJob;
using ::netpool::testing::IdOfKey;
using ::netpool::testing::PendingJob;
using ::netpool::testing::Read;
using ::netpool::testing::ScratchDir;
using ::netpool::testing::TestTime;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

class MemoryStoreMaker {
 public:
  std::unique_ptr<Store> Make() { return std::make_unique<MemoryStore>(); }
  void Settle(Store& store) {}
};

class SqliteStoreMaker {
 public:
  std::unique_ptr<Store> Make() {
    absl::StatusOr<std::unique_ptr<SqliteStore>> store = SqliteStore::Open(dir_.path());
    EXPECT_TRUE(store.ok()) << store.status();
    return store.ok() ? *std::move(store) : nullptr;
  }
  void Settle(Store& store) {
    ASSERT_TRUE(store.WaitDurable(store.last_write()).ok());
    static_cast<SqliteStore&>(store).resident_jobs();  // releases what is committed
  }

 private:
  ScratchDir dir_;
};

template <typename Maker>
class StoreContractTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = maker_.Make();
    ASSERT_NE(store_, nullptr);
  }

  void Settle() { maker_.Settle(*store_); }

  void Insert(std::vector<Job> jobs) { ASSERT_TRUE(store_->Insert(std::move(jobs)).ok()); }

  std::vector<std::string> IdsInOrder() {
    std::vector<std::string> ids;
    store_->ForEach([&](const Job& job) {
      ids.emplace_back(job.id());
      return true;
    });
    return ids;
  }

  std::vector<std::string> UnfinishedIds() {
    std::vector<std::string> ids;
    store_->ForEachUnfinished([&](Job& job) { ids.emplace_back(job.id()); });
    return ids;
  }

  Maker maker_;
  std::unique_ptr<Store> store_;
};

using Makers = ::testing::Types<MemoryStoreMaker, SqliteStoreMaker>;
class MakerNames {
 public:
  template <typename T>
  static std::string GetName(int) {
    return std::is_same_v<T, MemoryStoreMaker> ? "MemoryStore" : "SqliteStore";
  }
};
TYPED_TEST_SUITE(StoreContractTest, Makers, MakerNames);

TYPED_TEST(StoreContractTest, EmptyStoreHasNothing) {
  Store& store = *this->store_;
  EXPECT_EQ(store.size(), 0u);
  EXPECT_FALSE(Read(store, "nope"));
  EXPECT_EQ(IdOfKey(store, "nope"), std::nullopt);
  EXPECT_EQ(store.MaxSequence(), 0u);
  EXPECT_THAT(this->IdsInOrder(), IsEmpty());
  const FinishedCounts counts = store.CountFinished();
  EXPECT_EQ(counts.succeeded + counts.failed + counts.cancelled, 0);
}

TYPED_TEST(StoreContractTest, InsertedJobsAreFound) {
  this->Insert({PendingJob("a", 1), PendingJob("b", 2)});
  for (int settled = 0; settled < 2; ++settled) {
    SCOPED_TRACE(settled ? "settled" : "queued");
    Job* a = this->store_->FindLive("a");
    ASSERT_TRUE(a);
    EXPECT_EQ(a->sequence, 1u);
    EXPECT_EQ(a->state, v1::PENDING);
    EXPECT_EQ(a->spec.function(), "echo");
    EXPECT_EQ(a->submitted, TestTime(1));
    EXPECT_EQ(this->store_->size(), 2u);
    this->Settle();
  }
}

TYPED_TEST(StoreContractTest, InsertReturnsTheLiveRecords) {
  absl::StatusOr<std::vector<Job*>> records =
      this->store_->Insert({PendingJob("a", 1), PendingJob("b", 2)});
  ASSERT_TRUE(records.ok()) << records.status();
  ASSERT_EQ(records->size(), 2u);
  EXPECT_EQ((*records)[0], this->store_->FindLive("a"));
  EXPECT_EQ((*records)[1], this->store_->FindLive("b"));
  EXPECT_EQ((*records)[1]->id(), "b");
}

TYPED_TEST(StoreContractTest, AFinishedJobIsReadAsACopyThatOutlivesLaterCalls) {
  this->Insert({FinishedJob("done", 1, v1::SUCCEEDED, TestTime(1)), PendingJob("p", 2)});
  this->Settle();
  EXPECT_EQ(this->store_->FindLive("done"), nullptr);
  EXPECT_NE(this->store_->FindLive("p"), nullptr);
  std::optional<Job> done = Read(*this->store_, "done");
  ASSERT_TRUE(done);
  this->Insert({PendingJob("q", 3)});
  ASSERT_TRUE(this->store_->MarkFetched("done").ok());
  this->Settle();
  EXPECT_EQ(this->store_->EraseFetchedBefore(TestTime(2)), 1);
  EXPECT_FALSE(Read(*this->store_, "done"));
  EXPECT_EQ(done->id(), "done");
  EXPECT_EQ(done->result().value().string_value(), "result of done");
  EXPECT_FALSE(done->fetched);
}

TYPED_TEST(StoreContractTest, InsertIsAllOrNothingWhenAnIdIsTaken) {
  this->Insert({PendingJob("a", 1)});
  const absl::Status status =
      this->store_->Insert({PendingJob("c", 2), PendingJob("a", 3)}).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kAlreadyExists) << status;
  EXPECT_THAT(std::string(status.message()), ::testing::HasSubstr("a"));
  EXPECT_FALSE(Read(*this->store_, "c"));
  EXPECT_EQ(this->store_->size(), 1u);

  // Taken by a job whose write is committed, too.
  this->Settle();
  EXPECT_EQ(this->store_->Insert({PendingJob("d", 4), PendingJob("a", 5)}).status().code(),
            absl::StatusCode::kAlreadyExists);
  EXPECT_FALSE(Read(*this->store_, "d"));
  EXPECT_THAT(this->IdsInOrder(), ElementsAre("a"));
}

TYPED_TEST(StoreContractTest, InsertRefusesAnIdTwiceInOneBatch) {
  EXPECT_EQ(this->store_->Insert({PendingJob("a", 1), PendingJob("a", 2)}).status().code(),
            absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(this->store_->size(), 0u);
  EXPECT_FALSE(Read(*this->store_, "a"));
}

TYPED_TEST(StoreContractTest, InsertRefusesATakenSequence) {
  this->Insert({PendingJob("a", 7)});
  EXPECT_EQ(this->store_->Insert({PendingJob("b", 7)}).status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(this->store_->Insert({PendingJob("c", 8), PendingJob("d", 8)}).status().code(),
            absl::StatusCode::kAlreadyExists);
  this->Settle();
  EXPECT_EQ(this->store_->Insert({PendingJob("e", 7)}).status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_THAT(this->IdsInOrder(), ElementsAre("a"));
}

TYPED_TEST(StoreContractTest, FindReturnsTheLiveRecordOfAnUnfinishedJob) {
  this->Insert({PendingJob("a", 1)});
  Job* a = this->store_->FindLive("a");
  ASSERT_TRUE(a);
  a->state = v1::RUNNING;
  a->attempt = 1;
  a->set_worker_name("node-a");
  ASSERT_TRUE(this->store_->Update(*a).ok());
  this->Settle();
  EXPECT_EQ(this->store_->FindLive("a"), a);
  EXPECT_EQ(a->state, v1::RUNNING);
  EXPECT_EQ(a->worker_name(), "node-a");
}

TYPED_TEST(StoreContractTest, UpdateTakesAChangedCopy) {
  this->Insert({PendingJob("a", 1)});
  Job copy = *Read(*this->store_, "a");
  copy.attempt = 3;
  copy.not_before = TestTime(50);
  ASSERT_TRUE(this->store_->Update(copy).ok());
  for (int settled = 0; settled < 2; ++settled) {
    std::optional<Job> a = Read(*this->store_, "a");
    ASSERT_TRUE(a);
    EXPECT_EQ(a->attempt, 3);
    EXPECT_EQ(a->not_before, TestTime(50));
    this->Settle();
  }
}

TYPED_TEST(StoreContractTest, UpdateOfAnUnknownJobIsNotFound) {
  EXPECT_EQ(this->store_->Update(PendingJob("ghost", 1)).code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(this->store_->size(), 0u);
}

TYPED_TEST(StoreContractTest, FinishedJobKeepsItsResultAndHistory) {
  this->Insert({PendingJob("a", 1)});
  Job* a = this->store_->FindLive("a");
  a->state = v1::RUNNING;
  a->attempt = 1;
  a->attempts.push_back({1, "node-a", TestTime(2), TestTime(3), {}});
  a->attempts.back().error.set_message("node lost");
  a->attempts.push_back({2, "node-b", TestTime(4), absl::InfinitePast(), {}});
  ASSERT_TRUE(this->store_->Update(*a).ok());
  a->attempts.back().finished = TestTime(5);
  FinishJob(*a, v1::SUCCEEDED, TestTime(5));
  ASSERT_TRUE(this->store_->Update(*a).ok());
  for (int settled = 0; settled < 2; ++settled) {
    SCOPED_TRACE(settled ? "settled" : "queued");
    std::optional<Job> found = Read(*this->store_, "a");
    ASSERT_TRUE(found);
    EXPECT_EQ(found->state, v1::SUCCEEDED);
    EXPECT_EQ(found->result().value().string_value(), "result of a");
    EXPECT_EQ(found->finished, TestTime(5));
    ASSERT_EQ(found->attempts.size(), 2u);
    EXPECT_EQ(found->attempts[0].worker, "node-a");
    EXPECT_EQ(found->attempts[0].error.message(), "node lost");
    EXPECT_EQ(found->attempts[1].finished, TestTime(5));
    EXPECT_THAT(this->UnfinishedIds(), IsEmpty());
    this->Settle();
  }
}

TYPED_TEST(StoreContractTest, FindsAJobByItsIdempotencyKey) {
  Job keyed = PendingJob("a", 1);
  EditSpec(keyed, [&](v1::JobSpec& spec) { spec.set_idempotency_key("order-17"); });
  this->Insert({keyed, PendingJob("b", 2)});
  for (int settled = 0; settled < 2; ++settled) {
    EXPECT_EQ(IdOfKey(*this->store_, "order-17"), "a");
    EXPECT_EQ(IdOfKey(*this->store_, "order-18"), std::nullopt);
    EXPECT_EQ(IdOfKey(*this->store_, ""), std::nullopt);
    this->Settle();
  }
  // Still found once the job is finished and its record left RAM.
  Job* a = this->store_->FindLive("a");
  FinishJob(*a, v1::SUCCEEDED, TestTime(9));
  ASSERT_TRUE(this->store_->Update(*a).ok());
  this->Settle();
  EXPECT_EQ(IdOfKey(*this->store_, "order-17"), "a");
}

TYPED_TEST(StoreContractTest, MarkFetchedRecordsTheHandOver) {
  this->Insert({FinishedJob("a", 1, v1::SUCCEEDED, TestTime(10))});
  EXPECT_EQ(this->store_->MarkFetched("nope").code(), absl::StatusCode::kNotFound);
  this->Settle();
  EXPECT_FALSE(Read(*this->store_, "a")->fetched);
  ASSERT_TRUE(this->store_->MarkFetched("a").ok());
  EXPECT_TRUE(Read(*this->store_, "a")->fetched);
  this->Settle();
  EXPECT_TRUE(Read(*this->store_, "a")->fetched);
  ASSERT_TRUE(this->store_->MarkFetched("a").ok());  // again: no change
  EXPECT_TRUE(Read(*this->store_, "a")->fetched);
}

TYPED_TEST(StoreContractTest, EraseFetchedBeforeErasesOnlyFetchedOldFinishedJobs) {
  Job keyed = FinishedJob("old-fetched", 1, v1::SUCCEEDED, TestTime(10));
  EditSpec(keyed, [&](v1::JobSpec& spec) { spec.set_idempotency_key("k1"); });
  // Fetched long ago: a durable store holds it on disk only.
  Job on_disk = FinishedJob("on-disk", 6, v1::SUCCEEDED, TestTime(12));
  on_disk.fetched = true;
  EditSpec(on_disk, [&](v1::JobSpec& spec) { spec.set_idempotency_key("k6"); });
  this->Insert({keyed, FinishedJob("old-unfetched", 2, v1::FAILED, TestTime(10)),
                FinishedJob("new-fetched", 3, v1::CANCELLED, TestTime(100)), PendingJob("pending", 4),
                FinishedJob("old-fetched-2", 5, v1::FAILED, TestTime(11)), on_disk});
  this->Settle();  // the fetches below land on records read back from disk
  for (const char* id : {"old-fetched", "new-fetched", "old-fetched-2"}) {
    ASSERT_TRUE(this->store_->MarkFetched(id).ok());
  }
  Job* pending = this->store_->FindLive("pending");
  pending->fetched = true;  // not finished: never erased
  ASSERT_TRUE(this->store_->Update(*pending).ok());

  EXPECT_EQ(this->store_->EraseFetchedBefore(TestTime(50)), 3);
  for (int settled = 0; settled < 2; ++settled) {
    SCOPED_TRACE(settled ? "settled" : "queued");
    EXPECT_FALSE(Read(*this->store_, "old-fetched"));
    EXPECT_FALSE(Read(*this->store_, "old-fetched-2"));
    EXPECT_FALSE(Read(*this->store_, "on-disk"));
    EXPECT_EQ(IdOfKey(*this->store_, "k1"), std::nullopt);
    EXPECT_EQ(IdOfKey(*this->store_, "k6"), std::nullopt);
    EXPECT_THAT(this->IdsInOrder(), ElementsAre("old-unfetched", "new-fetched", "pending"));
    EXPECT_EQ(this->store_->size(), 3u);
    const FinishedCounts counts = this->store_->CountFinished();
    EXPECT_EQ(counts.succeeded, 0);
    EXPECT_EQ(counts.failed, 1);
    EXPECT_EQ(counts.cancelled, 1);
    this->Settle();
  }
  EXPECT_EQ(this->store_->EraseFetchedBefore(TestTime(50)), 0);
  EXPECT_EQ(this->store_->EraseFetchedBefore(TestTime(101)), 1);
  EXPECT_THAT(this->IdsInOrder(), ElementsAre("old-unfetched", "pending"));
}

TYPED_TEST(StoreContractTest, ErasedIdCanBeUsedAgain) {
  this->Insert({FinishedJob("a", 1, v1::SUCCEEDED, TestTime(10))});
  ASSERT_TRUE(this->store_->MarkFetched("a").ok());
  this->Settle();
  ASSERT_EQ(this->store_->EraseFetchedBefore(TestTime(20)), 1);
  this->Insert({PendingJob("a", 2)});
  this->Settle();
  ASSERT_TRUE(Read(*this->store_, "a"));
  EXPECT_EQ(Read(*this->store_, "a")->sequence, 2u);
  EXPECT_THAT(this->IdsInOrder(), ElementsAre("a"));
}

TYPED_TEST(StoreContractTest, ForEachVisitsInSequenceOrderAndStopsWhenAsked) {
  this->Insert({PendingJob("five", 5), PendingJob("two", 2)});
  this->Insert({FinishedJob("nine", 9, v1::SUCCEEDED, TestTime(9))});
  this->Settle();
  this->Insert({PendingJob("one", 1), PendingJob("seven", 7)});
  EXPECT_THAT(this->IdsInOrder(), ElementsAre("one", "two", "five", "seven", "nine"));
  std::vector<std::string> first_two;
  this->store_->ForEach([&](const Job& job) {
    first_two.emplace_back(job.id());
    return first_two.size() < 2;
  });
  EXPECT_THAT(first_two, ElementsAre("one", "two"));
  this->Settle();
  EXPECT_THAT(this->IdsInOrder(), ElementsAre("one", "two", "five", "seven", "nine"));
}

// A page of a listing newest first (ListJobPage): jobs still in RAM and
// jobs read back from disk, below a sequence, stopping when asked.
TYPED_TEST(StoreContractTest, ForEachNewestFirstVisitsBackwardsBelowASequence) {
  this->Insert({PendingJob("two", 2), FinishedJob("five", 5, v1::SUCCEEDED, TestTime(5))});
  this->Settle();
  this->Insert({PendingJob("seven", 7), FinishedJob("nine", 9, v1::FAILED, TestTime(9))});
  auto Visit = [&](uint64_t before, size_t most) {
    std::vector<std::string> ids;
    this->store_->ForEachNewestFirst(before, [&](const Job& job) {
      ids.emplace_back(job.id());
      return ids.size() < most;
    });
    return ids;
  };
  EXPECT_THAT(Visit(std::numeric_limits<uint64_t>::max(), 10),
              ElementsAre("nine", "seven", "five", "two"));
  EXPECT_THAT(Visit(7, 10), ElementsAre("five", "two"));
  EXPECT_THAT(Visit(9, 2), ElementsAre("seven", "five"));
  EXPECT_THAT(Visit(2, 10), ElementsAre());
}

TYPED_TEST(StoreContractTest, ForEachUnfinishedVisitsPendingAndRunningJobsInOrder) {
  Job running = PendingJob("running", 3);
  running.state = v1::RUNNING;
  this->Insert({running, PendingJob("pending", 1),
                FinishedJob("done", 2, v1::SUCCEEDED, TestTime(2))});
  for (int settled = 0; settled < 2; ++settled) {
    EXPECT_THAT(this->UnfinishedIds(), ElementsAre("pending", "running"));
    this->Settle();
  }
  // The visited records are the live ones.
  this->store_->ForEachUnfinished([](Job& job) { job.attempt = 4; });
  EXPECT_EQ(Read(*this->store_, "running")->attempt, 4);
}

TYPED_TEST(StoreContractTest, CountFinishedFollowsStateChanges) {
  this->Insert({PendingJob("a", 1), PendingJob("b", 2), PendingJob("c", 3),
                FinishedJob("d", 4, v1::FAILED, TestTime(4))});
  Job* a = this->store_->FindLive("a");
  FinishJob(*a, v1::SUCCEEDED, TestTime(5));
  ASSERT_TRUE(this->store_->Update(*a).ok());
  Job* b = this->store_->FindLive("b");
  FinishJob(*b, v1::CANCELLED, TestTime(6));
  ASSERT_TRUE(this->store_->Update(*b).ok());
  for (int settled = 0; settled < 2; ++settled) {
    const FinishedCounts counts = this->store_->CountFinished();
    EXPECT_EQ(counts.succeeded, 1);
    EXPECT_EQ(counts.failed, 1);
    EXPECT_EQ(counts.cancelled, 1);
    this->Settle();
  }
}

TYPED_TEST(StoreContractTest, MaxSequenceIsTheHighestEverStored) {
  this->Insert({PendingJob("a", 4), PendingJob("b", 2)});
  EXPECT_EQ(this->store_->MaxSequence(), 4u);
  Job* a = this->store_->FindLive("a");
  FinishJob(*a, v1::SUCCEEDED, TestTime(1));
  a->fetched = true;
  ASSERT_TRUE(this->store_->Update(*a).ok());
  this->Settle();
  ASSERT_EQ(this->store_->EraseFetchedBefore(TestTime(2)), 1);
  EXPECT_EQ(this->store_->MaxSequence(), 4u);
}

TYPED_TEST(StoreContractTest, WritesBecomeDurable) {
  this->Insert({PendingJob("a", 1)});
  Job* a = this->store_->FindLive("a");
  a->state = v1::RUNNING;
  ASSERT_TRUE(this->store_->Update(*a).ok());
  const uint64_t write = this->store_->last_write();
  EXPECT_TRUE(this->store_->WaitDurable(write).ok());
  EXPECT_GE(this->store_->durable_write(), write);
}

}  // namespace
}  // namespace netpool
