// netpool::Pool is Python's multiprocessing.Pool over a netpool cluster: it
// submits jobs to a netpoold scheduler and hands back AsyncResult handles.
//
//   absl::StatusOr<netpool::Pool> pool = netpool::Pool::Connect("127.0.0.1:7340");
//   if (!pool.ok()) return 1;
//   netpool::AsyncResult r = pool->ApplyAsync("echo", {1, "two"});
//   absl::StatusOr<netpool::Value> v = r.Get(absl::Seconds(10));
//   absl::StatusOr<std::vector<netpool::Value>> squares = pool->Map("square", {1, 2, 3});
//   netpool::IMapIterator it = pool->IMapUnordered("square", {1, 2, 3});
//   for (auto next = it.Next(); !absl::IsOutOfRange(next.status()); next = it.Next()) { ... }
//   pool->Close();
//   absl::Status joined = pool->Join();
//
// The semantics follow CPython's multiprocessing.Pool point by point; where
// C++ differs (no exceptions, no garbage collector) the comments say so.
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

class Pool;
namespace internal {
class PoolClient;
// The connection behind a Pool, for netpool's own tests (a Pool::Local's
// scheduler admits only that connection's token).
PoolClient& ClientOf(const Pool& pool);
struct ResultState;
class MapResultState;
class IMapState;
// The submitted jobs behind a MapResult or an IMapIterator.
using JobHandles = std::vector<std::shared_ptr<ResultState>>;
}  // namespace internal

struct ConnectOptions {
  // How long Connect waits for the scheduler to answer.
  absl::Duration connect_timeout = absl::Seconds(10);
  // Use TLS and trust this CA (a PEM file). Empty: $NETPOOL_TLS_CA, else
  // plaintext.
  std::string tls_ca_file;
  // The token every call carries. Empty: read from token_file (mode 0600),
  // else $NETPOOL_TOKEN, else the file $NETPOOL_TOKEN_FILE names, else, for
  // a scheduler on loopback, the token it left for its own user (so the user
  // who started netpoold needs none of these).
  std::string token;
  std::string token_file;
};

// Per-job options, as Python's apply_async keywords plus scheduling hints.
struct CallOptions {
  // Called once with the result when the job succeeds, on a library thread
  // and before the result becomes ready (as in Python; keep it short, and do
  // not Get this result or Join the pool from it: both wait for the callback).
  std::function<void(const Value&)> callback;
  // Called once with the error when the job fails or is cancelled (including
  // by Terminate), under the same rules. A submission the pool refuses
  // because it is closed calls neither: the error is in the result, as Python
  // raises it at the call.
  std::function<void(const absl::Status&)> error_callback;
  // Run-time limit for the job on its worker; zero = none.
  absl::Duration timeout = absl::ZeroDuration();
  // Runs at most this often; a lost worker node or a crashed worker process
  // always uses up an attempt. 0 = scheduler default (3).
  int max_attempts = 0;
  // Whether the task's own error (not only a lost worker) is retried too.
  bool retry_on_error = false;
  // Wait before the first retry, doubling with each attempt (with jitter);
  // zero = scheduler default (1 s).
  absl::Duration retry_backoff = absl::ZeroDuration();
  // Submitting a key the scheduler already holds returns that job instead of
  // adding one (for example a nightly run submitted twice).
  std::string idempotency_key;
  int priority = 0;  // higher first
  // The job runs only on a node started with every one of these labels
  // (netpool-worker --label KEY=VALUE); until one is connected it waits.
  std::map<std::string, std::string> labels;
};

struct MapOptions {
  // Items per job: a chunk travels as one job, and its results come back
  // flattened, in input order. 0 = as Python: ceil(items / (4 * worker
  // slots)) for Map, Starmap and their Async forms, 1 for IMap and
  // IMapUnordered. Negative: kInvalidArgument.
  int chunksize = 0;
  // Scheduling fields apply to every job of the map. For MapAsync and
  // StarmapAsync (and Map, Starmap), `callback` gets the whole result list
  // once and `error_callback` the map's error once, as Python's map_async;
  // an empty map calls neither (as CPython). IMap and IMapUnordered take no
  // callbacks, as Python's imap: setting one is kInvalidArgument.
  CallOptions call;
};

