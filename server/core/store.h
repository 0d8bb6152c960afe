// Store is where job records live. The scheduling core reads and changes jobs
// only through it and calls Update() after each change to a live record, so
// that a durable store can persist it. A finished job is only ever handed out
// as a copy (Lookup). MemoryStore (server/store/) is the volatile store,
// SqliteStore the durable one.
//
// Writes are numbered. A volatile store's writes are durable at once; a
// durable store commits them in groups on its own thread, and WaitDurable()
// tells a caller when its write is safe (an acknowledged Submit, a result
// handed to a client).
#ifndef NETPOOL_SERVER_CORE_STORE_H_
#define NETPOOL_SERVER_CORE_STORE_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "server/core/job.h"

namespace netpool {

// Finished jobs by final state, as the store holds them.
struct FinishedCounts {
  int64_t succeeded = 0;
  int64_t failed = 0;
  int64_t cancelled = 0;
};

// All methods but WaitDurable() and durable_write() are called by one thread
// at a time (the scheduler's lock holder).
class Store {
 public:
  virtual ~Store() = default;

  // Adds new jobs, all or none, and returns their live records in the same
  // order (see FindLive). Error kAlreadyExists if an id is taken.
  virtual absl::StatusOr<std::vector<Job*>> Insert(std::vector<Job> jobs) = 0;
  // The live record of an unfinished (PENDING or RUNNING) job, or nullptr
  // if the job is finished or unknown. The record is the store's own: it
  // stays valid until the job is erased, also after a change that finishes
  // it (the store may drop a finished record only in a later Insert() or
  // EraseFetchedBefore()). The caller that changes it must call Update().
  virtual Job* FindLive(absl::string_view job_id) = 0;
  // A copy of the job's record, unfinished or finished; nullopt if there is
  // no such job. An error if the store cannot read it.
  virtual absl::StatusOr<std::optional<Job>> Lookup(absl::string_view job_id) = 0;
  // The id of the job submitted with this idempotency key, if the store
  // holds one.
  virtual absl::StatusOr<std::optional<std::string>> FindByIdempotencyKey(
      absl::string_view key) = 0;
  // Records a change made to a live record (FindLive, Insert).
  virtual absl::Status Update(const Job& job) = 0;
  // Records that a finished job's result was handed to a client.
  virtual absl::Status MarkFetched(absl::string_view job_id) = 0;
  // Deletes the finished jobs whose results were fetched and that finished
  // before `cutoff` (the result retention time has passed). Returns how many.
  virtual int64_t EraseFetchedBefore(absl::Time cutoff) = 0;

  // Visits all jobs in submission order until `visit` returns false.
  virtual void ForEach(const std::function<bool(const Job&)>& visit) = 0;
  // Visits the jobs submitted before the one of sequence `before_sequence`
  // (any sequence past the newest: from the newest on), newest first, until
  // `visit` returns false. It reads only the jobs it visits, so a page of a
  // listing costs the page, however many jobs the store holds.
  virtual void ForEachNewestFirst(uint64_t before_sequence,
                                  const std::function<bool(const Job&)>& visit) = 0;
  // Visits the unfinished (PENDING, RUNNING) jobs in submission order; what
  // the scheduler rebuilds its queues from after a restart.
  virtual void ForEachUnfinished(const std::function<void(Job&)>& visit) = 0;
  virtual FinishedCounts CountFinished() = 0;
  // The highest job sequence number ever stored, 0 if none.
  virtual uint64_t MaxSequence() = 0;
  virtual size_t size() const = 0;

  // The number of the newest write (Insert, Update, MarkFetched, Erase...).
  virtual uint64_t last_write() const = 0;
  // Thread-safe: the newest write known durable.
  virtual uint64_t durable_write() const = 0;
  // Thread-safe: OK, or why writes are not reaching the disk now (e.g. it
  // is full). A store in that state refuses Insert() and keeps every other
  // write queued, retrying until it succeeds, when it turns OK by itself.
  // kDataLoss is for good: a change the store could not even queue was
  // lost, and only a restart (which reloads what the disk holds) ends it.
  virtual absl::Status health() const = 0;
  // Thread-safe; call without the scheduler's lock. Blocks until write
  // `write` is durable, or returns health()'s error while it is not OK.
  virtual absl::Status WaitDurable(uint64_t write) = 0;
  // Thread-safe; set once before use. Called from the commit thread (with no
  // store lock held) after each group commit with the new durable_write().
  virtual void SetDurableListener(std::function<void(uint64_t)> listener) = 0;
  // Thread-safe; set once before use. Called from the commit thread after
  // each group commit with how long it took (netpoold's metrics). A store
  // without commits never calls it.
  virtual void SetCommitObserver(std::function<void(absl::Duration took)> observer) {}
};

}  // namespace netpool

#endif  // NETPOOL_SERVER_CORE_STORE_H_
