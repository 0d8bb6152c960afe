#include "client/submit_queue.h"

#include <utility>

namespace netpool {

SubmitQueue::SubmitQueue(SendFunction send, Limits limits)
    : send_(std::move(send)), limits_(limits), sender_([this] { Run(); }) {}

SubmitQueue::~SubmitQueue() {
  {
    absl::MutexLock lock(&mutex_);
    stopping_ = true;
  }
  sender_.join();
}

void SubmitQueue::Push(v1::JobSpec spec) {
  absl::MutexLock lock(&mutex_);
  queued_.push_back(std::move(spec));
}

bool SubmitQueue::HasWorkOrStopping() const { return !queued_.empty() || stopping_; }

void SubmitQueue::Run() {
  std::vector<v1::JobSpec> pending;  // taken from queued_, not yet sent
  size_t next = 0;                   // first entry of `pending` not yet sent
  for (;;) {
    if (next == pending.size()) {
      pending.clear();
      next = 0;
      absl::MutexLock lock(&mutex_);
      mutex_.Await(absl::Condition(this, &SubmitQueue::HasWorkOrStopping));
      if (queued_.empty()) return;  // stopping, and everything is sent
      pending.swap(queued_);
    }
    std::vector<v1::JobSpec> batch;
    size_t bytes = 0;
    while (next < pending.size() && batch.size() < limits_.max_jobs) {
      const size_t size = pending[next].ByteSizeLong();
      if (!batch.empty() && bytes + size > limits_.max_bytes) break;
      bytes += size;
      batch.push_back(std::move(pending[next++]));
    }
    send_(std::move(batch));
  }
}

}  // namespace netpool
