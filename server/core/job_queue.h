// JobQueue holds the ids of pending jobs, one ordered queue per function, so
// that a worker is offered the best job among the functions it has in
// O(functions * log n): highest priority first, then submission order.
#ifndef NETPOOL_SERVER_CORE_JOB_QUEUE_H_
#define NETPOOL_SERVER_CORE_JOB_QUEUE_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"

namespace netpool {

class JobQueue {
 public:
  struct Entry {
    std::string function;
    int priority = 0;
    uint64_t sequence = 0;  // unique per job
    std::string job_id;
  };

  void Push(Entry entry);
  // Removes a queued job; false if it was not queued.
  bool Remove(const std::string& function, int priority, uint64_t sequence);
  // Takes the best job whose function is in `functions`.
  std::optional<Entry> PopFor(const std::vector<std::string>& functions);
  // Whether any job of these functions waits.
  bool HasWorkFor(const std::vector<std::string>& functions) const;

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }

 private:
  // Sorted so that begin() is the job to run next.
  struct Key {
    int priority;
    uint64_t sequence;
    bool operator<(const Key& o) const {
      if (priority != o.priority) return priority > o.priority;
      return sequence < o.sequence;
    }
  };
  using FunctionQueue = std::map<Key, std::string>;

  absl::flat_hash_map<std::string, FunctionQueue> queues_;
  size_t size_ = 0;
};

}  // namespace netpool

#endif  // NETPOOL_SERVER_CORE_JOB_QUEUE_H_
