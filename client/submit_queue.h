// SubmitQueue is the coalescing submitter behind Pool::ApplyAsync: Push()
// never waits on the network; one sender thread hands everything queued to
// the send function in one batch. A lone job goes out at once; jobs pushed
// while a batch is being sent wait for that send and then travel together.
//
//   SubmitQueue queue([&](std::vector<v1::JobSpec> batch) { /* one submission */ });
//   queue.Push(spec);
#ifndef NETPOOL_CLIENT_SUBMIT_QUEUE_H_
#define NETPOOL_CLIENT_SUBMIT_QUEUE_H_

#include <cstddef>
#include <functional>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "netpool/v1/netpool.pb.h"

namespace netpool {

class SubmitQueue {
 public:
  using SendFunction = std::function<void(std::vector<v1::JobSpec> batch)>;

  // How big one batch may grow (it always holds at least one job): well
  // under gRPC's 4 MiB message limit and the scheduler's jobs per Submit.
  // The scheduler admits a whole Submit under its lock, and results wait
  // meanwhile, so a batch stays around a millisecond of its work.
  struct Limits {
    size_t max_jobs = 1'000;
    size_t max_bytes = size_t{1} << 20;
  };

  explicit SubmitQueue(SendFunction send) : SubmitQueue(std::move(send), Limits()) {}
  SubmitQueue(SendFunction send, Limits limits);
  // Sends whatever is still queued, then stops the sender thread.
  ~SubmitQueue();

  SubmitQueue(const SubmitQueue&) = delete;
  SubmitQueue& operator=(const SubmitQueue&) = delete;

  void Push(v1::JobSpec spec);

  // True on the sender thread (where the send function runs).
  bool OnSenderThread() const { return std::this_thread::get_id() == sender_.get_id(); }

 private:
  void Run();
  bool HasWorkOrStopping() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);

  // Constant after construction.
  const SendFunction send_;
  const Limits limits_;

  absl::Mutex mutex_;
  std::vector<v1::JobSpec> queued_ ABSL_GUARDED_BY(mutex_);
  bool stopping_ ABSL_GUARDED_BY(mutex_) = false;

  std::thread sender_;  // last: starts after the fields above exist
};

}  // namespace netpool

#endif  // NETPOOL_CLIENT_SUBMIT_QUEUE_H_
