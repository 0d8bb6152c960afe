// MemoryStore keeps job records in RAM only (`netpoold --store memory`):
// fastest, and everything is gone when the scheduler stops. Every write is
// durable as soon as it is made.
#ifndef NETPOOL_SERVER_STORE_MEMORY_STORE_H_
#define NETPOOL_SERVER_STORE_MEMORY_STORE_H_

#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/btree_map.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/hash/hash.h"
#include "absl/strings/string_view.h"
#include "server/core/store.h"

namespace netpool {

// Not thread-safe: the scheduler serialises access.
class MemoryStore final : public Store {
 public:
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
  FinishedCounts CountFinished() override;
  uint64_t MaxSequence() override;
  size_t size() const override { return by_id_.size(); }

  uint64_t last_write() const override { return 0; }
  uint64_t durable_write() const override { return 0; }
  absl::Status WaitDurable(uint64_t write) override { return absl::OkStatus(); }
  absl::Status health() const override { return absl::OkStatus(); }
  void SetDurableListener(std::function<void(uint64_t)> listener) override {}

 private:
  // Jobs found by id, with no key beside the record's own.
  struct JobIdHash {
    using is_transparent = void;
    size_t operator()(absl::string_view id) const { return absl::Hash<absl::string_view>()(id); }
    size_t operator()(const std::unique_ptr<Job>& job) const { return (*this)(job->id()); }
  };
  struct JobIdEq {
    using is_transparent = void;
    static absl::string_view IdOf(absl::string_view id) { return id; }
    static absl::string_view IdOf(const std::unique_ptr<Job>& job) { return job->id(); }
    template <typename A, typename B>
    bool operator()(const A& a, const B& b) const {
      return IdOf(a) == IdOf(b);
    }
  };

  // Fetched finished jobs become erasable once their finish time is old
  // enough: (finished, sequence) keeps them in that order.
  void NoteIfErasable(const Job& job);
  Job* Find(absl::string_view job_id) const;

  // Jobs are heap nodes so pointers handed out stay valid as the maps grow.
  // The id set hashes the records' own ids, and the key map's keys are
  // views of the records' keys (a job's JobSpecBytes never moves): a job
  // costs the maps no string of its own.
  absl::flat_hash_set<std::unique_ptr<Job>, JobIdHash, JobIdEq> by_id_;
  absl::btree_map<uint64_t, Job*> by_sequence_;
  absl::flat_hash_map<absl::string_view, Job*> by_idempotency_key_;
  std::set<std::pair<absl::Time, uint64_t>> erasable_;
  uint64_t max_sequence_ = 0;
};

}  // namespace netpool

#endif  // NETPOOL_SERVER_STORE_MEMORY_STORE_H_
