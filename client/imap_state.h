// IMapState is what an IMapIterator points at: the outcomes of one IMap or
// IMapUnordered call's chunk jobs, handed out item by item, in input order
// (a chunk that finishes early waits in a buffer until the chunks before it
// are in) or in completion order. It knows nothing of RPCs; the chunk jobs'
// completion callbacks feed it.
//
//   auto state = std::make_shared<IMapState>(plan, IMapState::Order::kInput);
//   ... each chunk job, when it finishes: state->ChunkDone(i, job_outcome);
//   absl::StatusOr<Value> first = state->Next(absl::InfiniteFuture());
#ifndef NETPOOL_CLIENT_IMAP_STATE_H_
#define NETPOOL_CLIENT_IMAP_STATE_H_

#include <cstddef>
#include <deque>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "client/chunk_plan.h"
#include "netpool/value.h"

namespace netpool {
namespace internal {

class IMapState {
 public:
  enum class Order { kInput, kCompletion };

  IMapState(ChunkPlan plan, Order order);
  // A call that could not start: Next returns `error` once, then kOutOfRange.
  explicit IMapState(absl::Status error);

  IMapState(const IMapState&) = delete;
  IMapState& operator=(const IMapState&) = delete;

  // Records the outcome of chunk `chunk`'s job: its items' results, or, when
  // it failed, its error once for each of its items.
  // REQUIRES: called once per chunk.
  void ChunkDone(size_t chunk, absl::StatusOr<Value> job_result);

  // The next item's result or error, as IMapIterator::Next describes.
  absl::StatusOr<Value> Next(absl::Time deadline);

 private:
  bool HasNextOrEnded() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_) {
    return !ready_.empty() || handed_out_ == plan_.items();
  }

  // Constant after construction.
  const ChunkPlan plan_;
  const Order order_;

  absl::Mutex mutex_;
  // Results that may be handed out now, in the order Next hands them out.
  std::deque<absl::StatusOr<Value>> ready_ ABSL_GUARDED_BY(mutex_);
  // kInput only: chunks that finished before an earlier one, by index, and
  // the index of the chunk whose items go to ready_ next.
  absl::flat_hash_map<size_t, std::vector<absl::StatusOr<Value>>> early_ ABSL_GUARDED_BY(mutex_);
  size_t next_chunk_ ABSL_GUARDED_BY(mutex_) = 0;
  size_t handed_out_ ABSL_GUARDED_BY(mutex_) = 0;
  // Why the call could not start, until the first Next has returned it.
  absl::Status start_error_ ABSL_GUARDED_BY(mutex_);
};

}  // namespace internal
}  // namespace netpool

#endif  // NETPOOL_CLIENT_IMAP_STATE_H_
