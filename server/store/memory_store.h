// MemoryStore keeps job records in RAM only (`netpoold --store memory`):
// fastest, and everything is gone when the scheduler stops.
#ifndef NETPOOL_SERVER_STORE_MEMORY_STORE_H_
#define NETPOOL_SERVER_STORE_MEMORY_STORE_H_

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "server/core/store.h"

namespace netpool {

// Not thread-safe: the scheduler serialises access.
class MemoryStore final : public Store {
 public:
  absl::Status Insert(std::vector<Job> jobs) override;
  Job* Find(const std::string& job_id) override;
  const Job* Find(const std::string& job_id) const override;
  absl::Status Update(const Job& job) override { return absl::OkStatus(); }
  void ForEach(const std::function<bool(const Job&)>& visit) const override;
  size_t size() const override { return by_id_.size(); }

 private:
  // Jobs are heap nodes so pointers handed out stay valid as the maps grow.
  absl::flat_hash_map<std::string, std::unique_ptr<Job>> by_id_;
  std::map<uint64_t, Job*> by_sequence_;
};

}  // namespace netpool

#endif  // NETPOOL_SERVER_STORE_MEMORY_STORE_H_
