// ResultWatcher keeps one long-lived Watch stream to the scheduler, submits
// jobs on it, and hands each watched job's result to a callback exactly
// once. If the stream breaks it reconnects, paced by a Reconnector, sends
// again the jobs the scheduler had not yet confirmed (it takes a job it
// holds as that job) and watches every id still unanswered again (the
// scheduler answers at once for jobs that finished meanwhile). When the
// Reconnector gives up on an unreachable scheduler, the unanswered ids go to
// a second callback with its error instead.
//
//   ResultWatcher watcher(&scheduler, [](v1::JobResult r) { ... });
//   ResultWatcher::Submission s = watcher.SubmitAndWatch(std::move(specs));
//   watcher.Watch({"j-1", "j-2"});  // jobs submitted some other way
#ifndef NETPOOL_CLIENT_RESULT_WATCHER_H_
#define NETPOOL_CLIENT_RESULT_WATCHER_H_

#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/container/flat_hash_set.h"
#include "absl/synchronization/mutex.h"
#include "client/reconnector.h"
#include "client/scheduler_client.h"
#include "grpcpp/client_context.h"
#include "netpool/v1/netpool.pb.h"

namespace netpool {

class ResultWatcher {
 public:
  // Both run on the watcher's reader thread, with no lock held.
  using ResultCallback = std::function<void(v1::JobResult result)>;
  using GiveUpCallback =
      std::function<void(const std::vector<std::string>& job_ids, const absl::Status& error)>;

  // `scheduler` and `reconnector` must outlive the watcher; without a
  // reconnector it never gives up. Opens the stream at once.
  ResultWatcher(SchedulerClient* scheduler, ResultCallback on_result,
                Reconnector* reconnector = nullptr, GiveUpCallback on_give_up = nullptr);
  // Closes the stream and stops the reader thread; results that have not
  // arrived yet are not delivered.
  ~ResultWatcher();

  ResultWatcher(const ResultWatcher&) = delete;
  ResultWatcher& operator=(const ResultWatcher&) = delete;

  // What became of the jobs of one SubmitAndWatch.
  struct Submission {
    // The scheduler holds them durably.
    std::vector<std::string> accepted;
    // Refused for now with kUnavailable (the scheduler cannot take jobs at
    // the moment, say while its disk is full): `unavailable` says why; the
    // caller sends them again after a pause, or gives up on them.
    std::vector<v1::JobSpec> refused_for_now;
    absl::Status unavailable;
  };

  // Submits the jobs (each with its job_id set) in one message and watches
  // them; blocks until the scheduler holds each one, refused it, or the
  // watcher gave up on it. A job refused for good, or given up on, goes to
  // the callbacks as its result. One caller at a time.
  Submission SubmitAndWatch(std::vector<v1::JobSpec> specs);
  // Asks for these jobs' results.
  void Watch(std::vector<std::string> job_ids);

  // True on the reader thread (where the callback runs).
  bool OnReaderThread() const { return std::this_thread::get_id() == reader_.get_id(); }

 private:
  using Stream = SchedulerClient::WatchStream;

  void Run();
  // One stream, from opening it until it breaks; returns why it broke.
  absl::Status RunStream();
  void Deliver(v1::WatchResponse response);
  bool Settled() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_) {
    return unsettled_.empty() || stopping_;
  }
  // After a stream broke with `status`: how long to wait before the next one;
  // hands the unanswered ids to on_give_up_ when the reconnector gives up.
  absl::Duration AfterBreak(const absl::Status& status);
  bool Stopping() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_) { return stopping_; }

  // Constant after construction.
  SchedulerClient* const scheduler_;
  const ResultCallback on_result_;
  const GiveUpCallback on_give_up_;
  // Used when the caller gives none: one that never gives up.
  Reconnector own_reconnector_{{.retry_for = absl::InfiniteDuration()}};
  Reconnector* const reconnector_;

  // Serialises writes on the stream (gRPC allows one writer at a time) and
  // the stream's Finish, which must not overlap a write. Taken before mutex_.
  absl::Mutex write_mutex_ ABSL_ACQUIRED_BEFORE(mutex_);
  // The jobs of the SubmitAndWatch in flight, sent again on a new stream.
  v1::WatchRequest submitting_ ABSL_GUARDED_BY(write_mutex_);

  absl::Mutex mutex_;
  // Watched ids whose result has not arrived.
  absl::flat_hash_set<std::string> unanswered_ ABSL_GUARDED_BY(mutex_);
  // The SubmitAndWatch in flight: the ids the scheduler has neither
  // confirmed nor refused, those it refused for now, and those it holds.
  // Its request is submitting_.
  absl::flat_hash_set<std::string> unsettled_ ABSL_GUARDED_BY(mutex_);
  absl::flat_hash_set<std::string> refused_for_now_ ABSL_GUARDED_BY(mutex_);
  Submission submission_ ABSL_GUARDED_BY(mutex_);
  // The live stream and its context; null between streams.
  std::shared_ptr<Stream> stream_ ABSL_GUARDED_BY(mutex_);
  grpc::ClientContext* context_ ABSL_GUARDED_BY(mutex_) = nullptr;
  bool stopping_ ABSL_GUARDED_BY(mutex_) = false;

  std::thread reader_;  // last: starts after the fields above exist
};

}  // namespace netpool

#endif  // NETPOOL_CLIENT_RESULT_WATCHER_H_
