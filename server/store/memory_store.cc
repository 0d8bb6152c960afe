#include "server/store/memory_store.h"

#include "absl/strings/str_cat.h"

namespace netpool {

absl::Status MemoryStore::Insert(std::vector<Job> jobs) {
  absl::flat_hash_map<std::string, bool> batch_ids;
  for (const Job& job : jobs) {
    if (by_id_.contains(job.id()) || !batch_ids.emplace(job.id(), true).second) {
      return absl::AlreadyExistsError(absl::StrCat("job id ", job.id(), " is already taken"));
    }
  }
  for (Job& job : jobs) {
    auto record = std::make_unique<Job>(std::move(job));
    by_sequence_[record->sequence] = record.get();
    std::string id = record->id();
    by_id_.emplace(std::move(id), std::move(record));
  }
  return absl::OkStatus();
}

Job* MemoryStore::Find(const std::string& job_id) {
  auto it = by_id_.find(job_id);
  return it == by_id_.end() ? nullptr : it->second.get();
}

const Job* MemoryStore::Find(const std::string& job_id) const {
  auto it = by_id_.find(job_id);
  return it == by_id_.end() ? nullptr : it->second.get();
}

void MemoryStore::ForEach(const std::function<bool(const Job&)>& visit) const {
  for (const auto& [sequence, job] : by_sequence_) {
    if (!visit(*job)) return;
  }
}

}  // namespace netpool