// AsyncResult is a copyable handle on one submitted job.
class AsyncResult {
 public:
  // Waits for the result. Errors: the job's own error when it FAILED,
  // kCancelled when it was cancelled, kDeadlineExceeded when `timeout` passes
  // first (the job keeps running), kFailedPrecondition "pool is closed" when
  // it was submitted after Close(). After the result is ready every Get
  // returns the same value.
  absl::StatusOr<Value> Get(absl::Duration timeout = absl::InfiniteDuration()) const;
  // True when the job finished (in any state) within `timeout`.
  bool Wait(absl::Duration timeout = absl::InfiniteDuration()) const;
  bool Ready() const;
  // Whether the job succeeded. Error kFailedPrecondition if not ready yet.
  absl::StatusOr<bool> Successful() const;
  // Asks the scheduler to cancel the job.
  absl::Status Cancel() const;
  const std::string& id() const;

  // The job as an argument of another job: "this job's result". The
  // scheduler runs the dependent job once this one succeeded, with its
  // result in place of the reference:
  //   AsyncResult stage1 = pool.ApplyAsync("register_linear", {"sub-01.nii"});
  //   AsyncResult stage2 = pool.ApplyAsync("register_nonlinear", {stage1, 2});
  operator Value() const;

  // A handle with no job behind it; Get() returns kFailedPrecondition.
  AsyncResult() = default;
  explicit AsyncResult(std::shared_ptr<internal::ResultState> state);

 private:
  std::shared_ptr<internal::ResultState> state_;
};

// MapResult is a copyable handle on one MapAsync or StarmapAsync call, as
// Python's MapResult: it becomes ready when every item has finished.
class MapResult {
 public:
  // Waits for all items. Returns their results in input order, or, when any
  // item failed, the error of the first failed item in input order (the other
  // items still run to the end). kDeadlineExceeded when `timeout` passes
  // first; the jobs keep running.
  absl::StatusOr<std::vector<Value>> Get(
      absl::Duration timeout = absl::InfiniteDuration()) const;
  // True when every item finished within `timeout`.
  bool Wait(absl::Duration timeout = absl::InfiniteDuration()) const;
  bool Ready() const;
  // Whether every item succeeded. Error kFailedPrecondition if not ready yet.
  absl::StatusOr<bool> Successful() const;
  // Asks the scheduler to cancel the map's unfinished jobs; their items then
  // fail with kCancelled.
  absl::Status Cancel() const;

  // A handle with no map behind it; Get() returns kFailedPrecondition.
  MapResult() = default;
  MapResult(std::shared_ptr<internal::MapResultState> state,
            std::shared_ptr<const internal::JobHandles> jobs);

 private:
  std::shared_ptr<internal::MapResultState> state_;
  std::shared_ptr<const internal::JobHandles> jobs_;  // keep the pool's connection up
};

// IMapIterator hands over the results of one IMap or IMapUnordered call as
// they arrive, as Python's IMapIterator. Move-only: each result is handed
// over once.
class IMapIterator {
 public:
  // The next result: the next item in input order (IMap) or the next item to
  // finish (IMapUnordered). A failed item's error is returned in its place,
  // and the next call goes on with the following item (as Python re-raises per
  // item). Errors that are not an item's: kOutOfRange once every item has been
  // handed over (Python's StopIteration); kDeadlineExceeded when `timeout`
  // passes first (Python's TimeoutError; the same item is still to come); the
  // call's own error, e.g. kFailedPrecondition "pool is closed", from the
  // first Next, followed by kOutOfRange.
  absl::StatusOr<Value> Next(absl::Duration timeout = absl::InfiniteDuration());

  // An iterator over nothing: Next() returns kOutOfRange.
  IMapIterator() = default;
  IMapIterator(std::shared_ptr<internal::IMapState> state,
               std::shared_ptr<const internal::JobHandles> jobs);
  IMapIterator(IMapIterator&&) noexcept;
  IMapIterator& operator=(IMapIterator&&) noexcept;
  ~IMapIterator();

