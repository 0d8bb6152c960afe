// netpool::Pool is Python's multiprocessing.Pool over a netpool cluster: it
// submits jobs to a netpoold scheduler and hands back AsyncResult handles.
//
//   absl::StatusOr<netpool::Pool> pool = netpool::Pool::Connect("127.0.0.1:7340");
//   if (!pool.ok()) return 1;
//   netpool::AsyncResult r = pool->ApplyAsync("echo", {1, "two"});
//   absl::StatusOr<netpool::Value> v = r.Get(absl::Seconds(10));
//   absl::StatusOr<std::vector<netpool::Value>> squares = pool->Map("square", {1, 2, 3});
#ifndef NETPOOL_POOL_H_
#define NETPOOL_POOL_H_

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "netpool/value.h"

namespace netpool {

namespace internal {
class PoolClient;
struct ResultState;
}  // namespace internal

struct ConnectOptions {
  // How long Connect waits for the scheduler to answer.
  absl::Duration connect_timeout = absl::Seconds(10);
};

// Per-job options, as Python's apply_async keywords plus scheduling hints.
struct CallOptions {
  // Called once with the result when the job succeeds (on a library thread;
  // keep it short, as in Python).
  std::function<void(const Value&)> callback;
  // Called once with the error when the job fails or is cancelled.
  std::function<void(const absl::Status&)> error_callback;
  // Run-time limit for the job on its worker; zero = none.
  absl::Duration timeout = absl::ZeroDuration();
  int max_attempts = 0;  // 0 = scheduler default
  int priority = 0;      // higher first
  std::map<std::string, std::string> labels;
};

struct MapOptions {
  // Items per job. 0 = as Python: ceil(items / (4 * worker slots)).
  int chunksize = 0;
  CallOptions call;
};

// AsyncResult is a copyable handle on one submitted job.
class AsyncResult {
 public:
  // Waits for the result. Errors: the job's own error when it FAILED,
  // kCancelled when it was cancelled, kDeadlineExceeded when `timeout` passes
  // first (the job keeps running).
  absl::StatusOr<Value> Get(absl::Duration timeout = absl::InfiniteDuration()) const;
  // True when the job finished (in any state) within `timeout`.
  bool Wait(absl::Duration timeout = absl::InfiniteDuration()) const;
  bool Ready() const;
  // Whether the job succeeded. Error kFailedPrecondition if not ready yet.
  absl::StatusOr<bool> Successful() const;
  // Asks the scheduler to cancel the job.
  absl::Status Cancel() const;
  const std::string& id() const;

  // A handle with no job behind it; Get() returns kFailedPrecondition.
  AsyncResult() = default;
  explicit AsyncResult(std::shared_ptr<internal::ResultState> state);

 private:
  std::shared_ptr<internal::ResultState> state_;
};

// Pool is a movable handle on a connection to a scheduler.
class Pool {
 public:
  static absl::StatusOr<Pool> Connect(std::string address, ConnectOptions options = {});

  Pool(Pool&&) noexcept;
  Pool& operator=(Pool&&) noexcept;
  ~Pool();

  // Submits one job without waiting. Calls made while a Submit RPC is in
  // flight are sent together in the next one; a lone call goes out at once.
  AsyncResult ApplyAsync(std::string_view fn, std::vector<Value> args = {},
                         CallOptions options = {});
  // ApplyAsync + Get.
  absl::StatusOr<Value> Apply(std::string_view fn, std::vector<Value> args = {},
                              CallOptions options = {});
  // Calls fn(item) for each item; results in input order. Returns the first
  // failed item's error (in input order) once all items are done.
  absl::StatusOr<std::vector<Value>> Map(std::string_view fn, std::vector<Value> items,
                                         MapOptions options = {});
  // As Map, but each item is an argument list: fn(*item).
  absl::StatusOr<std::vector<Value>> Starmap(std::string_view fn,
                                             std::vector<std::vector<Value>> items,
                                             MapOptions options = {});

  // Total worker slots the scheduler knows of.
  absl::StatusOr<int> Slots();

  const std::string& address() const;

 private:
  explicit Pool(std::shared_ptr<internal::PoolClient> client);
  std::shared_ptr<internal::PoolClient> client_;
};

}  // namespace netpool

#endif  // NETPOOL_POOL_H_
