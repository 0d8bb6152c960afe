// JobLedger is a fault test's record of what the client was promised and what
// it was told: which nonce jobs the scheduler acknowledged, and the first
// outcome the client received for each. Audit() then asks the scheduler what
// it holds at the end and counts the broken promises:
//   lost       an acknowledged job the scheduler no longer knows, that did not
//              succeed, or whose result never reached the client;
//   duplicated a job whose result changed after the client received it (a
//              second execution's result recorded too), a result that belongs
//              to another job, or a job the client never submitted.
// Every job is a `nonce` call (tests/fault/fault_worker.cc) whose first
// argument is its number, so its result [number, random] shows which
// execution and which job it came from. Thread-safe.
//
//   JobLedger ledger;
//   ledger.Acknowledged("job-7", 7);
//   ledger.Delivered("job-7", value);               // from a Watch, a Get, a callback
//   JobLedger::Audit audit = ledger.Check(scheduler);
//   EXPECT_EQ(audit.lost, 0) << audit.Problems();
#ifndef NETPOOL_TESTS_FAULT_JOB_LEDGER_H_
#define NETPOOL_TESTS_FAULT_JOB_LEDGER_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "client/scheduler_client.h"
#include "netpool/value.h"
#include "netpool/v1/netpool.pb.h"

namespace netpool::testing {

class JobLedger {
 public:
  // What Check found.
  struct Audit {
    int64_t acknowledged = 0;
    int64_t lost = 0;
    int64_t duplicated = 0;
    // Submissions the client gave up on (cut by a fault and not resent) that
    // the scheduler nevertheless holds: allowed, as long as each is there once.
    int64_t unacknowledged_present = 0;
    int64_t unacknowledged_absent = 0;
    // Acknowledged jobs that ran more than once (attempt > 1): the faults hit.
    int64_t retried = 0;
    // One line per broken promise, the first few of each kind.
    std::vector<std::string> problems;

    std::string Problems() const;
  };

  // The scheduler acknowledged the submission of job `id`, which calls
  // nonce(number, ...).
  void Acknowledged(const std::string& id, int64_t number);
  // The client gave up on the submission of `id` without an acknowledgement.
  void Unacknowledged(const std::string& id);
  // The client received this outcome for acknowledged job `id`: a value, or
  // the job's error. Only the first outcome of a job counts.
  void Delivered(const std::string& id, absl::StatusOr<Value> outcome);
  // A JobResult from a Watch stream or a Get, as Delivered.
  void Delivered(const v1::JobResult& result);

  int64_t acknowledged() const;
  // Acknowledged jobs with no outcome delivered yet.
  int64_t outstanding() const;
  // Waits until at most `count` acknowledged jobs have no outcome; false when
  // `timeout` passes first.
  bool WaitForOutstandingAtMost(int64_t count, absl::Duration timeout) const;

  // Asks `scheduler` for every job's final result (Get, no waiting) and
  // status, and compares them with what the client was told.
  Audit Check(SchedulerClient& scheduler) const;

 private:
  struct Entry {
    int64_t number = 0;
    std::optional<absl::StatusOr<Value>> delivered;
  };

  mutable absl::Mutex mutex_;
  absl::flat_hash_map<std::string, Entry> acknowledged_ ABSL_GUARDED_BY(mutex_);
  std::vector<std::string> unacknowledged_ ABSL_GUARDED_BY(mutex_);
  int64_t outstanding_ ABSL_GUARDED_BY(mutex_) = 0;
};

// The outcome a JobResult stands for: its value when SUCCEEDED, else its
// error (kNotFound for an id the scheduler does not know).
absl::StatusOr<Value> OutcomeOf(const v1::JobResult& result);

// The scheduler's job and worker counts in one line, for failure messages
// (e.g. jobs pending while slots are free).
std::string SchedulerCounts(SchedulerClient& scheduler);

}  // namespace netpool::testing

#endif  // NETPOOL_TESTS_FAULT_JOB_LEDGER_H_
