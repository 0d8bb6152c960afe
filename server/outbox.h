// Outbox is the queue between code that decides what to send on a gRPC
// stream (under the scheduler lock, never blocking) and the one thread that
// writes the stream. The writer takes everything queued at once, so messages
// that pile up while a write is in flight go out as one batch; under steady
// traffic it also lingers a moment for the batch to grow (common/batching.h).
#ifndef NETPOOL_SERVER_OUTBOX_H_
#define NETPOOL_SERVER_OUTBOX_H_

#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/batching.h"

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
  // queued items into `out`. When the previous batch was taken less than
  // kBatchLinger ago it waits up to kBatchLinger more for kBatchEnough
  // items; after a quiet spell the first item goes at once. Returns false
  // once closed and drained.
  bool PopAll(std::vector<T>* out) {
    absl::MutexLock lock(&mu_);
    mu_.Await(absl::Condition(this, &Outbox::ReadyLocked));
    if (!closed_ && items_.size() < kBatchEnough && absl::Now() - last_pop_ < kBatchLinger) {
      auto grown = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return closed_ || items_.size() >= kBatchEnough;
      };
      mu_.AwaitWithTimeout(absl::Condition(&grown), kBatchLinger);
    }
    last_pop_ = absl::Now();
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
  absl::Time last_pop_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
};

}  // namespace netpool

#endif  // NETPOOL_SERVER_OUTBOX_H_
