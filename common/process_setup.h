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

// InitLogging(log_level, log_format), and no deadlock detection for
// absl::Mutex. The logging choices are left in the environment
// (NETPOOL_LOG, NETPOOL_LOG_FORMAT) for the processes this one starts, so a
// node's worker processes log as the node does. Call it first thing in
// main(), before any thread that may read the environment.
void SetUpProcess(std::string_view log_level = {}, std::string_view log_format = {});

}  // namespace netpool

#endif  // NETPOOL_COMMON_PROCESS_SETUP_H_
