// The wait until a deadline on MonotonicNow() in poll()'s terms, for the
// loops in the worker that poll pipes against a deadline: job timeouts are
// not moved by a change of the wall clock.
#ifndef NETPOOL_WORKER_POLL_TIMEOUT_H_
#define NETPOOL_WORKER_POLL_TIMEOUT_H_

#include <algorithm>
#include <cmath>

#include "absl/time/time.h"
#include "common/monotonic_clock.h"

namespace netpool {

// -1 (wait forever) for an infinite deadline, else whole milliseconds rounded
// up, so that poll() never returns just before the deadline.
inline int PollTimeoutMs(absl::Time deadline) {
  if (deadline == absl::InfiniteFuture()) return -1;
  double ms = std::ceil(absl::ToDoubleMilliseconds(deadline - MonotonicNow()));
  return static_cast<int>(std::clamp(ms, 0.0, 1e9));
}

}  // namespace netpool

#endif  // NETPOOL_WORKER_POLL_TIMEOUT_H_
