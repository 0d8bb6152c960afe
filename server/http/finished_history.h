// FinishedHistory keeps how many jobs finished, by final state, in each
// interval of the last minutes (a fixed ring of buckets, 10 s each over
// 15 min by default), so that the dashboard's throughput chart has history
// from the moment a page opens (/api/v1/overview's "history").
//
// Record is a lock, a few index steps and an add: the runtime calls it under
// its own lock (through SchedulerMetrics::OnFinished). Memory is fixed.
#ifndef NETPOOL_SERVER_HTTP_FINISHED_HISTORY_H_
#define NETPOOL_SERVER_HTTP_FINISHED_HISTORY_H_

#include <cstdint>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "netpool/v1/netpool.pb.h"
#include "server/core/clock.h"

namespace netpool {

class FinishedHistory {
 public:
  struct Counts {
    int64_t succeeded = 0;
    int64_t failed = 0;
    int64_t cancelled = 0;
  };

  // REQUIRES: `clock` outlives the history; interval > 0, buckets >= 1.
  explicit FinishedHistory(const Clock* clock, absl::Duration interval = absl::Seconds(10),
                           int buckets = 90);
  FinishedHistory(const FinishedHistory&) = delete;
  FinishedHistory& operator=(const FinishedHistory&) = delete;

  // A job finished now in `state` (SUCCEEDED, FAILED; anything else counts
  // as cancelled).
  void Record(v1::JobState state);

  // One entry per interval, oldest first; the last is the interval now
  // under way. Intervals before the history began are zeros.
  std::vector<Counts> Snapshot() const;

  absl::Duration interval() const { return interval_; }

 private:
  // Moves the ring forward to the interval holding `now`, zeroing the
  // buckets of the intervals passed meanwhile.
  void AdvanceTo(absl::Time now) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const Clock* const clock_;
  const absl::Duration interval_;
  // Monotonic: a wall clock step neither empties nor freezes the chart.
  const absl::Time start_;

  mutable absl::Mutex mu_;
  mutable std::vector<Counts> ring_ ABSL_GUARDED_BY(mu_);
  // The interval (counted from start_) the bucket at `newest_` holds.
  mutable int64_t newest_interval_ ABSL_GUARDED_BY(mu_) = 0;
  mutable size_t newest_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace netpool

#endif  // NETPOOL_SERVER_HTTP_FINISHED_HISTORY_H_
