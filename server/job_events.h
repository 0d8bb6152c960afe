// JobEvents hears what happens to jobs as it happens, for whatever counts
// them (netpoold's /metrics: server/http/scheduler_metrics.h). The runtime
// calls it under its lock: an implementation only counts, and never blocks.
#ifndef NETPOOL_SERVER_JOB_EVENTS_H_
#define NETPOOL_SERVER_JOB_EVENTS_H_

#include <string>

#include "server/core/job.h"

namespace netpool {

class JobEvents {
 public:
  virtual ~JobEvents() = default;
  // `count` jobs of `function` were accepted.
  virtual void OnSubmitted(const std::string& function, int count) = 0;
  // `job` reached SUCCEEDED, FAILED or CANCELLED.
  virtual void OnFinished(const Job& job) = 0;
  // `job`'s attempt ended without finishing it, and it will run again.
  virtual void OnRetried(const Job& job) = 0;
};

}  // namespace netpool

#endif  // NETPOOL_SERVER_JOB_EVENTS_H_
