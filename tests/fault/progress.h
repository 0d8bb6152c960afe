// Waiting for work to move, for fault tests that inject a fault once the jobs
// reach a point: a wait that fails only when nothing moves for a while, so
// that a slow machine passes and a stuck system fails quickly.
#ifndef NETPOOL_TESTS_FAULT_PROGRESS_H_
#define NETPOOL_TESTS_FAULT_PROGRESS_H_

#include <cstdint>
#include <functional>

#include "absl/time/time.h"

namespace netpool::testing {

// Polls `progress` until it reaches `target`. False when its value stays the
// same for `stall_limit` first.
bool WaitForProgress(const std::function<int64_t()>& progress, int64_t target,
                     absl::Duration stall_limit);

}  // namespace netpool::testing

#endif  // NETPOOL_TESTS_FAULT_PROGRESS_H_