 private:
  std::shared_ptr<internal::IMapState> state_;
  std::shared_ptr<const internal::JobHandles> jobs_;  // keep the pool's connection up
};

// Pool is a movable handle on a connection to a scheduler.
//
// Lifetime: destroying a Pool neither waits nor cancels. Jobs it submitted
// keep running on the cluster, and every AsyncResult, MapResult and
// IMapIterator stays usable, because each keeps the connection alive. (Python's
// `with Pool()` terminates instead; a C++ scope end must not silently throw
// away work that a live handle is waiting on, nor block on work that may never
// end.) For Python's endings call them explicitly: Close() then Join() to wait
// for all outstanding work, or Terminate() to cancel it.
class Pool {
 public:
  static absl::StatusOr<Pool> Connect(std::string address, ConnectOptions options = {});
  // A pool with no daemon: a scheduler inside this process and `processes`
  // worker processes (0: one per core) spawned from this program, which runs
  // the functions it registered. The program must call netpool::Init(argc,
  // argv) first thing in main(). Same API and semantics as a remote pool;
  // the processes are stopped once the Pool and every handle above are gone.
  static absl::StatusOr<Pool> Local(int processes = 0);

  Pool(Pool&&) noexcept;
  Pool& operator=(Pool&&) noexcept;
  ~Pool();

  // Submits one job without waiting. Calls made while a submission awaits
  // the scheduler's confirmation are sent together in the next one; a lone
  // call goes out at once.
  AsyncResult ApplyAsync(std::string_view fn, std::vector<Value> args = {},
                         CallOptions options = {});
  // ApplyAsync + Get.
  absl::StatusOr<Value> Apply(std::string_view fn, std::vector<Value> args = {},
                              CallOptions options = {});

  // Calls fn(item) for each item, `options.chunksize` items per job. An empty
  // `items` is ready at once, with no RPC. With chunksize 0 the pool asks the
  // scheduler for its slot count (one RPC) before submitting.
  MapResult MapAsync(std::string_view fn, std::vector<Value> items, MapOptions options = {});
  // As MapAsync, but each item is an argument list: fn(*item).
  MapResult StarmapAsync(std::string_view fn, std::vector<std::vector<Value>> items,
                         MapOptions options = {});
  // MapAsync + Get: the results in input order, or the first failed item's
  // error (in input order) once all items are done.
  absl::StatusOr<std::vector<Value>> Map(std::string_view fn, std::vector<Value> items,
                                         MapOptions options = {});
  // StarmapAsync + Get.
  absl::StatusOr<std::vector<Value>> Starmap(std::string_view fn,
                                             std::vector<std::vector<Value>> items,
                                             MapOptions options = {});

  // Calls fn(item) for each item; the iterator yields results in input order
  // as soon as each is in (a late item holds back the ones after it).
  IMapIterator IMap(std::string_view fn, std::vector<Value> items, MapOptions options = {});
  // As IMap, but the iterator yields results in the order they finish.
  IMapIterator IMapUnordered(std::string_view fn, std::vector<Value> items,
                             MapOptions options = {});

  // Refuses further submissions: a later ApplyAsync, map or IMap call fails
  // with kFailedPrecondition "pool is closed". Jobs already submitted go on.
  void Close();
  // Waits until every job this pool submitted has finished and its callbacks
  // have run. kFailedPrecondition when the pool was not closed (Close or
  // Terminate) first, as Python's ValueError, or when called from a callback.
  absl::Status Join();
  // Closes the pool and cancels every unfinished job on the scheduler (running
  // ones are killed); their results become kCancelled and their
  // error_callbacks run. Returns once those results are in; when the
  // scheduler cannot be reached it gives up after the RPC timeout plus ten
  // seconds, and the results stay pending.
  void Terminate();

  // Total worker slots the scheduler knows of.
  absl::StatusOr<int> Slots();

  const std::string& address() const;

 private:
  friend internal::PoolClient& internal::ClientOf(const Pool& pool);
  explicit Pool(std::shared_ptr<internal::PoolClient> client);

  std::shared_ptr<internal::PoolClient> client_;
};

}  // namespace netpool

#endif  // NETPOOL_POOL_H_
