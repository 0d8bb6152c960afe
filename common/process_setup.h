// What each netpool program (netpoold, netpool-worker and its worker
// processes, the netpool CLI) does first: logging, malloc settings, and
// switching off absl::Mutex's deadlock-cycle detection. Debian builds Abseil without
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

// Makes glibc's malloc keep the memory a process frees. Every hop of a map
// allocates and frees megabytes per chunk (its calls, results and their
// encodings); glibc would hand that memory back to the kernel after each
// chunk (and serve the larger blocks by mmap), and fault every page in again
// for the next, which cost more than the calls themselves (B_default, warm:
// about 1.6x with it). The bounds keep what an idle process holds modest: up
// to 64 MiB free on top of the heap, and blocks of 32 MiB (glibc's most) or
// more mapped and returned. SetUpProcess calls it.
void KeepFreedMemory();

}  // namespace netpool

#endif  // NETPOOL_COMMON_PROCESS_SETUP_H_
