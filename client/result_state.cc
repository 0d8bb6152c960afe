#include "client/result_state.h"

#include <utility>

#include "common/packed_chunk.h"
#include "common/value_proto.h"

namespace netpool {
namespace internal {
namespace {

// A succeeded job's value, from packed_value when a packed chunk job set it.
absl::StatusOr<Value> SucceededValue(const v1::JobResult& result) {
  if (result.packed_value().empty()) return FromProto(result.value());
  return UnpackToValue(result.packed_value());
}

}  // namespace

void ResultState::Complete(Outcome outcome) {
  absl::MutexLock lock(&mutex_);
  if (done_) return;
  outcome_ = std::move(outcome);
  done_ = true;
}

void ResultState::MarkSubmitted() {
  absl::MutexLock lock(&mutex_);
  submitted_ = true;
}

void ResultState::WaitSubmitted() const {
  absl::MutexLock lock(&mutex_);
  mutex_.Await(absl::Condition(this, &ResultState::SubmittedOrDone));
}

bool ResultState::WaitUntil(absl::Time deadline) const {
  absl::MutexLock lock(&mutex_);
  return mutex_.AwaitWithDeadline(absl::Condition(this, &ResultState::Done), deadline);
}

bool ResultState::Ready() const {
  absl::MutexLock lock(&mutex_);
  return done_;
}

const Outcome& ResultState::outcome() const { return outcome_; }

Outcome OutcomeFromProto(const v1::JobResult& result) {
  Outcome outcome;
  outcome.state = result.state();
  switch (result.state()) {
    case v1::SUCCEEDED:
      outcome.value = SucceededValue(result);
      break;
    case v1::CANCELLED:
      outcome.value = absl::CancelledError(result.error().message().empty()
                                               ? "job " + result.job_id() + " was cancelled"
                                               : result.error().message());
      break;
    default:  // FAILED, or NOT_FOUND for an id the scheduler does not know
      outcome.value = JobErrorToStatus(result.error());
      break;
  }
  if (result.has_error() && result.error().has_detail()) {
    absl::StatusOr<Value> detail = FromProto(result.error().detail());
    if (detail.ok()) outcome.error_detail = *std::move(detail);
  }
  return outcome;
}

}  // namespace internal
}  // namespace netpool
