// DurableStore is a durable Store over any StorageBackend: it keeps the
// live records in RAM and writes them to the backend with group commit on a
// thread of its own. SqliteStore is DurableStore over SqliteBackend.
//
//   absl::StatusOr<std::unique_ptr<DurableStore>> store =
//       DurableStore::Open("name in errors", std::move(backend));
//   (*store)->Insert(jobs);
//   (*store)->WaitDurable((*store)->last_write());  // the backend holds it now
//
// Writes (Insert, Update, MarkFetched) change the records in RAM at once and
// queue a snapshot of each changed job (its spec, which never changes, only
// with its insert); one commit thread takes everything queued, applies it
// to the backend as one batch, then advances durable_write(), calls the
// durable listener and wakes WaitDurable(). A failed batch (a full disk, an
// I/O error) is a state, not an end: the commit thread tries the group
// again with backoff, together with what was queued meanwhile, until it
// succeeds. Until then health() and WaitDurable() return the error,
// Insert() refuses new jobs, and the other writes wait in RAM, so the
// server acknowledges nothing it could not store and loses no change it
// made.
//
// A change the store cannot even queue (Update or MarkFetched of a finished
// job it cannot read back) is lost for good: like LevelDB's bg_error_, the
// first such loss is permanent. health() and WaitDurable() return it from
// then on and Insert() refuses new jobs, until a restart reloads the store
// from what the backend holds; the store still records every other change.
//
// RAM holds the unfinished jobs (the live records FindLive() returns) and the
// finished jobs whose last write is not committed yet; a finished job is
// read back from the backend on demand, so finished results do not pile up
// in memory. Rows an EraseFetchedBefore() deleted read as gone before the
// backend has deleted them.
#ifndef NETPOOL_SERVER_STORE_DURABLE_STORE_H_
#define NETPOOL_SERVER_STORE_DURABLE_STORE_H_

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/btree_map.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "server/core/store.h"
#include "server/store/storage_backend.h"

namespace netpool {

// Record lifetimes (what store.h leaves to the implementation):
// - An unfinished job's record is live until the job is erased.
// - A live record that Update() made finished stays valid at least until
//   the next Insert() or EraseFetchedBefore(): committed finished records are
//   released only there, where the scheduler holds no record, so a scheduler
//   operation may keep using a job it has just finished.
// - The job ForEach() passes to `visit` is valid only during that call.
// No method but the destructor waits for a commit: the scheduler calls the
// store under its lock, and the durable listener may need that lock.
// Not thread-safe except where store.h says so.
class DurableStore : public Store {
 public:
  // Loads the jobs `backend` holds and starts the commit thread. `name`
  // (the database's path, say) starts the message of each error the store
  // reports.
  static absl::StatusOr<std::unique_ptr<DurableStore>> Open(
      std::string name, std::unique_ptr<StorageBackend> backend);

  DurableStore(const DurableStore&) = delete;
  DurableStore& operator=(const DurableStore&) = delete;
  // Commits everything queued, then closes the backend.
  ~DurableStore() override;

  absl::StatusOr<std::vector<Job*>> Insert(std::vector<Job> jobs) override;
  Job* FindLive(absl::string_view job_id) override;
  absl::StatusOr<std::optional<Job>> Lookup(absl::string_view job_id) override;
  absl::StatusOr<std::optional<std::string>> FindByIdempotencyKey(absl::string_view key) override;
  absl::Status Update(const Job& job) override;
  absl::Status MarkFetched(absl::string_view job_id) override;
  int64_t EraseFetchedBefore(absl::Time cutoff) override;
  void ForEach(const std::function<bool(const Job&)>& visit) override;
  void ForEachNewestFirst(uint64_t before_sequence,
                          const std::function<bool(const Job&)>& visit) override;
  void ForEachUnfinished(const std::function<void(Job&)>& visit) override;
  FinishedCounts CountFinished() override { return finished_counts_; }
  uint64_t MaxSequence() override { return max_sequence_; }
  size_t size() const override { return size_; }

  uint64_t last_write() const override;
  uint64_t durable_write() const override;
  absl::Status WaitDurable(uint64_t write) override;
  absl::Status health() const override;
  void SetDurableListener(std::function<void(uint64_t)> listener) override;
  void SetCommitObserver(std::function<void(absl::Duration took)> observer) override;

  // How many job records are in RAM, after releasing the committed finished
  // ones (as Insert does). For tests of the memory bound.
  size_t resident_jobs();

  const std::string& name() const { return name_; }

 protected:
  DurableStore(std::string name, std::unique_ptr<StorageBackend> backend);
  // What Open() does once the store is made: loads it, starts committing.
  absl::Status Start();

 private:
  // A job as read from the backend.
  struct Stored {
    std::unique_ptr<Job> job;
    // Its spec is still inside its record (StoredRow::spec was empty).
    bool spec_unwritten = false;
  };

  // A job held in RAM, with the state the store last recorded for it (the
  // caller changes the record itself before it calls Update).
  struct Resident {
    std::unique_ptr<Job> job;
    v1::JobState recorded_state = v1::JOB_STATE_UNSPECIFIED;
    uint64_t last_write = 0;
    // The spec is not stored apart yet: the job's next write stores it.
    bool spec_unwritten = false;
  };

