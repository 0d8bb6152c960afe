#include "client/map_result_state.h"

#include <limits>
#include <utility>

#include "absl/strings/str_cat.h"
#include "client/user_callback.h"

namespace netpool {
namespace internal {
namespace {

constexpr size_t kNoChunk = std::numeric_limits<size_t>::max();

}  // namespace

MapResultState::MapResultState(ChunkPlan plan, Callbacks callbacks)
    : plan_(std::move(plan)),
      callbacks_(std::move(callbacks)),
      chunks_left_(plan_.chunks().size()),
      values_(plan_.items()),
      first_failed_chunk_(kNoChunk) {
  if (chunks_left_ == 0) {
    result_ = std::vector<Value>();
    done_ = true;
  }
}

MapResultState::MapResultState(absl::Status error)
    : plan_(0, 1), chunks_left_(0), first_failed_chunk_(kNoChunk) {
  result_ = std::move(error);
  done_ = true;
}

void MapResultState::ChunkDone(size_t chunk, absl::StatusOr<Value> job_result) {
  absl::StatusOr<std::vector<Value>> chunk_results =
      plan_.ItemResults(std::move(job_result), plan_.chunks()[chunk]);
  {
    absl::MutexLock lock(&mutex_);
    if (chunk_results.ok()) {
      const size_t first = plan_.chunks()[chunk].first;
      for (size_t i = 0; i < chunk_results->size(); ++i) {
        values_[first + i] = std::move((*chunk_results)[i]);
      }
    } else if (chunk < first_failed_chunk_) {
      first_failed_chunk_ = chunk;
      first_error_ = chunk_results.status();
    }
    if (--chunks_left_ > 0) return;
    if (first_error_.ok()) {
      result_ = std::move(values_);
    } else {
      result_ = first_error_;
    }
  }
  // The last chunk is in and nobody else writes result_ any more. The
  // callback runs before the map is ready, as in Python, and with no lock
  // held, so that it may call anything but this map's Get.
  const std::string what = absl::StrCat("map of ", plan_.items(), " items");
  if (result_.ok()) {
    // Only a callback needs the list as one Value, and that is a copy of all of it.
    if (callbacks_.callback) RunUserCallback(callbacks_.callback, Value(*result_), what);
  } else {
    RunUserCallback(callbacks_.error_callback, result_.status(), what);
  }
  absl::MutexLock lock(&mutex_);
  done_ = true;
}

bool MapResultState::WaitUntil(absl::Time deadline) const {
  absl::MutexLock lock(&mutex_);
  return mutex_.AwaitWithDeadline(absl::Condition(this, &MapResultState::Done), deadline);
}

bool MapResultState::Ready() const {
  absl::MutexLock lock(&mutex_);
  return done_;
}

}  // namespace internal
}  // namespace netpool
