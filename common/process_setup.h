// What each netpool program (netpoold, netpool-worker and its worker
// processes, the netpool CLI) does first: logging, and switching off
// absl::Mutex's deadlock-cycle detection. Debian builds Abseil without
// NDEBUG, so that detection runs on every lock of every Mutex, through one
// global graph; it was ~5% of all CPU time in netpool_bench, and our locks'
// order is fixed by design, not discovered at run time.
#ifndef NETPOOL_COMMON_PROCESS_SETUP_H_
#define NETPOOL_COMMON_PROCESS_SETUP_H_

#include <string_view>

namespace netpool {

// InitLogging(log_level), and no deadlock detection for absl::Mutex.
void SetUpProcess(std::string_view log_level = {});

}  // namespace netpool

#endif  // NETPOOL_COMMON_PROCESS_SETUP_H_
