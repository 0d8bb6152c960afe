// LaunchWorkerProcess starts one worker process for a node agent: the
// node's own executable in child mode (see worker_process.h), wired to two
// fresh pipes. posix_spawn, never fork: the node runs gRPC threads.
#ifndef NETPOOL_WORKER_PROCESS_LAUNCHER_H_
#define NETPOOL_WORKER_PROCESS_LAUNCHER_H_

#include <sys/types.h>

#include <string>

#include "absl/status/statusor.h"
#include "worker/process_policy.h"
#include "worker/unique_fd.h"
#include "worker/worker_process.h"

namespace netpool {

// A started worker process as its node agent holds it.
struct LaunchedProcess {
  pid_t pid = 0;       // also its session and process group id
  UniqueFd task_fd;    // write end, blocking
  UniqueFd result_fd;  // read end, non-blocking
};

// Spawns `executable` (e.g. /proc/self/exe) as a worker process that applies
// `policy` and runs `initializer` first, in a session of its own, so that
// KillSession also stops the commands it started; with no signal
// blocked or ignored and stdin from /dev/null.
// REQUIRES: the calling thread outlives the process: the process is killed
// (PR_SET_PDEATHSIG) when the thread that spawned it exits.
absl::StatusOr<LaunchedProcess> LaunchWorkerProcess(const std::string& executable,
                                                    const Initializer& initializer,
                                                    const ProcessPolicy& policy);

}  // namespace netpool

#endif  // NETPOOL_WORKER_PROCESS_LAUNCHER_H_
