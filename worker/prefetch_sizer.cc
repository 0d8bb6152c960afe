#include "worker/prefetch_sizer.h"

#include <algorithm>
#include <cmath>

namespace netpool {
namespace {

// Round trips kept: a change of network shows after this many.
constexpr size_t kRoundTripSamples = 8;

}  // namespace

void PrefetchSizer::CreditsSent(int credits, int unused, absl::Time now) {
  // While earlier credits are unanswered, the next assignment may answer
  // those, already on its way: it would arrive sooner than a round trip.
  if (credits > 0 && unused == 0 && !credits_sent_.has_value()) credits_sent_ = now;
}

void PrefetchSizer::AssignmentArrived(absl::Time now) {
  if (!credits_sent_.has_value()) return;
  AddRoundTrip(now - *credits_sent_);
  credits_sent_.reset();
}

void PrefetchSizer::ResultsSent(absl::string_view first_job_id, absl::Time now) {
  if (!probe_job_id_.empty()) return;
  probe_job_id_ = std::string(first_job_id);
  probe_sent_ = now;
}

void PrefetchSizer::Acknowledged(absl::string_view job_id, absl::Time now) {
  if (probe_job_id_.empty() || job_id != probe_job_id_) return;
  AddRoundTrip(now - probe_sent_);
  probe_job_id_.clear();
}

void PrefetchSizer::NewStream() {
  credits_sent_.reset();
  probe_job_id_.clear();
}

void PrefetchSizer::AddRoundTrip(absl::Duration sample) {
  round_trips_.push_back(sample);
  if (round_trips_.size() > kRoundTripSamples) round_trips_.pop_front();
}

std::optional<absl::Duration> PrefetchSizer::round_trip() const {
  if (round_trips_.empty()) return std::nullopt;
  return *std::min_element(round_trips_.begin(), round_trips_.end());
}

void PrefetchSizer::JobRunTime(absl::Duration run_time) {
  // Longer jobs count at once: until the estimate catches up, the node takes
  // on more of them than it can start soon, while other nodes may idle.
  // Shorter ones close half the gap each, as a short outlier among long jobs
  // should not open the window wide.
  if (!run_time_.has_value() || run_time >= *run_time_) {
    run_time_ = run_time;
  } else {
    run_time_ = (*run_time_ + run_time) / 2;
  }
}

int PrefetchSizer::Window() const {
  if (!run_time_.has_value()) return options_.processes;
  const absl::Duration cover = round_trip().value_or(absl::ZeroDuration()) + options_.budget;
  const double per_process =
      absl::FDivDuration(cover, std::max(*run_time_, absl::Microseconds(1)));
  const double queued =
      std::min<double>(options_.prefetch, std::floor(per_process * options_.processes));
  return options_.processes + static_cast<int>(queued);
}

}  // namespace netpool
