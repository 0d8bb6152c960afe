// The child mode of a worker executable. A node agent starts worker
// processes by spawning its own executable as
//   EXE --netpool-worker-process PARENT_PID
// with the task pipe on fd 3 and the result pipe on fd 4. The process reads
// ProcessTask frames, runs them one at a time and writes ProcessResult
// frames until the node closes the task pipe.
#ifndef NETPOOL_WORKER_WORKER_PROCESS_H_
#define NETPOOL_WORKER_WORKER_PROCESS_H_

namespace netpool {

inline constexpr char kWorkerProcessFlag[] = "--netpool-worker-process";
inline constexpr int kTaskFd = 3;
inline constexpr int kResultFd = 4;

// True when argv marks this process as a worker process.
bool IsWorkerProcess(int argc, char** argv);

// Runs the worker process loop and exits the process: status 0 when the task
// pipe reaches its end, non-zero on a broken pipe or when the node agent is
// already gone. The process is killed when its node agent dies.
// REQUIRES: IsWorkerProcess(argc, argv).
[[noreturn]] void RunWorkerProcess(int argc, char** argv);

}  // namespace netpool

#endif  // NETPOOL_WORKER_WORKER_PROCESS_H_
