#include "server/http/finished_history.h"

#include <algorithm>

namespace netpool {

FinishedHistory::FinishedHistory(const Clock* clock, absl::Duration interval, int buckets)
    : clock_(clock), interval_(interval), start_(clock->Monotonic()), ring_(buckets) {}

void FinishedHistory::AdvanceTo(absl::Time now) const {
  const int64_t interval = std::max<int64_t>(0, (now - start_) / interval_);
  if (interval <= newest_interval_) return;
  const int64_t steps = std::min<int64_t>(interval - newest_interval_, ring_.size());
  for (int64_t i = 0; i < steps; ++i) {
    newest_ = (newest_ + 1) % ring_.size();
    ring_[newest_] = Counts();
  }
  newest_interval_ = interval;
}

void FinishedHistory::Record(v1::JobState state) {
  const absl::Time now = clock_->Monotonic();
  absl::MutexLock lock(&mu_);
  AdvanceTo(now);
  Counts& counts = ring_[newest_];
  switch (state) {
    case v1::SUCCEEDED:
      ++counts.succeeded;
      break;
    case v1::FAILED:
      ++counts.failed;
      break;
    default:
      ++counts.cancelled;
      break;
  }
}

std::vector<FinishedHistory::Counts> FinishedHistory::Snapshot() const {
  const absl::Time now = clock_->Monotonic();
  absl::MutexLock lock(&mu_);
  // A look at a quiet history moves it on too, so that it ends now.
  AdvanceTo(now);
  std::vector<Counts> out;
  out.reserve(ring_.size());
  for (size_t i = 1; i <= ring_.size(); ++i) out.push_back(ring_[(newest_ + i) % ring_.size()]);
  return out;
}

}  // namespace netpool
