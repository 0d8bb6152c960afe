// ResultState is what an AsyncResult points at: one job's outcome, filled in
// once by the PoolClient that submitted it and awaited by any number of
// threads. (The handles PoolClient::Submit returns also keep the PoolClient
// alive, so results outlive the Pool; the state itself does not, so the
// client's own threads never hold the last reference to it.)
#ifndef NETPOOL_CLIENT_RESULT_STATE_H_
#define NETPOOL_CLIENT_RESULT_STATE_H_

#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "netpool/v1/netpool.pb.h"
#include "netpool/value.h"

namespace netpool {
namespace internal {

class PoolClient;

// The outcome of a finished job, as the scheduler reported it.
struct Outcome {
  v1::JobState state = v1::JOB_STATE_UNSPECIFIED;
  absl::StatusOr<Value> value;  // the result, or the job's error
  // The error's structured detail (exec puts {exit_code, stdout, stderr}
  // here); null when there is none.
  Value error_detail;
};

struct ResultState {
 public:
  ResultState(std::string job_id, std::weak_ptr<PoolClient> client)
      : job_id(std::move(job_id)), client(std::move(client)) {}

  // Records the outcome and wakes the waiters. Only the first call counts.
  void Complete(Outcome outcome);

  // The scheduler confirmed the job's submission: from now on it knows the
  // job (or never will, and the job is complete).
  void MarkSubmitted();
  // Waits for MarkSubmitted or Complete, so that a Cancel cannot overtake the
  // job's own submission.
  void WaitSubmitted() const;

  // True when the job finished before `deadline`.
  bool WaitUntil(absl::Time deadline) const;
  bool Ready() const;
  // REQUIRES: Ready().
  const Outcome& outcome() const;

  const std::string job_id;
  // The client that submitted the job; alive while any handle is.
  const std::weak_ptr<PoolClient> client;

 private:
  bool Done() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_) { return done_; }
  bool SubmittedOrDone() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_) {
    return submitted_ || done_;
  }

  mutable absl::Mutex mutex_;
  bool submitted_ ABSL_GUARDED_BY(mutex_) = false;
  bool done_ ABSL_GUARDED_BY(mutex_) = false;
  // Written once, before done_ is set; read-only afterwards.
  Outcome outcome_;
};

// The outcome a JobResult from the scheduler stands for.
Outcome OutcomeFromProto(const v1::JobResult& result);

}  // namespace internal
}  // namespace netpool

#endif  // NETPOOL_CLIENT_RESULT_STATE_H_
