#include "server/core/job_queue.h"

#include <utility>

namespace netpool {
namespace {

// Whether a node with `node_labels` has every one of `job_labels`.
bool HasAllLabels(const JobQueue::Labels& node_labels, const JobQueue::Labels& job_labels) {
  for (const auto& [key, value] : job_labels) {
    auto it = node_labels.find(key);
    if (it == node_labels.end() || it->second != value) return false;
  }
  return true;
}

}  // namespace

void JobQueue::Push(Entry entry) {
  OrderedJobs& jobs = queues_[entry.function][std::move(entry.labels)];
  auto [it, inserted] = jobs.emplace(Key{entry.priority, entry.sequence}, std::move(entry.job_id));
  if (inserted) ++size_;
}

bool JobQueue::Remove(const Entry& entry) {
  auto function = queues_.find(entry.function);
  if (function == queues_.end()) return false;
  auto jobs = function->second.find(entry.labels);
  if (jobs == function->second.end()) return false;
  if (jobs->second.erase(Key{entry.priority, entry.sequence}) == 0) return false;
  --size_;
  if (jobs->second.empty()) {
    function->second.erase(jobs);
    if (function->second.empty()) queues_.erase(function);
  }
  return true;
}

std::optional<JobQueue::Entry> JobQueue::PopFor(const std::vector<std::string>& functions,
                                                const Labels& labels) {
  auto best_function = queues_.end();
  LabelQueues::iterator best_jobs;
  for (const std::string& fn : functions) {
    auto function = queues_.find(fn);
    if (function == queues_.end()) continue;
    for (auto jobs = function->second.begin(); jobs != function->second.end(); ++jobs) {
      if (!HasAllLabels(labels, jobs->first)) continue;
      if (best_function == queues_.end() ||
          jobs->second.begin()->first < best_jobs->second.begin()->first) {
        best_function = function;
        best_jobs = jobs;
      }
    }
  }
  if (best_function == queues_.end()) return std::nullopt;
  auto head = best_jobs->second.begin();
  Entry entry{best_function->first, head->first.priority, head->first.sequence,
              std::move(head->second), best_jobs->first};
  best_jobs->second.erase(head);
  --size_;
  if (best_jobs->second.empty()) {
    best_function->second.erase(best_jobs);
    if (best_function->second.empty()) queues_.erase(best_function);
  }
  return entry;
}

bool JobQueue::HasWorkFor(const std::vector<std::string>& functions, const Labels& labels) const {
  for (const std::string& fn : functions) {
    auto function = queues_.find(fn);
    if (function == queues_.end()) continue;
    for (const auto& [job_labels, jobs] : function->second) {
      if (HasAllLabels(labels, job_labels)) return true;
    }
  }
  return false;
}

}  // namespace netpool