  // EraseFetchedBefore calls whose deletes are not committed yet: until
  // then the rows they erased must read as gone.
  struct PendingErase {
    double cutoff_unix = 0;  // rows fetched and finished before it are gone
    absl::flat_hash_set<std::string> resident_ids;  // erased from RAM
    uint64_t write = 0;
  };

  // The row of `job`; its spec goes with the job's first write only.
  static StoredRow RowOf(const Job& job, bool with_spec);
  // `newer` replaces `older` as a job's queued change. A spec goes with the
  // first of its job's writes that commits, so a change that replaces one
  // not committed yet takes over that one's spec.
  static void Supersede(std::optional<StoredRow>& newer, std::optional<StoredRow>& older);
  static absl::StatusOr<Stored> ParseStored(const StoredRow& row);
  // ForEach and ForEachNewestFirst: visits the jobs of the rows `scan`
  // passes merged with the records in RAM from `resident` to `end`, which
  // are newer, in the scan's order (`comes_first`, of two sequences).
  template <typename ResidentIterator, typename ComesFirst>
  void VisitMerged(ResidentIterator resident, ResidentIterator end, ComesFirst comes_first,
                   const std::function<absl::Status(const RowVisitor&)>& scan,
                   const std::function<bool(const Job&)>& visit);

  absl::Status Load();

  // The commit thread.
  void CommitLoop();

  // Frees the finished records whose last write is committed.
  void ReleaseCommitted();
  Resident* FindResident(absl::string_view job_id);
  // The job's record moved into RAM (read back if need be), for a write:
  // kNotFound if no job has the id, another error if its row cannot be read.
  absl::StatusOr<Resident*> Hold(absl::string_view job_id);
  Resident& AddResident(Stored stored, v1::JobState recorded_state);
  void DropResident(absl::string_view job_id);
  // Queues rows (and, if given, the erase of the fetched rows finished
  // before that time) as one write; returns its number.
  uint64_t Enqueue(std::vector<std::pair<uint64_t, std::optional<StoredRow>>> rows,
                   std::optional<double> erase_before_unix = std::nullopt);
  // Queues the resident job's current record as one write.
  void Write(Resident& resident);
  // Notes that `write` recorded the resident job's current record.
  void NoteWritten(Resident& resident, uint64_t write);
  void CountFinishedState(v1::JobState state, int64_t delta);
  // The error of a change to the job that cannot be recorded for `cause`:
  // kNotFound as it is (no such job, nothing is lost), else the loss of the
  // change, which becomes the store's permanent error if it is the first.
  absl::Status FailedWrite(absl::string_view job_id, const absl::Status& cause);
  absl::Status HealthLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Reads a stored job; kNotFound when there is no row or it is erased.
  absl::StatusOr<Stored> ReadBack(absl::string_view job_id);
  absl::StatusOr<bool> StoredIdTaken(absl::string_view job_id);
  // Whether a stored row was erased by an EraseFetchedBefore not committed yet.
  bool ErasedUncommitted(const RowColumns& row) const;

  // Constant after construction.
  const std::string name_;
  // Read by the store's caller and written by the commit thread, as
  // StorageBackend allows.
  const std::unique_ptr<StorageBackend> backend_;

  // Used only by the store's caller (one thread at a time, as store.h says).
  // Keyed by views of the records' own ids and keys (a job's JobSpecBytes
  // never moves), so that a job in RAM costs the maps no string.
  absl::flat_hash_map<absl::string_view, Resident> resident_;
  absl::btree_map<uint64_t, Job*> resident_by_sequence_;
  absl::flat_hash_map<absl::string_view, Job*> resident_by_key_;
  // Finished jobs with the write that finished or last changed them, in
  // write order: each leaves RAM once that write is committed.
  std::deque<std::pair<uint64_t, std::string>> releasable_;
  std::optional<PendingErase> pending_erase_;
  FinishedCounts finished_counts_;
  size_t size_ = 0;
  uint64_t max_sequence_ = 0;

  mutable absl::Mutex mu_;
  absl::CondVar work_queued_;
  absl::CondVar commit_done_;
  // The newest change of each job (by sequence) since the commit thread
  // last took the queue, and the cutoff of the erases queued with it.
  RowChanges queued_rows_ ABSL_GUARDED_BY(mu_);
  std::optional<double> queued_erase_before_unix_ ABSL_GUARDED_BY(mu_);
  uint64_t last_write_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t durable_write_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Status commit_error_ ABSL_GUARDED_BY(mu_);
  // The first change the store could not record; never cleared.
  absl::Status lost_write_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::function<void(uint64_t)> durable_listener_ ABSL_GUARDED_BY(mu_);
  std::function<void(absl::Duration)> commit_observer_ ABSL_GUARDED_BY(mu_);

  std::thread committer_;
};

}  // namespace netpool

#endif  // NETPOOL_SERVER_STORE_DURABLE_STORE_H_
