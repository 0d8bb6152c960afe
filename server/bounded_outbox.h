// BoundedOutbox is the queue between code that decides what to send on a
// gRPC stream (under the scheduler lock, never blocking) and the stream's
// writer, which has one write in flight at a time and no thread of its own:
// what queues while a write is in flight goes out as the next batch. The
// queued messages may hold at most `max_bytes` (their ByteSizeLong()): a
// reader that falls that far behind is not waited for, so that a client that
// stops reading cannot grow the scheduler without bound.
#ifndef NETPOOL_SERVER_BOUNDED_OUTBOX_H_
#define NETPOOL_SERVER_BOUNDED_OUTBOX_H_

#include <cstddef>
#include <deque>
#include <functional>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"

namespace netpool {

// The most one batch holds (but at least one message), so that the batch
// stays a message any client can take.
inline constexpr size_t kMaxBatchBytes = 4 << 20;

template <typename T>
class BoundedOutbox {
 public:
  // Starts writing `batch` (e.g. ServerBidiReactor::StartWrite); called with
  // the outbox's lock held, so it must neither block nor call the outbox.
  using WriteFn = std::function<void(std::vector<T>& batch)>;

  BoundedOutbox(size_t max_bytes, WriteFn write)
      : max_bytes_(max_bytes), write_(std::move(write)) {}

  // Queues `item`, or hands it to `write` at once when no write is in
  // flight. kResourceExhausted (naming `max_bytes`) when the queued messages
  // would hold more than max_bytes: everything queued is then dropped and the
  // outbox is closed. Dropped silently once closed.
  absl::Status Push(T item) {
    absl::MutexLock lock(&mu_);
    if (closed_) return absl::OkStatus();
    const size_t size = item.ByteSizeLong();
    if (queued_bytes_ + size > max_bytes_) {
      const size_t wanted = queued_bytes_ + size;
      DiscardLocked();
      return absl::ResourceExhaustedError(
          absl::StrCat("the stream's reader is ", wanted, " bytes behind, more than the ",
                       max_bytes_, " bytes the scheduler keeps for one stream"));
    }
    items_.push_back({std::move(item), size});
    queued_bytes_ += size;
    if (!writing_) WriteNextLocked();
    return absl::OkStatus();
  }

  // The batch last handed to `write` is written: hands over what queued
  // meanwhile. True when the outbox is closed and all of it is written.
  bool WriteDone() {
    absl::MutexLock lock(&mu_);
    writing_ = false;
    if (!items_.empty()) WriteNextLocked();
    return closed_ && !writing_;
  }

  // Takes no more items; what is queued is still written. True when all of
  // it already is (otherwise the last WriteDone says so).
  bool Close() {
    absl::MutexLock lock(&mu_);
    closed_ = true;
    return !writing_;
  }

  // As Close, dropping what is queued.
  void Discard() {
    absl::MutexLock lock(&mu_);
    DiscardLocked();
  }

  size_t queued_bytes() const {
    absl::MutexLock lock(&mu_);
    return queued_bytes_;
  }

 private:
  void WriteNextLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    std::vector<T> batch;
    size_t batch_bytes = 0;
    while (!items_.empty() &&
           (batch.empty() || batch_bytes + items_.front().second <= kMaxBatchBytes)) {
      batch_bytes += items_.front().second;
      batch.push_back(std::move(items_.front().first));
      items_.pop_front();
    }
    queued_bytes_ -= batch_bytes;
    writing_ = true;
    write_(batch);
  }

  void DiscardLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    closed_ = true;
    items_.clear();
    queued_bytes_ = 0;
  }

  const size_t max_bytes_;
  const WriteFn write_;
  mutable absl::Mutex mu_;
  // Each with its ByteSizeLong().
  std::deque<std::pair<T, size_t>> items_ ABSL_GUARDED_BY(mu_);
  size_t queued_bytes_ ABSL_GUARDED_BY(mu_) = 0;
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace netpool

#endif  // NETPOOL_SERVER_BOUNDED_OUTBOX_H_
