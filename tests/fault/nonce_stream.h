// NonceStream is the client side of a fault test: one thread submits `jobs`
// nonce jobs (tests/fault/fault_worker.cc) in batches through the client
// library's SchedulerClient, and the library's ResultWatcher (its
// reconnecting Watch stream) hands their results to a JobLedger. At most
// `window` acknowledged jobs wait for a result at any time, so submissions keep
// flowing in while results flow out, through whatever faults the test injects.
//
// A Submit cut by a fault is sent again with the same job ids, which the
// scheduler must answer without adding them twice; a random share of cut
// batches is given up instead and left unacknowledged, as a client that gave
// up would.
//
//   JobLedger ledger;
//   NonceStream stream(&scheduler, &ledger, {.id_prefix = "crash", .jobs = 10'000});
//   ... inject faults ...
//   ASSERT_TRUE(stream.WaitUntilDone(absl::Seconds(60))) << stream.Progress();
#ifndef NETPOOL_TESTS_FAULT_NONCE_STREAM_H_
#define NETPOOL_TESTS_FAULT_NONCE_STREAM_H_

#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "client/result_watcher.h"
#include "client/scheduler_client.h"
#include "tests/fault/job_ledger.h"

namespace netpool::testing {

class NonceStream {
 public:
  struct Options {
    std::string id_prefix = "nonce";  // job ids are PREFIX-N
    int jobs = 1000;
    int batch = 100;    // jobs per Submit
    int window = 1000;  // acknowledged jobs without a result, at most
    int max_attempts = 100;
    // Each job sleeps a random min_sleep_ms..max_sleep_ms.
    int min_sleep_ms = 0;
    int max_sleep_ms = 0;
    // Chance that a cut Submit is given up rather than resent.
    double abandon_share = 0.25;
    uint64_t seed = 0;
  };

  // Starts submitting at once. `scheduler` (best with wait_for_ready, so
  // that a Submit rides out a scheduler restart) and `ledger` must outlive
  // the stream.
  NonceStream(SchedulerClient* scheduler, JobLedger* ledger, Options options);
  // Stops submitting and watching.
  ~NonceStream();

  NonceStream(const NonceStream&) = delete;
  NonceStream& operator=(const NonceStream&) = delete;

  // Waits until every job was given up or acknowledged and answered; false
  // when no job settles for `stall_limit`, or when submitting stopped on an
  // error (see error()).
  bool WaitUntilDone(absl::Duration stall_limit);
  // The Submit error that stopped the stream: one a fault cannot explain,
  // e.g. the scheduler refusing a resent batch. OK otherwise.
  absl::Status error() const;

  int64_t resent_batches() const;
  int64_t abandoned_jobs() const;
  // One line: how far the stream got, for failure messages.
  std::string Progress() const;

 private:
  void Run();
  // Submits one batch until it is acknowledged, given up or refused; false
  // when the stream must stop.
  bool SubmitBatch(int first, int count);
  bool Stopping() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_) { return stopping_; }

  // Constant after construction.
  SchedulerClient* const scheduler_;
  JobLedger* const ledger_;
  const Options options_;
  const std::unique_ptr<ResultWatcher> watcher_;

  std::mt19937_64 random_;  // only on the submitter thread

  mutable absl::Mutex mutex_;
  bool stopping_ ABSL_GUARDED_BY(mutex_) = false;
  bool submitted_all_ ABSL_GUARDED_BY(mutex_) = false;
  absl::Status error_ ABSL_GUARDED_BY(mutex_);
  int64_t resent_batches_ ABSL_GUARDED_BY(mutex_) = 0;
  int64_t abandoned_jobs_ ABSL_GUARDED_BY(mutex_) = 0;

  std::thread submitter_;  // last: starts after the fields above exist
};

}  // namespace netpool::testing

#endif  // NETPOOL_TESTS_FAULT_NONCE_STREAM_H_
