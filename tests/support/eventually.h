// Eventually polls a condition until it holds or a deadline passes: how tests
// wait for something another process or thread does, instead of sleeping.
#ifndef NETPOOL_TESTS_SUPPORT_EVENTUALLY_H_
#define NETPOOL_TESTS_SUPPORT_EVENTUALLY_H_

#include <functional>

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace netpool::testing {

// True as soon as `condition` holds; false if `patience` passes first.
inline bool Eventually(const std::function<bool()>& condition, absl::Duration patience) {
  const absl::Time deadline = absl::Now() + patience;
  while (!condition()) {
    if (absl::Now() > deadline) return false;
    absl::SleepFor(absl::Milliseconds(10));
  }
  return true;
}

}  // namespace netpool::testing

#endif  // NETPOOL_TESTS_SUPPORT_EVENTUALLY_H_
