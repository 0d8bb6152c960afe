// JobQueue holds the ids of pending jobs, one ordered queue per (function,
// label set), so that a worker node is offered the best job it may run in
// O(queues of its functions * log n): highest priority first, then
// submission order. A node may run a job when it has the job's function and
// every one of the job's labels with the same value; a job without labels
// runs on any node that has its function.
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
  // A job's placement labels, or the labels a worker node announces.
  using Labels = std::map<std::string, std::string>;

  struct Entry {
    std::string function;
    int priority = 0;
    uint64_t sequence = 0;  // unique per job
    std::string job_id;
    Labels labels;  // the node must have all of them
  };

  void Push(Entry entry);
  // Removes the queued job `entry` describes (found by function, labels,
  // priority and sequence); false if it was not queued.
  bool Remove(const Entry& entry);
  // Takes the best job that a node with `functions` and `labels` may run.
  std::optional<Entry> PopFor(const std::vector<std::string>& functions, const Labels& labels);
  // Whether any job waits that a node with `functions` and `labels` may run.
  bool HasWorkFor(const std::vector<std::string>& functions, const Labels& labels) const;

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
  using OrderedJobs = std::map<Key, std::string>;
  // A function's jobs by their label set. Jobs of one function carry few
  // distinct label sets, so a node looks at each of them.
  using LabelQueues = std::map<Labels, OrderedJobs>;

  // Never holds an empty LabelQueues or OrderedJobs.
  absl::flat_hash_map<std::string, LabelQueues> queues_;
  size_t size_ = 0;
};

}  // namespace netpool

#endif  // NETPOOL_SERVER_CORE_JOB_QUEUE_H_
