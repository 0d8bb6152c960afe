// What /proc says about processes, for tests that check that a process is
// gone or that none is left behind, or how many threads or how much memory
// it holds.
#ifndef NETPOOL_TESTS_SUPPORT_PROC_H_
#define NETPOOL_TESTS_SUPPORT_PROC_H_

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "absl/time/time.h"

namespace netpool::testing {

// True while `pid` exists and is not a zombie.
bool IsRunning(pid_t pid);

// The running children of `pid`. Scans all of /proc rather than
// /proc/PID/task/*/children, because any thread of `pid` may have spawned.
std::vector<pid_t> ChildPids(pid_t pid);

// Polls until `pid` no longer runs; false if it still does after `timeout`.
bool WaitUntilGone(pid_t pid, absl::Duration timeout = absl::Seconds(10));

// A field of /proc/PID/status ("VmRSS", "Threads") as a number (kB for
// sizes); -1 if there is no such process or field.
int64_t ProcStatus(pid_t pid, const std::string& field);

}  // namespace netpool::testing

#endif  // NETPOOL_TESTS_SUPPORT_PROC_H_
