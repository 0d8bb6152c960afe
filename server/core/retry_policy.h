// RetryDelay says how long a failed job waits before its next attempt:
// exponential backoff with jitter, so that many jobs failing together (a
// database down, a node lost) do not all come back at the same instant.
#ifndef NETPOOL_SERVER_CORE_RETRY_POLICY_H_
#define NETPOOL_SERVER_CORE_RETRY_POLICY_H_

#include "absl/time/time.h"

namespace netpool {

// The delay after attempt `attempt` (1-based) failed: base * 2^(attempt-1),
// capped at `max`, of which the upper half is scaled by `jitter` in [0, 1]
// ("equal jitter": the wait is never under half the backoff).
absl::Duration RetryDelay(absl::Duration base, absl::Duration max, int attempt, double jitter);

}  // namespace netpool

#endif  // NETPOOL_SERVER_CORE_RETRY_POLICY_H_
