// MapResultState is what a MapResult points at: it gathers the outcome of
// each chunk job of one MapAsync or StarmapAsync call into the flat list of
// item results (or the map's error), runs the map's callbacks once, and then
// wakes the waiters. It knows nothing of RPCs; the chunk jobs' completion
// callbacks feed it.
//
//   auto state = std::make_shared<MapResultState>(plan, callbacks);
//   ... each chunk job, when it finishes: state->ChunkDone(i, job_outcome);
//   state->WaitUntil(absl::InfiniteFuture());
//   const absl::StatusOr<std::vector<Value>>& all = state->result();
#ifndef NETPOOL_CLIENT_MAP_RESULT_STATE_H_
#define NETPOOL_CLIENT_MAP_RESULT_STATE_H_

#include <cstddef>
#include <functional>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "client/chunk_plan.h"
#include "netpool/value.h"

namespace netpool {
namespace internal {

class MapResultState {
 public:
  // As Python's map_async: `callback` gets the whole result list, or
  // `error_callback` the map's error, once, when the last chunk is in.
  struct Callbacks {
    std::function<void(const Value&)> callback;
    std::function<void(const absl::Status&)> error_callback;
  };

  // A map of plan.chunks() jobs. A plan with no chunks (empty input) is ready
  // at once with an empty list and calls no callback (as CPython).
  MapResultState(ChunkPlan plan, Callbacks callbacks);
  // A map that could not start: ready at once with `error`; no callback runs
  // (as Python raises at the call).
  explicit MapResultState(absl::Status error);

  MapResultState(const MapResultState&) = delete;
  MapResultState& operator=(const MapResultState&) = delete;

  // Records the outcome of chunk `chunk`'s job. The last one settles the
  // result: the items' results in input order, or the error of the first
  // failed item in input order; then the callback runs, then waiters wake.
  // REQUIRES: called once per chunk.
  void ChunkDone(size_t chunk, absl::StatusOr<Value> job_result);

  // True when the map finished before `deadline`.
  bool WaitUntil(absl::Time deadline) const;
  bool Ready() const;
  // REQUIRES: Ready().
  const absl::StatusOr<std::vector<Value>>& result() const { return result_; }
  // The result, moved out. REQUIRES: Ready(), and nobody reads it afterwards.
  absl::StatusOr<std::vector<Value>> TakeResult() { return std::move(result_); }

 private:
  bool Done() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_) { return done_; }

  // Constant after construction.
  const ChunkPlan plan_;
  const Callbacks callbacks_;

  mutable absl::Mutex mutex_;
  size_t chunks_left_ ABSL_GUARDED_BY(mutex_);
  std::vector<Value> values_ ABSL_GUARDED_BY(mutex_);  // by input index
  // The failed chunk with the lowest index so far, and its error.
  size_t first_failed_chunk_ ABSL_GUARDED_BY(mutex_);
  absl::Status first_error_ ABSL_GUARDED_BY(mutex_);
  bool done_ ABSL_GUARDED_BY(mutex_) = false;
  // Written once, before done_ is set; read-only afterwards.
  absl::StatusOr<std::vector<Value>> result_;
};

}  // namespace internal
}  // namespace netpool

#endif  // NETPOOL_CLIENT_MAP_RESULT_STATE_H_
