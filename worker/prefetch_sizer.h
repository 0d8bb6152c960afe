// The size of a worker node's window: how many jobs it holds (running in its
// processes, queued on the node, or promised by credits the scheduler has not
// used yet). A process that finishes a job idles until the credit it returns
// has reached the scheduler and the next assignment has come back, so the
// node keeps queued about one round trip of work per process (plus a
// budget for what the round trip leaves out), and no more: a job queued here
// cannot go to a node that idles.
//
//   PrefetchSizer sizer({.processes = 4, .prefetch = 64, .budget = absl::Milliseconds(10)});
//   sizer.CreditsSent(credits, unused, MonotonicNow());  // with each message that gives credits
//   sizer.AssignmentArrived(MonotonicNow());
//   sizer.JobRunTime(recent_run_time);
//   int credits = sizer.Window() - held;
#ifndef NETPOOL_WORKER_PREFETCH_SIZER_H_
#define NETPOOL_WORKER_PREFETCH_SIZER_H_

#include <deque>
#include <optional>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace netpool {

// PrefetchSizer holds the window rule and the estimates it needs, the round
// trip to the scheduler and the jobs' run time. It takes every time from its
// caller (the node passes MonotonicNow()), so tests drive it with a clock of
// their own. Not thread-safe: NodeAgent calls it under its mutex.
class PrefetchSizer {
 public:
  struct Options {
    int processes = 1;
    int prefetch = 64;  // most jobs queued beyond the processes
    // Work per process queued beyond one round trip: it covers what the
    // measured round trip leaves out (a result's wait to be batched, the
    // hand-offs between the node's threads and processes, a busy host).
    absl::Duration budget = absl::Milliseconds(10);
  };

  explicit PrefetchSizer(Options options) : options_(options) {}

  // A message giving `credits` went out at `now`, while `unused` credits
  // given before had not been answered by an assignment yet.
  void CreditsSent(int credits, int unused, absl::Time now);
  // An assignment arrived at `now`.
  void AssignmentArrived(absl::Time now);
  // A message carrying results, the first of them `first_job_id`'s, went out
  // at `now`.
  void ResultsSent(absl::string_view first_job_id, absl::Time now);
  // The scheduler acknowledged `job_id`'s result at `now`.
  void Acknowledged(absl::string_view job_id, absl::Time now);
  // A new stream: what was sent on the old one is never answered.
  void NewStream();

  // The jobs' recent run time on a process.
  void JobRunTime(absl::Duration run_time);

  // How many jobs the node wants to hold: its processes, plus, while jobs
  // are short, enough queued to cover a round trip and the budget, at most
  // `prefetch`. Only the processes before a job's run time is known.
  int Window() const;

  // The estimates Window() uses; nullopt before the first sample.
  std::optional<absl::Duration> round_trip() const;
  std::optional<absl::Duration> run_time() const { return run_time_; }

 private:
  void AddRoundTrip(absl::Duration sample);

  const Options options_;
  // The last few round trips, newest last. Each is at least the true round
  // trip and more when the scheduler had to wait for work or for its store,
  // so the smallest is the estimate; keeping only a few lets it follow a
  // slower network too.
  std::deque<absl::Duration> round_trips_;
  // When the credits whose answer is awaited went out.
  std::optional<absl::Time> credits_sent_;
  // The result whose acknowledgement is awaited, and when it went out.
  std::string probe_job_id_;
  absl::Time probe_sent_;
  std::optional<absl::Duration> run_time_;
};

}  // namespace netpool

#endif  // NETPOOL_WORKER_PREFETCH_SIZER_H_
