// Job is the scheduler's record of one submitted job: what to run, where it
// is in its life (PENDING -> RUNNING -> SUCCEEDED | FAILED | CANCELLED), the
// history of its attempts and, once finished, its result.
#ifndef NETPOOL_SERVER_CORE_JOB_H_
#define NETPOOL_SERVER_CORE_JOB_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "netpool/v1/netpool.pb.h"

namespace netpool {

using WorkerId = uint64_t;
inline constexpr WorkerId kNoWorker = 0;

// One run of a job on a worker node.
struct Attempt {
  int number = 0;
  std::string worker;  // node name
  absl::Time started = absl::InfinitePast();
  absl::Time finished = absl::InfinitePast();  // InfinitePast while running
  v1::JobError error;                          // code 0 = none
};

struct Job {
  v1::JobSpec spec;  // spec.job_id() is the job's id
  // Submission order; FIFO within a priority follows it.
  uint64_t sequence = 0;
  v1::JobState state = v1::PENDING;
  // Times the job has been handed to a worker.
  int attempt = 0;
  // Running on (kNoWorker: not running, or running on a node that has not
  // come back since a scheduler restart).
  WorkerId worker = kNoWorker;
  std::string worker_name;  // node it runs or last ran on
  absl::Time submitted = absl::InfinitePast();
  absl::Time started = absl::InfinitePast();
  absl::Time finished = absl::InfinitePast();
  // A pending job waiting out its retry backoff runs no earlier than this.
  absl::Time not_before = absl::InfinitePast();
  std::vector<Attempt> attempts;  // oldest first
  v1::JobResult result;           // set when the job is finished
  bool fetched = false;           // result handed to a client
  // The identity that submitted the job; only it (and an admin) may see,
  // wait on or cancel the job.
  std::string owner;

  const std::string& id() const { return spec.job_id(); }
  bool finished_state() const { return IsFinal(state); }
  static bool IsFinal(v1::JobState s) {
    return s == v1::SUCCEEDED || s == v1::FAILED || s == v1::CANCELLED;
  }
};

}  // namespace netpool

#endif  // NETPOOL_SERVER_CORE_JOB_H_
