// Outbox is the queue between code that decides what to send on a gRPC
// stream (under the scheduler lock, never blocking) and the one thread that
// writes the stream. The writer takes everything queued at once, so messages
// that pile up while a write is in flight go out as one batch; under steady
// traffic it also lingers a moment for the batch to grow, since each message
// costs both ends system calls and thread wake-ups whatever its size.
#ifndef NETPOOL_SERVER_OUTBOX_H_
#define NETPOOL_SERVER_OUTBOX_H_

#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace netpool {

template <typename T>
class Outbox {
 public:
  // Queues `item`; dropped if the outbox is closed.
  void Push(T item) {
    absl::MutexLock lock(&mu_);
    if (!closed_) items_.push_back(std::move(item));
  }

  // Under steady traffic, how long the writer waits for a batch to grow, and
  // the size at which it stops waiting.
  static constexpr absl::Duration kLinger = absl::Microseconds(250);
  static constexpr size_t kEnough = 256;

  // Blocks until something is queued or the outbox is closed; moves all
  // queued items into `out`. When the previous batch was taken less than
  // kLinger ago (traffic is steady) it waits up to kLinger more for kEnough
  // items; after a quiet spell the first item goes at once, so a lone
  // message is never held. Returns false once closed and drained.
  bool PopAll(std::vector<T>* out) {
    absl::MutexLock lock(&mu_);
    mu_.Await(absl::Condition(this, &Outbox::ReadyLocked));
    if (!closed_ && items_.size() < kEnough && absl::Now() - last_pop_ < kLinger) {
      auto grown = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return closed_ || items_.size() >= kEnough;
      };
      mu_.AwaitWithTimeout(absl::Condition(&grown), kLinger);
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
