#include "server/core/retry_policy.h"

#include <algorithm>

namespace netpool {

absl::Duration RetryDelay(absl::Duration base, absl::Duration max, int attempt, double jitter) {
  absl::Duration backoff = base;
  for (int i = 1; i < attempt && backoff < max; ++i) backoff *= 2;
  backoff = std::min(backoff, max);
  return backoff / 2 + (backoff / 2) * std::clamp(jitter, 0.0, 1.0);
}

}  // namespace netpool
