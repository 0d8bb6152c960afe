// DurableStore over a storage backend that is a map in RAM: group commit,
// retry, the sticky loss of a change and the hiding of erased rows are the
// store's, so that a backend is storage only (SqliteBackend's SQL, or any
// other engine's). The binary links no database.
#include "server/store/durable_store.h"

#include <algorithm>
#include <iterator>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "netpool/v1/store.pb.h"
#include "server/store/storage_backend.h"
#include "tests/store/store_test_support.h"
#include "tests/support/eventually.h"
#include "tests/support/status_matchers.h"

namespace netpool {
namespace {

using ::netpool::testing::EditSpec;
using ::netpool::testing::Eventually;
using ::netpool::testing::FinishedJob;
using ::netpool::testing::IdOfKey;
using ::netpool::testing::IsOk;
using ::netpool::testing::PendingJob;
using ::netpool::testing::Read;
using ::netpool::testing::StatusIs;
using ::netpool::testing::TestTime;
using ::netpool::testing::ThreadGate;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

// The storage engine's test double: rows in a map. It records the sequences
// of each batch it applies, and the test can hold Apply() before it changes
// anything (reads go on meanwhile) or make writes or reads fail.
// After Close(), the next Apply() waits until Open().
class MapBackend final : public StorageBackend, public ThreadGate {
 public:
  absl::Status Apply(const RowChanges& changes, std::optional<double> erase_before_unix) override {
    Pass();
    absl::MutexLock lock(&mu_);
    if (!apply_error_.ok()) return apply_error_;
    if (erase_before_unix) {
      for (auto it = rows_.begin(); it != rows_.end();) {
        const RowColumns& row = it->second.columns;
        const bool erasable = row.fetched && Job::IsFinal(static_cast<v1::JobState>(row.state)) &&
                              row.finished_unix < *erase_before_unix;
        it = erasable ? rows_.erase(it) : std::next(it);
      }
    }
    std::vector<uint64_t>& batch = batches_.emplace_back();
    for (const auto& [sequence, row] : changes) {
      batch.push_back(sequence);
      if (!row) {
        rows_.erase(sequence);
        continue;
      }
      std::optional<std::string> spec = row->spec;
      if (!spec && rows_.count(sequence) != 0) spec = rows_[sequence].spec;
      rows_[sequence] = *row;
      rows_[sequence].spec = std::move(spec);
      max_sequence_ = std::max(max_sequence_, sequence);
    }
    return absl::OkStatus();
  }

  absl::StatusOr<std::optional<StoredRow>> Read(const std::string& job_id) override {
    absl::MutexLock lock(&mu_);
    if (!read_error_.ok()) return read_error_;
    for (const auto& [sequence, row] : rows_) {
      if (row.columns.id == job_id) return row;
    }
    return std::nullopt;
  }
  absl::StatusOr<std::optional<RowColumns>> ReadColumns(const std::string& job_id) override {
    absl::StatusOr<std::optional<StoredRow>> row = Read(job_id);
    if (!row.ok()) return row.status();
    if (!*row) return std::nullopt;
    return (*row)->columns;
  }
  absl::StatusOr<std::vector<RowColumns>> FindByIdempotencyKey(const std::string& key) override {
    {
      absl::MutexLock lock(&mu_);
      if (!read_error_.ok()) return read_error_;
    }
    std::vector<RowColumns> found;
    for (const auto& [sequence, row] : Rows()) {
      if (row.columns.idempotency_key == key) found.push_back(row.columns);
    }
    return found;
  }
  absl::StatusOr<bool> SequenceTaken(uint64_t sequence) override {
    absl::MutexLock lock(&mu_);
    return rows_.count(sequence) != 0;
  }
  absl::Status Scan(bool unfinished_only,
                    const std::function<bool(uint64_t, const StoredRow&)>& visit) override {
    for (const auto& [sequence, row] : Rows()) {
      if (unfinished_only && Job::IsFinal(static_cast<v1::JobState>(row.columns.state))) continue;
      if (!visit(sequence, row)) break;
    }
    return absl::OkStatus();
  }
  absl::Status ScanNewestFirst(
      uint64_t before_sequence,
      const std::function<bool(uint64_t, const StoredRow&)>& visit) override {
    const auto rows = Rows();
    for (auto it = std::make_reverse_iterator(rows.lower_bound(before_sequence));
         it != rows.rend(); ++it) {
      if (!visit(it->first, it->second)) break;
    }
    return absl::OkStatus();
  }
  absl::Status ScanErasable(double from_unix, double before_unix,
                            const std::function<void(const RowColumns&)>& visit) override {
    for (const auto& [sequence, row] : Rows()) {
      const RowColumns& columns = row.columns;
      if (columns.fetched && Job::IsFinal(static_cast<v1::JobState>(columns.state)) &&
          columns.finished_unix >= from_unix && columns.finished_unix < before_unix) {
        visit(columns);
      }
    }
    return absl::OkStatus();
  }
  absl::StatusOr<uint64_t> MaxSequence() override {
    absl::MutexLock lock(&mu_);
    return max_sequence_;
  }
  absl::StatusOr<absl::flat_hash_map<int, int64_t>> CountByState() override {
    absl::flat_hash_map<int, int64_t> counts;
    for (const auto& [sequence, row] : Rows()) ++counts[row.columns.state];
    return counts;
  }

