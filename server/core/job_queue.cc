#include "server/core/job_queue.h"

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

void JobQueue::Push(Job* job) {
  auto function = queues_.find(job->function());
  if (function == queues_.end()) {
    function = queues_.emplace(std::string(job->function()), LabelQueues()).first;
  }
  OrderedJobs& jobs = function->second[job->labels()];
  if (jobs.insert({job->priority, job->sequence, job}).second) ++size_;
}

bool JobQueue::Remove(const Job& job) {
  auto function = queues_.find(job.function());
  if (function == queues_.end()) return false;
  auto jobs = function->second.find(job.labels());
  if (jobs == function->second.end()) return false;
  // The order alone finds the job: sequences are unique.
  if (jobs->second.erase({job.priority, job.sequence, nullptr}) == 0) return false;
  --size_;
  if (jobs->second.empty()) {
    function->second.erase(jobs);
    if (function->second.empty()) queues_.erase(function);
  }
  return true;
}

Job* JobQueue::PopFor(const std::vector<std::string>& functions, const Labels& labels) {
  auto best_function = queues_.end();
  LabelQueues::iterator best_jobs;
  for (const std::string& fn : functions) {
    auto function = queues_.find(fn);
    if (function == queues_.end()) continue;
    for (auto jobs = function->second.begin(); jobs != function->second.end(); ++jobs) {
      if (!HasAllLabels(labels, jobs->first)) continue;
      if (best_function == queues_.end() ||
          RunsFirst()(*jobs->second.begin(), *best_jobs->second.begin())) {
        best_function = function;
        best_jobs = jobs;
      }
    }
  }
  if (best_function == queues_.end()) return nullptr;
  auto head = best_jobs->second.begin();
  Job* job = head->job;
  best_jobs->second.erase(head);
  --size_;
  if (best_jobs->second.empty()) {
    best_function->second.erase(best_jobs);
    if (best_function->second.empty()) queues_.erase(best_function);
  }
  return job;
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

void JobQueue::ForEachQueue(const std::function<void(const std::string& function,
                                                     const Labels& labels, size_t jobs)>& visit)
    const {
  for (const auto& [function, label_queues] : queues_) {
    for (const auto& [labels, jobs] : label_queues) visit(function, labels, jobs.size());
  }
}

}  // namespace netpool
