#include "client/imap_state.h"

#include <utility>

#include "absl/strings/str_cat.h"

namespace netpool {
namespace internal {

IMapState::IMapState(ChunkPlan plan, Order order)
    : plan_(std::move(plan)), order_(order) {}

IMapState::IMapState(absl::Status error)
    : plan_(0, 1), order_(Order::kInput), start_error_(std::move(error)) {}

void IMapState::ChunkDone(size_t chunk, absl::StatusOr<Value> job_result) {
  const ChunkPlan::Chunk& planned = plan_.chunks()[chunk];
  absl::StatusOr<std::vector<Value>> values = plan_.ItemResults(std::move(job_result), planned);
  std::vector<absl::StatusOr<Value>> results;
  results.reserve(planned.count);
  for (size_t i = 0; i < planned.count; ++i) {
    if (values.ok()) {
      results.push_back(std::move((*values)[i]));
    } else {
      results.push_back(values.status());
    }
  }

  absl::MutexLock lock(&mutex_);
  if (order_ == Order::kCompletion) {
    for (auto& result : results) ready_.push_back(std::move(result));
    return;
  }
  early_[chunk] = std::move(results);
  for (auto it = early_.find(next_chunk_); it != early_.end(); it = early_.find(next_chunk_)) {
    for (auto& result : it->second) ready_.push_back(std::move(result));
    early_.erase(it);
    ++next_chunk_;
  }
}

absl::StatusOr<Value> IMapState::Next(absl::Time deadline) {
  absl::MutexLock lock(&mutex_);
  if (!start_error_.ok()) return std::exchange(start_error_, absl::OkStatus());
  mutex_.AwaitWithDeadline(absl::Condition(this, &IMapState::HasNextOrEnded), deadline);
  if (!ready_.empty()) {
    absl::StatusOr<Value> next = std::move(ready_.front());
    ready_.pop_front();
    ++handed_out_;
    return next;
  }
  if (handed_out_ == plan_.items()) {
    return absl::OutOfRangeError(absl::StrCat("all ", plan_.items(), " results were handed out"));
  }
  return absl::DeadlineExceededError(absl::StrCat(
      "the next result (", handed_out_ + 1, " of ", plan_.items(), ") was not in by the deadline"));
}

}  // namespace internal
}  // namespace netpool