  void FailApply(absl::Status error) {
    absl::MutexLock lock(&mu_);
    apply_error_ = std::move(error);
  }
  void FailReads(absl::Status error) {
    absl::MutexLock lock(&mu_);
    read_error_ = std::move(error);
  }
  // The sequences each applied batch changed.
  std::vector<std::vector<uint64_t>> batches() {
    absl::MutexLock lock(&mu_);
    return batches_;
  }
  // The ids of the rows held, in sequence order.
  std::vector<std::string> ids() {
    std::vector<std::string> ids;
    for (const auto& [sequence, row] : Rows()) ids.push_back(row.columns.id);
    return ids;
  }
  // The job state in a row.
  int StateOf(uint64_t sequence) {
    absl::MutexLock lock(&mu_);
    return rows_.count(sequence) != 0 ? rows_[sequence].columns.state : -1;
  }

 private:
  // A copy, so that no lock is held while the store visits rows.
  std::map<uint64_t, StoredRow> Rows() {
    absl::MutexLock lock(&mu_);
    return rows_;
  }

  absl::Mutex mu_;
  std::map<uint64_t, StoredRow> rows_ ABSL_GUARDED_BY(mu_);
  uint64_t max_sequence_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<std::vector<uint64_t>> batches_ ABSL_GUARDED_BY(mu_);
  absl::Status apply_error_ ABSL_GUARDED_BY(mu_);
  absl::Status read_error_ ABSL_GUARDED_BY(mu_);
};

// A store over a MapBackend, with the backend to look into.
struct MapStore {
  MapStore() {
    auto owned = std::make_unique<MapBackend>();
    backend = owned.get();
    absl::StatusOr<std::unique_ptr<DurableStore>> opened =
        DurableStore::Open("map", std::move(owned));
    EXPECT_THAT(opened.status(), IsOk());
    if (opened.ok()) store = *std::move(opened);
  }

