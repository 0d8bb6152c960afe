#include "tests/fault/progress.h"

#include "absl/time/clock.h"

namespace netpool::testing {

bool WaitForProgress(const std::function<int64_t()>& progress, int64_t target,
                     absl::Duration stall_limit) {
  int64_t last = progress();
  absl::Time moved = absl::Now();
  while (last < target) {
    if (absl::Now() - moved > stall_limit) return false;
    absl::SleepFor(absl::Milliseconds(10));
    const int64_t now = progress();
    if (now != last) {
      last = now;
      moved = absl::Now();
    }
  }
  return true;
}

}  // namespace netpool::testing
