// Job is the scheduler's record of one submitted job: what to run, where it
// is in its life (PENDING -> RUNNING -> SUCCEEDED | FAILED | CANCELLED) and,
// once finished, its result.
#ifndef NETPOOL_SERVER_CORE_JOB_H_
#define NETPOOL_SERVER_CORE_JOB_H_

#include <cstdint>
#include <string>

#include "absl/time/time.h"
#include "netpool/v1/netpool.pb.h"

namespace netpool {

using WorkerId = uint64_t;
inline constexpr WorkerId kNoWorker = 0;

struct Job {
  v1::JobSpec spec;  // spec.job_id() is the job's id
  // Submission order; FIFO within a priority follows it.
  uint64_t sequence = 0;
  v1::JobState state = v1::PENDING;
  // Times the job has been handed to a worker.
  int attempt = 0;
  WorkerId worker = kNoWorker;  // running on, or last ran on
  std::string worker_name;
  absl::Time submitted = absl::InfinitePast();
  absl::Time started = absl::InfinitePast();
  absl::Time finished = absl::InfinitePast();
  v1::JobResult result;  // set when the job is finished

  const std::string& id() const { return spec.job_id(); }
  bool finished_state() const { return IsFinal(state); }
  static bool IsFinal(v1::JobState s) {
    return s == v1::SUCCEEDED || s == v1::FAILED || s == v1::CANCELLED;
  }
};

}  // namespace netpool

#endif  // NETPOOL_SERVER_CORE_JOB_H_