  MapBackend* backend = nullptr;  // owned by the store
  std::unique_ptr<DurableStore> store;
};

std::vector<std::string> IdsIn(Store& store) {
  std::vector<std::string> ids;
  store.ForEach([&](const Job& job) {
    ids.emplace_back(job.id());
    return true;
  });
  return ids;
}

TEST(DurableStore, WritesQueuedWhileTheBackendWritesShareTheNextBatch) {
  MapStore map;
  DurableStore& store = *map.store;
  map.backend->Close();
  ASSERT_THAT(store.Insert({PendingJob("a", 1)}), IsOk());
  map.backend->AwaitHeld();
  ASSERT_THAT(store.Insert({PendingJob("b", 2)}), IsOk());
  ASSERT_THAT(store.Insert({PendingJob("c", 3)}), IsOk());
  EXPECT_EQ(store.durable_write(), 0u);
  map.backend->Open();

  EXPECT_THAT(store.WaitDurable(3), IsOk());
  EXPECT_THAT(map.backend->batches(), ElementsAre(ElementsAre(1), ElementsAre(2, 3)));
  EXPECT_THAT(map.backend->ids(), ElementsAre("a", "b", "c"));
}

TEST(DurableStore, ErasedRowsReadAsGoneBeforeTheBackendDeletesThem) {
  MapStore map;
  DurableStore& store = *map.store;
  Job old = FinishedJob("old", 1, v1::SUCCEEDED, TestTime(1));
  old.fetched = true;
  EditSpec(old, [&](v1::JobSpec& spec) { spec.set_idempotency_key("key"); });
  ASSERT_THAT(store.Insert({std::move(old), PendingJob("new", 2)}), IsOk());
  ASSERT_THAT(store.WaitDurable(store.last_write()), IsOk());
  ASSERT_EQ(store.resident_jobs(), 1u);  // "old" is read back from the backend

  map.backend->Close();
  EXPECT_EQ(store.EraseFetchedBefore(TestTime(100)), 1);
  map.backend->AwaitHeld();
  EXPECT_THAT(map.backend->ids(), ElementsAre("old", "new"));  // not deleted yet
  EXPECT_FALSE(Read(store, "old"));
  EXPECT_EQ(IdOfKey(store, "key"), std::nullopt);
  EXPECT_THAT(IdsIn(store), ElementsAre("new"));
  EXPECT_EQ(store.size(), 1u);
  EXPECT_THAT(store.Insert({PendingJob("old", 3)}), IsOk());  // its id is free again

  map.backend->Open();
  ASSERT_THAT(store.WaitDurable(store.last_write()), IsOk());
  EXPECT_THAT(map.backend->ids(), ElementsAre("new", "old"));
  EXPECT_EQ(Read(store, "old")->sequence, 3u);
}

TEST(DurableStore, AFailedBatchIsRetriedWithTheChangesQueuedSince) {
  MapStore map;
  DurableStore& store = *map.store;
  map.backend->FailApply(absl::ResourceExhaustedError("no space"));
  ASSERT_THAT(store.Insert({PendingJob("a", 1)}), IsOk());
  const absl::Status error = store.WaitDurable(store.last_write());
  EXPECT_THAT(error, StatusIs(absl::StatusCode::kResourceExhausted, HasSubstr("map: no space")));
  EXPECT_EQ(store.health(), error);
  EXPECT_THAT(store.Insert({PendingJob("b", 2)}), StatusIs(absl::StatusCode::kResourceExhausted, ::testing::_));
  Job* a = store.FindLive("a");
  a->state = v1::RUNNING;
  ASSERT_THAT(store.Update(*a), IsOk());

  map.backend->FailApply(absl::OkStatus());
  EXPECT_TRUE(Eventually([&] { return store.health().ok(); }, absl::Seconds(10)));
  EXPECT_THAT(store.WaitDurable(store.last_write()), IsOk());
  EXPECT_THAT(map.backend->batches(), ElementsAre(ElementsAre(1)));  // one batch with both
  EXPECT_EQ(map.backend->StateOf(1), v1::RUNNING);
}

// Stores "done", finished (so that RAM lets it go and it is read back from
// the backend), and "live", pending (so that RAM keeps it).
void StoreDoneAndLive(DurableStore& store) {
  ASSERT_THAT(store.Insert({FinishedJob("done", 1, v1::SUCCEEDED, TestTime(1)),
                            PendingJob("live", 2)}),
              IsOk());
  ASSERT_THAT(store.WaitDurable(store.last_write()), IsOk());
  ASSERT_EQ(store.resident_jobs(), 1u);  // "done" is read back from the backend
}

TEST(DurableStore, AChangeItCannotReadBackStopsNewWorkForGood) {
  MapStore map;
  DurableStore& store = *map.store;
  ASSERT_NO_FATAL_FAILURE(StoreDoneAndLive(store));
  map.backend->FailReads(absl::UnavailableError("row unreadable"));
  const absl::Status lost = store.MarkFetched("done");
  EXPECT_THAT(lost, StatusIs(absl::StatusCode::kDataLoss,
                             ::testing::AllOf(HasSubstr("map: "), HasSubstr("job done"),
                                              HasSubstr("row unreadable"))));
  map.backend->FailReads(absl::OkStatus());
  EXPECT_EQ(store.health(), lost);
  EXPECT_EQ(store.Insert({PendingJob("new", 3)}).status(), lost);

  // Changes it can record still reach the backend; the error stays.
  Job* live = store.FindLive("live");
  live->state = v1::RUNNING;
  ASSERT_THAT(store.Update(*live), IsOk());
  const uint64_t last = store.last_write();
  ASSERT_TRUE(Eventually([&] { return store.durable_write() >= last; }, absl::Seconds(10)));
  EXPECT_EQ(map.backend->StateOf(2), v1::RUNNING);
  EXPECT_EQ(store.health(), lost);
}

TEST(DurableStore, AFinishedJobItCannotReadBackIsAnErrorNotAMissingJob) {
  MapStore map;
  DurableStore& store = *map.store;
  ASSERT_NO_FATAL_FAILURE(StoreDoneAndLive(store));
  map.backend->FailReads(absl::UnavailableError("row unreadable"));
  EXPECT_THAT(store.Lookup("done"), StatusIs(absl::StatusCode::kUnavailable,
                                             ::testing::AllOf(HasSubstr("map: "),
                                                              HasSubstr("row unreadable"))));
  EXPECT_THAT(store.FindByIdempotencyKey("key"),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("row unreadable")));
  // The live record needs no read.
  EXPECT_NE(store.FindLive("live"), nullptr);
  map.backend->FailReads(absl::OkStatus());
  absl::StatusOr<std::optional<Job>> done = store.Lookup("done");
  ASSERT_THAT(done, IsOk());
  ASSERT_TRUE(done->has_value());
  EXPECT_EQ((*done)->result().value().string_value(), "result of done");
  // Read back as a copy: RAM keeps only the live job.
  EXPECT_EQ(store.resident_jobs(), 1u);
}

}  // namespace
}  // namespace netpool
