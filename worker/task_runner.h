// RunAssignment executes one job inside a worker process: it finds the
// registered function, converts the arguments, runs it (once per entry for a
// chunk job) and turns the outcome into the JobResult sent back to the node.
// RunInitializer runs a worker process's initializer the same way.
#ifndef NETPOOL_WORKER_TASK_RUNNER_H_
#define NETPOOL_WORKER_TASK_RUNNER_H_

#include "absl/status/status.h"
#include "netpool/v1/netpool.pb.h"
#include "netpool/v1/worker.pb.h"
#include "worker/worker_process.h"

namespace netpool {

// Never fails itself: an unknown function (kNotFound), bad arguments, a
// function error or a C++ exception thrown by the function (kInternal) all
// become a FAILED result. A chunk job fails with its first failing entry; a
// packed_chunk job's results go in packed_value, and one whose packed_chunk
// does not parse fails with kInvalidArgument.
// So does a value (or error detail) that the scheduler would refuse, e.g.
// one nested deeper than kMaxValueDepth: kInvalidArgument "result not
// sendable: value: ...", and the job is not run again elsewhere.
v1::JobResult RunAssignment(const v1::Assignment& assignment);

// Runs the initializer's function with its arguments; its value is ignored.
// Errors: kNotFound for an unknown function, the function's own error, or
// kInternal for a C++ exception it threw.
absl::Status RunInitializer(const Initializer& initializer);

}  // namespace netpool

#endif  // NETPOOL_WORKER_TASK_RUNNER_H_
