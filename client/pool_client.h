// PoolClient is the shared state behind a Pool and its AsyncResults: the
// scheduler connection, the coalescing submitter and the result stream. Every
// result handle holds a reference, so a PoolClient lives until the Pool and
// all of its results are gone; then it flushes queued submissions, closes the
// stream and stops its threads.
//
//   absl::StatusOr<std::shared_ptr<PoolClient>> client = PoolClient::Connect(address, {});
//   std::shared_ptr<ResultState> result = (*client)->Submit(spec, call_options);
//   result->WaitUntil(absl::InfiniteFuture());
#ifndef NETPOOL_CLIENT_POOL_CLIENT_H_
#define NETPOOL_CLIENT_POOL_CLIENT_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "client/reconnector.h"
#include "client/result_state.h"
#include "client/result_watcher.h"
#include "client/scheduler_client.h"
#include "client/submit_queue.h"
#include "netpool/pool.h"
#include "netpool/v1/netpool.pb.h"

namespace netpool {
namespace internal {

class PoolClient : public std::enable_shared_from_this<PoolClient> {
 public:
  // How long a Submit is sent again while the scheduler is unreachable,
  // unless the caller says otherwise (a restart takes a few seconds; a dead
  // scheduler should not hang callers).
  static constexpr absl::Duration kDefaultRetryFor = absl::Seconds(60);

  // Connects to the scheduler at `address`. With kRetryUntilTimeout (the
  // library's choice) RPCs also wait out a scheduler restart; with kFailFast
  // (the CLI's) a refused connection is kUnavailable at once.
  static absl::StatusOr<std::shared_ptr<PoolClient>> Connect(
      std::string address, const ConnectOptions& options,
      SchedulerClient::ConnectMode mode = SchedulerClient::ConnectMode::kRetryUntilTimeout);
  // The same with the SchedulerClient's options given outright, and how the
  // client rides through an unreachable scheduler: Submits are sent again
  // and the result stream reopened until `reconnect` gives up; then the
  // unfinished jobs fail with its error.
  static absl::StatusOr<std::shared_ptr<PoolClient>> Connect(
      std::string address, absl::Duration connect_timeout,
      const SchedulerClient::Options& rpc_options, SchedulerClient::ConnectMode mode,
      Reconnector::Options reconnect = {.retry_for = kDefaultRetryFor});

  ~PoolClient();
  PoolClient(const PoolClient&) = delete;
  PoolClient& operator=(const PoolClient&) = delete;

  // Names the job (spec.job_id), applies the scheduling fields of `options`,
  // and queues it for the submitter. Never waits on the network. Returns a
  // handle on the job's result that also keeps this client alive. The
  // callbacks in `options` run once, on a library thread, before the result
  // becomes ready (as in Python), even if every handle is gone by then; a
  // callback that throws is logged. After Close() the handle is ready at once
  // with kFailedPrecondition "pool is closed" and no callback runs.
  std::shared_ptr<ResultState> Submit(v1::JobSpec spec, const CallOptions& options);
  // Takes a finished job's result (or error) for good, in place of the
  // callbacks: a map's chunk hands its thousands of results to the map
  // without a copy. The job's own handle then holds a null value.
  using ResultSink = std::function<void(absl::StatusOr<Value>)>;

  // As Submit for each job (options[i] goes with specs[i]), all or none:
  // after Close() nothing is queued and the answer is kFailedPrecondition
  // "pool is closed". `sinks` is empty or has one per job.
  absl::StatusOr<std::vector<std::shared_ptr<ResultState>>> SubmitAll(
      std::vector<v1::JobSpec> specs, const std::vector<CallOptions>& options,
      std::vector<ResultSink> sinks = {});

  // Asks the scheduler to cancel the jobs that have not finished, once their
  // submissions have returned.
  absl::Status Cancel(const ResultState& job);
  absl::Status Cancel(const std::vector<std::shared_ptr<ResultState>>& jobs);

  // Python's Pool.close(), join() and terminate(), for every job this client
  // submitted; Pool documents them.
  void Close();
  absl::Status Join();
  void Terminate();
  // OK, or kFailedPrecondition "pool is closed" after Close or Terminate.
  absl::Status CheckOpen() const;

  // Makes this client the owner of `dependency` (Pool::Local's embedded
  // scheduler and node), destroyed once the client's threads have stopped.
  // REQUIRES: called before the client is shared.
  void Own(std::shared_ptr<void> dependency) { owned_ = std::move(dependency); }

  SchedulerClient& scheduler() { return *scheduler_; }
  const std::string& address() const { return scheduler_->address(); }

 private:
  struct Pending {
    std::shared_ptr<ResultState> state;
    std::function<void(const Value&)> callback;
    std::function<void(const absl::Status&)> error_callback;
    ResultSink sink;
    bool submitted = false;  // the scheduler confirmed it
  };

  PoolClient(std::unique_ptr<SchedulerClient> scheduler, Reconnector::Options reconnect);

  // The deleter of every PoolClient: when the last reference goes on one of
  // the client's own threads (only a user callback that captured a handle
  // can make that happen), the destructor, which joins those threads, runs on
  // a fresh thread instead.
  static void Delete(PoolClient* client);

  // True on the submitter or the watcher thread, where callbacks run.
  bool OnLibraryThread() const;
  // A handle on `state` that also owns this client.
  std::shared_ptr<ResultState> Handle(std::shared_ptr<ResultState> state);
  // One Cancel RPC per batch of ids.
  absl::Status CancelIds(const std::vector<std::string>& ids);

  // Runs on the submitter thread: submits the batch on the Watch stream and
  // waits until the scheduler confirmed or refused each job, sending again
  // those it cannot take for now (as reconnector_ says).
  void SendBatch(std::vector<v1::JobSpec> batch);
  // Run on the watcher thread.
  void OnResult(v1::JobResult result);
  void OnGiveUp(const std::vector<std::string>& job_ids, const absl::Status& error);
  // Runs the job's callbacks, then completes its result.
  void Finish(const std::string& job_id, Outcome outcome);

  // First, so that it goes last. Set once, before the client is shared.
  std::shared_ptr<void> owned_;

  // Constant after construction.
  const std::unique_ptr<SchedulerClient> scheduler_;
  // Shared by the submitter and the watcher, so that they give up together.
  Reconnector reconnector_;

  mutable absl::Mutex mutex_;
  // Jobs whose result has not arrived, by id.
  absl::flat_hash_map<std::string, Pending> pending_ ABSL_GUARDED_BY(mutex_);
  // Jobs submitted and not finished, counting a finished job until its
  // callbacks have run (what Join waits for).
  size_t outstanding_ ABSL_GUARDED_BY(mutex_) = 0;
  bool closed_ ABSL_GUARDED_BY(mutex_) = false;
  // Set by Terminate: jobs whose submission is confirmed afterwards are
  // cancelled at once.
  bool terminated_ ABSL_GUARDED_BY(mutex_) = false;

  // Threads last, so they start after, and stop before, what they use.
  std::unique_ptr<ResultWatcher> watcher_;
  std::unique_ptr<SubmitQueue> submit_queue_;
};

}  // namespace internal
}  // namespace netpool

#endif  // NETPOOL_CLIENT_POOL_CLIENT_H_
