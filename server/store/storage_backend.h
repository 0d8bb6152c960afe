// StorageBackend is where a durable store keeps its job rows: the storage
// engine alone (SQLite today; Postgres or LevelDB would be others). It has no
// threads, caches or queues of its own: the store above it keeps the live
// records in RAM, groups the writes, retries a failed batch, and hides the
// rows an erase it has not written yet will delete.
//
// A row is one job as bytes plus the columns the store looks rows up by. A
// job's sequence (its submission order) is the row's key.
#ifndef NETPOOL_SERVER_STORE_STORAGE_BACKEND_H_
#define NETPOOL_SERVER_STORE_STORAGE_BACKEND_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/btree_map.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace netpool {

// The columns of a job's row that rows are found and erased by.
struct RowColumns {
  std::string id;
  int state = 0;  // a v1::JobState
  std::string idempotency_key;  // empty: none
  bool fetched = false;
  double finished_unix = 0;  // 0 while the job is unfinished
};

// One job's row. `record` is the serialized v1::StoredJob without its spec.
// The serialized spec, most of a job's bytes, is kept apart and written
// once: a change that carries no spec keeps the one stored. A row read back
// without a spec predates that split, and its record holds the spec.
struct StoredRow {
  RowColumns columns;
  std::string record;
  std::optional<std::string> spec;
};

// The changes of one batch by job sequence: the row to write, or nullopt to
// delete the job's row (and its spec).
using RowChanges = absl::btree_map<uint64_t, std::optional<StoredRow>>;

// What Scan and ScanNewestFirst pass each row to: false stops the scan.
using RowVisitor = std::function<bool(uint64_t, const StoredRow&)>;

// Writes come from one thread (the store's commit thread) and reads from
// another (the store's caller), at the same time; a read sees whole batches
// only. Each thread's calls are made one at a time.
class StorageBackend {
 public:
  virtual ~StorageBackend() = default;

  // Writes a batch in one transaction, durable once this returns OK, and
  // nothing of it on error. First, when `erase_before_unix` is given, it
  // deletes the rows of fetched finished jobs that finished before then;
  // then it applies `changes`. The highest sequence in `changes` counts as
  // taken from then on, even if its row is deleted (MaxSequence).
  virtual absl::Status Apply(const RowChanges& changes,
                             std::optional<double> erase_before_unix) = 0;

  // The job's row, nullopt if there is none.
  virtual absl::StatusOr<std::optional<StoredRow>> Read(const std::string& job_id) = 0;
  // The job's row without its record and spec, nullopt if there is none.
  virtual absl::StatusOr<std::optional<RowColumns>> ReadColumns(const std::string& job_id) = 0;
  // The rows submitted with this idempotency key, in sequence order.
  virtual absl::StatusOr<std::vector<RowColumns>> FindByIdempotencyKey(
      const std::string& key) = 0;
  // Whether a row has this sequence.
  virtual absl::StatusOr<bool> SequenceTaken(uint64_t sequence) = 0;
  // Visits the rows (only the unfinished jobs' if `unfinished_only`) in
  // sequence order until `visit` returns false. The row passed is valid
  // only during the call.
  virtual absl::Status Scan(bool unfinished_only, const RowVisitor& visit) = 0;
  // Visits the rows whose sequence is below `before_sequence`, newest first,
  // until `visit` returns false: a page of a listing newest first reads the
  // rows it shows, not every row. The row passed is valid only during the call.
  virtual absl::Status ScanNewestFirst(uint64_t before_sequence, const RowVisitor& visit) = 0;
  // Visits the fetched finished jobs that finished in [from_unix, before_unix).
  virtual absl::Status ScanErasable(double from_unix, double before_unix,
                                    const std::function<void(const RowColumns&)>& visit) = 0;
  // The highest sequence ever written, 0 if none.
  virtual absl::StatusOr<uint64_t> MaxSequence() = 0;
  // How many rows hold each job state.
  virtual absl::StatusOr<absl::flat_hash_map<int, int64_t>> CountByState() = 0;
};

}  // namespace netpool

#endif  // NETPOOL_SERVER_STORE_STORAGE_BACKEND_H_
