// The child mode of a worker executable. A node agent starts worker
// processes by spawning its own executable as
//   EXE --netpool-worker-process PARENT_PID POLICY [INIT_FUNCTION INIT_ARGS_JSON]
// with the task pipe on fd 3 and the result pipe on fd 4 (POLICY: the node's
// ProcessPolicy, see process_policy.h). The process applies the policy, runs
// the initializer, if any, then reads ProcessTask frames, runs them one at a
// time in the order they came and writes a ProcessResult frame as each ends,
// until the node closes the task pipe. Tasks the node queued ahead wait in the
// process and start without a round trip to the node.
//
// A process that cannot start (its policy cannot be applied, or its
// initializer failed) says why in one ProcessResult whose job_id is empty
// and whose error message is the whole story, e.g. "initializer FN failed:
// ..."; it then exits with kStartupFailedExitCode without reading any task.
#ifndef NETPOOL_WORKER_WORKER_PROCESS_H_
#define NETPOOL_WORKER_WORKER_PROCESS_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "netpool/value.h"
#include "worker/process_policy.h"

namespace netpool {

inline constexpr char kWorkerProcessFlag[] = "--netpool-worker-process";
inline constexpr int kTaskFd = 3;
inline constexpr int kResultFd = 4;
inline constexpr int kStartupFailedExitCode = 78;  // EX_CONFIG

// A registered function that every worker process runs once, with `args`,
// before it takes its first task (Python's Pool(initializer, initargs)).
// An empty `function` means none.
struct Initializer {
  std::string function;
  std::vector<Value> args;
};

// OK when `initializer` is empty or names a registered function and its
// arguments fit on a command line; else kInvalidArgument.
absl::Status CheckInitializer(const Initializer& initializer);

// The arguments after argv[0] that make a spawned executable a worker
// process of the calling process, under `policy`.
std::vector<std::string> WorkerProcessArgs(const Initializer& initializer,
                                           const ProcessPolicy& policy);

// True when argv marks this process as a worker process.
bool IsWorkerProcess(int argc, char** argv);

// Runs the worker process loop and exits the process: status 0 when the task
// pipe reaches its end, non-zero on a broken pipe, a failed start (policy or
// initializer) or when the node agent is already gone. The process is killed
// when its node agent dies.
// REQUIRES: IsWorkerProcess(argc, argv).
[[noreturn]] void RunWorkerProcess(int argc, char** argv);

}  // namespace netpool

#endif  // NETPOOL_WORKER_WORKER_PROCESS_H_
