// Outbox is the queue between code that decides what to send on a gRPC
// stream (under the scheduler lock, never blocking) and the one thread that
// writes the stream. The writer takes everything queued at once, so messages
// that pile up while a write is in flight go out as one batch.
#ifndef NETPOOL_SERVER_OUTBOX_H_
#define NETPOOL_SERVER_OUTBOX_H_

#include <vector>

#include "absl/synchronization/mutex.h"

namespace netpool {

template <typename T>
class Outbox {
 public:
  // Queues `item`; dropped if the outbox is closed.
  void Push(T item) {
    absl::MutexLock lock(&mu_);
    if (!closed_) items_.push_back(std::move(item));
  }

  // Blocks until something is queued or the outbox is closed; moves all
  // queued items into `out`. Returns false once closed and drained.
  bool PopAll(std::vector<T>* out) {
    absl::MutexLock lock(&mu_);
    mu_.Await(absl::Condition(this, &Outbox::ReadyLocked));
    if (items_.empty()) return false;
    out->swap(items_);
    items_.clear();
    return true;
  }

  void Close() {
    absl::MutexLock lock(&mu_);
    closed_ = true;
  }

 private:
  bool ReadyLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return closed_ || !items_.empty(); }

  absl::Mutex mu_;
  std::vector<T> items_ ABSL_GUARDED_BY(mu_);
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace netpool

#endif  // NETPOOL_SERVER_OUTBOX_H_
