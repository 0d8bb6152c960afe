// PoolObserver is told what a node's worker processes do, for whoever
// counts it (netpool-worker --http, worker/http/node_metrics.h). A
// ProcessPool calls it on its own thread only, so an implementation needs no
// lock of its own for state only these calls touch; each call must be quick
// (a few atomic adds), since it runs between jobs.
#ifndef NETPOOL_WORKER_POOL_OBSERVER_H_
#define NETPOOL_WORKER_POOL_OBSERVER_H_

#include <string>

#include "absl/time/time.h"
#include "netpool/v1/netpool.pb.h"

namespace netpool {

class PoolObserver {
 public:
  virtual ~PoolObserver() = default;

  // The processes running a job and those waiting for one, whenever either
  // count changes (and once at the start).
  virtual void OnProcesses(int busy, int idle) = 0;
  // A process finished a job of `function`, or died running it, `ran`
  // after the job began.
  virtual void OnTaskRan(const std::string& function, absl::Duration ran) = 0;
  // The pool reported the end of a job (SUCCEEDED, FAILED or CANCELLED).
  virtual void OnJobEnded(v1::JobState state) = 0;
  // A process died that the pool had not ended (a crash, a kill from
  // outside); a fresh one replaces it.
  virtual void OnProcessDied() = 0;
};

}  // namespace netpool

#endif  // NETPOOL_WORKER_POOL_OBSERVER_H_
