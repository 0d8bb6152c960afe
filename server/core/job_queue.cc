#include "server/core/job_queue.h"

namespace netpool {

void JobQueue::Push(Entry entry) {
  auto [it, inserted] = queues_[entry.function].emplace(Key{entry.priority, entry.sequence},
                                                        std::move(entry.job_id));
  if (inserted) ++size_;
}

bool JobQueue::Remove(const std::string& function, int priority, uint64_t sequence) {
  auto q = queues_.find(function);
  if (q == queues_.end()) return false;
  if (q->second.erase(Key{priority, sequence}) == 0) return false;
  --size_;
  if (q->second.empty()) queues_.erase(q);
  return true;
}

std::optional<JobQueue::Entry> JobQueue::PopFor(const std::vector<std::string>& functions) {
  decltype(queues_)::iterator best_queue = queues_.end();
  for (const std::string& fn : functions) {
    auto q = queues_.find(fn);
    if (q == queues_.end()) continue;
    if (best_queue == queues_.end() || q->second.begin()->first < best_queue->second.begin()->first) {
      best_queue = q;
    }
  }
  if (best_queue == queues_.end()) return std::nullopt;
  auto head = best_queue->second.begin();
  Entry entry{best_queue->first, head->first.priority, head->first.sequence, std::move(head->second)};
  best_queue->second.erase(head);
  --size_;
  if (best_queue->second.empty()) queues_.erase(best_queue);
  return entry;
}

bool JobQueue::HasWorkFor(const std::vector<std::string>& functions) const {
  for (const std::string& fn : functions) {
    if (queues_.contains(fn)) return true;
  }
  return false;
}

}  // namespace netpool
