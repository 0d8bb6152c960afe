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
  // Connects to the scheduler at `address`. With kRetryUntilTimeout (the
  // library's choice) RPCs also wait out a scheduler restart; with kFailFast
  // (the CLI's) a refused connection is kUnavailable at once.
  static absl::StatusOr<std::shared_ptr<PoolClient>> Connect(
      std::string address, const ConnectOptions& options,
      SchedulerClient::ConnectMode mode = SchedulerClient::ConnectMode::kRetryUntilTimeout);

  ~PoolClient();
  PoolClient(const PoolClient&) = delete;
  PoolClient& operator=(const PoolClient&) = delete;

  // Names the job (spec.job_id), applies the scheduling fields of `options`,
  // and queues it for the submitter. Never waits on the network. Returns a
  // handle on the job's result that also keeps this client alive. The
  // callbacks in `options` run once, on a library thread, before the result
  // becomes ready (as in Python), even if every handle is gone by then; a
  // callback that throws is logged.
  std::shared_ptr<ResultState> Submit(v1::JobSpec spec, const CallOptions& options);

  // Asks the scheduler to cancel the job, once its submission has returned.
  // Nothing to do when the submission failed.
  absl::Status Cancel(const ResultState& job);

  SchedulerClient& scheduler() { return *scheduler_; }
  const std::string& address() const { return scheduler_->address(); }

 private:
  struct Pending {
    std::shared_ptr<ResultState> state;
    std::function<void(const Value&)> callback;
    std::function<void(const absl::Status&)> error_callback;
  };

  explicit PoolClient(std::unique_ptr<SchedulerClient> scheduler);

  // The deleter of every PoolClient: when the last reference goes on one of
  // the client's own threads (only a user callback that captured a handle
  // can make that happen), the destructor, which joins those threads, runs on
  // a fresh thread instead.
  static void Delete(PoolClient* client);

  // Runs on the submitter thread: one Submit RPC for the batch.
  void SendBatch(std::vector<v1::JobSpec> batch);
  // Runs on the watcher thread.
  void OnResult(v1::JobResult result);
  // Runs the job's callbacks, then completes its result.
  void Finish(const std::string& job_id, Outcome outcome);

  // Constant after construction.
  const std::unique_ptr<SchedulerClient> scheduler_;

  absl::Mutex mutex_;
  absl::flat_hash_map<std::string, Pending> pending_ ABSL_GUARDED_BY(mutex_);

  // Threads last, so they start after, and stop before, what they use.
  std::unique_ptr<ResultWatcher> watcher_;
  std::unique_ptr<SubmitQueue> submit_queue_;
};

}  // namespace internal
}  // namespace netpool

#endif  // NETPOOL_CLIENT_POOL_CLIENT_H_
