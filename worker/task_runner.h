// RunAssignment executes one job inside a worker process: it finds the
// registered function, converts the arguments, runs it (once per entry for a
// chunk job) and turns the outcome into the JobResult sent back to the node.
#ifndef NETPOOL_WORKER_TASK_RUNNER_H_
#define NETPOOL_WORKER_TASK_RUNNER_H_

#include "netpool/v1/netpool.pb.h"

namespace netpool {

// Never fails itself: an unknown function (kNotFound), bad arguments, a
// function error or a C++ exception thrown by the function (kInternal) all
// become a FAILED result. A chunk job fails with its first failing entry.
v1::JobResult RunAssignment(const v1::Assignment& assignment);

}  // namespace netpool

#endif  // NETPOOL_WORKER_TASK_RUNNER_H_
