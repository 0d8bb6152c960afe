// MonotonicNow reads a clock that never jumps (CLOCK_MONOTONIC), as an
// absl::Time so that durations and deadlines read naturally. Only the
// difference between two readings means anything: use it for leases,
// heartbeats and timeouts, and absl::Now() only for what people read.
#ifndef NETPOOL_COMMON_MONOTONIC_CLOCK_H_
#define NETPOOL_COMMON_MONOTONIC_CLOCK_H_

#include <chrono>

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace netpool {

inline absl::Time MonotonicNow() {
  return absl::UnixEpoch() + absl::FromChrono(std::chrono::steady_clock::now().time_since_epoch());
}

}  // namespace netpool

#endif  // NETPOOL_COMMON_MONOTONIC_CLOCK_H_
