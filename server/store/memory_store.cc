#include "server/store/memory_store.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace netpool {

absl::StatusOr<std::vector<Job*>> MemoryStore::Insert(std::vector<Job> jobs) {
  absl::flat_hash_set<absl::string_view> batch_ids;
  absl::flat_hash_set<uint64_t> batch_sequences;
  for (const Job& job : jobs) {
    if (by_id_.contains(job.id()) || !batch_ids.insert(job.id()).second) {
      return absl::AlreadyExistsError(absl::StrCat("job id ", job.id(), " is already taken"));
    }
    if (by_sequence_.count(job.sequence) > 0 || !batch_sequences.insert(job.sequence).second) {
      return absl::AlreadyExistsError(
          absl::StrCat("job sequence ", job.sequence, " is already taken"));
    }
  }
  std::vector<Job*> records;
  records.reserve(jobs.size());
  for (Job& job : jobs) {
    auto record = std::make_unique<Job>(std::move(job));
    max_sequence_ = std::max(max_sequence_, record->sequence);
    by_sequence_[record->sequence] = record.get();
    if (!record->idempotency_key().empty()) {
      // The first job submitted with a key keeps it.
      by_idempotency_key_.emplace(record->idempotency_key(), record.get());
    }
    NoteIfErasable(*record);
    records.push_back(record.get());
    by_id_.insert(std::move(record));
  }
  return records;
}

Job* MemoryStore::Find(absl::string_view job_id) const {
  auto it = by_id_.find(job_id);
  return it == by_id_.end() ? nullptr : it->get();
}

Job* MemoryStore::FindLive(absl::string_view job_id) {
  Job* job = Find(job_id);
  return job != nullptr && !job->finished_state() ? job : nullptr;
}

absl::StatusOr<std::optional<Job>> MemoryStore::Lookup(absl::string_view job_id) {
  const Job* job = Find(job_id);
  if (job == nullptr) return std::nullopt;
  return std::optional<Job>(*job);
}

absl::StatusOr<std::optional<std::string>> MemoryStore::FindByIdempotencyKey(
    absl::string_view key) {
  auto it = by_idempotency_key_.find(key);
  if (it == by_idempotency_key_.end()) return std::nullopt;
  return std::optional<std::string>(it->second->id());
}

absl::Status MemoryStore::Update(const Job& job) {
  Job* record = Find(job.id());
  if (record == nullptr) return absl::NotFoundError(absl::StrCat("no job ", job.id()));
  // `job` is the record itself unless the caller changed a copy.
  if (record != &job) {
    // The spec never changes, and the maps' keys are views of this one.
    JobSpecBytes spec = record->spec;
    *record = job;
    record->spec = std::move(spec);
  }
  NoteIfErasable(*record);
  return absl::OkStatus();
}

absl::Status MemoryStore::MarkFetched(absl::string_view job_id) {
  Job* job = Find(job_id);
  if (job == nullptr) return absl::NotFoundError(absl::StrCat("no job ", job_id));
  job->fetched = true;
  NoteIfErasable(*job);
  return absl::OkStatus();
}

void MemoryStore::NoteIfErasable(const Job& job) {
  if (job.fetched && job.finished_state()) erasable_.emplace(job.finished, job.sequence);
}

int64_t MemoryStore::EraseFetchedBefore(absl::Time cutoff) {
  int64_t erased = 0;
  while (!erasable_.empty() && erasable_.begin()->first < cutoff) {
    const uint64_t sequence = erasable_.begin()->second;
    erasable_.erase(erasable_.begin());
    auto it = by_sequence_.find(sequence);
    if (it == by_sequence_.end()) continue;
    Job* job = it->second;
    if (auto key = by_idempotency_key_.find(job->idempotency_key());
        key != by_idempotency_key_.end() && key->second == job) {
      by_idempotency_key_.erase(key);
    }
    by_sequence_.erase(it);
    // Last: the maps' keys are views of the job's strings.
    by_id_.erase(by_id_.find(job->id()));
    ++erased;
  }
  return erased;
}

void MemoryStore::ForEach(const std::function<bool(const Job&)>& visit) {
  for (const auto& [sequence, job] : by_sequence_) {
    if (!visit(*job)) return;
  }
}

void MemoryStore::ForEachNewestFirst(uint64_t before_sequence,
                                     const std::function<bool(const Job&)>& visit) {
  for (auto it = std::make_reverse_iterator(by_sequence_.lower_bound(before_sequence));
       it != by_sequence_.rend(); ++it) {
    if (!visit(*it->second)) return;
  }
}

void MemoryStore::ForEachUnfinished(const std::function<void(Job&)>& visit) {
  for (const auto& [sequence, job] : by_sequence_) {
    if (!job->finished_state()) visit(*job);
  }
}

FinishedCounts MemoryStore::CountFinished() {
  FinishedCounts counts;
  for (const auto& [sequence, job] : by_sequence_) {
    if (job->state == v1::SUCCEEDED) ++counts.succeeded;
    if (job->state == v1::FAILED) ++counts.failed;
    if (job->state == v1::CANCELLED) ++counts.cancelled;
  }
  return counts;
}

uint64_t MemoryStore::MaxSequence() { return max_sequence_; }

}  // namespace netpool
