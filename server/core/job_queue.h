// JobQueue holds the pending jobs that may be handed out now, one ordered
// queue per (function, label set), so that a worker node is offered the best
// job it may run in O(queues of its functions * log n): highest priority
// first, then submission order. A node may run a job when it has the job's
// function and every one of the job's labels with the same value; a job
// without labels runs on any node that has its function.
//
// It holds pointers to the store's live records (see Store::FindLive), not
// copies of ids or labels: a queued job costs its queue one small btree slot
// and no allocation of its own.
#ifndef NETPOOL_SERVER_CORE_JOB_QUEUE_H_
#define NETPOOL_SERVER_CORE_JOB_QUEUE_H_

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "absl/container/btree_set.h"
#include "absl/container/flat_hash_map.h"
#include "server/core/job.h"

namespace netpool {

class JobQueue {
 public:
  // A job's placement labels, or the labels a worker node announces.
  using Labels = JobLabels;

  // REQUIRES: `job` is not queued, and it stays valid and keeps its
  // function, labels, priority and sequence until it leaves the queue (a
  // live record of an unfinished job does, as long as the caller takes it
  // out before finishing it).
  void Push(Job* job);
  // Takes `job` out of the queue; false if it was not queued.
  bool Remove(const Job& job);
  // Takes the best job that a node with `functions` and `labels` may run;
  // nullptr if there is none.
  Job* PopFor(const std::vector<std::string>& functions, const Labels& labels);
  // Whether any job waits that a node with `functions` and `labels` may run.
  bool HasWorkFor(const std::vector<std::string>& functions, const Labels& labels) const;

  // Calls `visit` for each (function, label set) with jobs queued, and how
  // many: as many calls as there are such queues, whatever the jobs.
  void ForEachQueue(const std::function<void(const std::string& function, const Labels& labels,
                                             size_t jobs)>& visit) const;

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }

 private:
  // The order is kept beside the pointer so that sorting reads no job.
  struct Queued {
    int priority;
    uint64_t sequence;  // unique per job
    Job* job;
  };
  // begin() is the job to run next.
  struct RunsFirst {
    bool operator()(const Queued& a, const Queued& b) const {
      if (a.priority != b.priority) return a.priority > b.priority;
      return a.sequence < b.sequence;
    }
  };
  using OrderedJobs = absl::btree_set<Queued, RunsFirst>;
  // A function's jobs by their label set. Jobs of one function carry few
  // distinct label sets, so a node looks at each of them.
  using LabelQueues = std::map<Labels, OrderedJobs>;

  // Never holds an empty LabelQueues or OrderedJobs.
  absl::flat_hash_map<std::string, LabelQueues> queues_;
  size_t size_ = 0;
};

}  // namespace netpool

#endif  // NETPOOL_SERVER_CORE_JOB_QUEUE_H_
