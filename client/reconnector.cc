#include "client/reconnector.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"

namespace netpool {
namespace {

// A restarting scheduler listens again within a second or two: the first
// tries come quickly, later ones less often.
constexpr absl::Duration kFirstPause = absl::Milliseconds(100);

}  // namespace

Reconnector::Reconnector(Options options)
    : options_(std::move(options)), next_pause_(kFirstPause) {}

absl::StatusOr<absl::Duration> Reconnector::Failed(const absl::Status& failure) {
  if (!absl::IsUnavailable(failure)) {
    Reached();
    return failure;
  }
  if (options_.retry_for <= absl::ZeroDuration()) return failure;
  const absl::Time now = absl::Now();
  bool began = false;
  absl::Duration pause;
  {
    absl::MutexLock lock(&mutex_);
    if (!outage_began_.has_value()) {
      outage_began_ = now;
      began = true;
    }
    const absl::Duration left = *outage_began_ + options_.retry_for - now;
    if (left <= absl::ZeroDuration()) {
      return absl::UnavailableError(absl::StrCat("scheduler unreachable for ",
                                                 absl::FormatDuration(options_.retry_for),
                                                 ", giving up: ", failure.message()));
    }
    // The last try falls at the end of the window, not a whole pause past it.
    pause = std::min(next_pause_, left);
    next_pause_ = std::min(next_pause_ * 2, kMaxPause);
  }
  if (began && options_.on_outage) options_.on_outage(failure);
  return pause;
}

void Reconnector::Reached() {
  absl::MutexLock lock(&mutex_);
  outage_began_.reset();
  next_pause_ = kFirstPause;
}

}  // namespace netpool
