// Helpers for the store tests: jobs with every field that a store must keep.
#ifndef NETPOOL_TESTS_STORE_STORE_TEST_SUPPORT_H_
#define NETPOOL_TESTS_STORE_STORE_TEST_SUPPORT_H_

#include <stdlib.h>

#include <filesystem>
#include <functional>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "server/core/job.h"
#include "server/core/store.h"
#include "tests/support/scratch_dir.h"

namespace netpool::testing {

// Whole microseconds, as a durable store keeps them.
inline absl::Time TestTime(int64_t seconds_after_base) {
  return absl::FromUnixMicros(1'700'000'000'000'000 + seconds_after_base * 1'000'000 + 123);
}

// A pending job as the scheduler inserts it.
inline Job PendingJob(const std::string& id, uint64_t sequence) {
  v1::JobSpec spec;
  spec.set_job_id(id);
  spec.set_function("echo");
  spec.add_args()->set_string_value(id);
  Job job = Job::FromSpec(spec);
  job.sequence = sequence;
  job.submitted = TestTime(static_cast<int64_t>(sequence));
  return job;
}

// Changes the job's spec.
inline void EditSpec(Job& job, const std::function<void(v1::JobSpec&)>& edit) {
  v1::JobSpec spec = job.DecodeSpec();
  edit(spec);
  job.SetSpec(spec);
}

// A copy of the job the store holds, nullopt if none (and a test failure if
// the store cannot read it).
inline std::optional<Job> Read(Store& store, absl::string_view id) {
  absl::StatusOr<std::optional<Job>> job = store.Lookup(id);
  EXPECT_TRUE(job.ok()) << job.status();
  return job.ok() ? *std::move(job) : std::nullopt;
}

// The id of the job the store holds under `key`, nullopt if none (and a
// test failure if the store cannot read it).
inline std::optional<std::string> IdOfKey(Store& store, const std::string& key) {
  absl::StatusOr<std::optional<std::string>> id = store.FindByIdempotencyKey(key);
  EXPECT_TRUE(id.ok()) << id.status();
  return id.ok() ? *std::move(id) : std::nullopt;
}

// Changes `job` the way the scheduler finishes it.
inline void FinishJob(Job& job, v1::JobState state, absl::Time finished) {
  job.state = state;
  job.finished = finished;
  job.mutable_result()->set_job_id(std::string(job.id()));
  job.mutable_result()->set_state(state);
  if (state == v1::SUCCEEDED) {
    job.mutable_result()->mutable_value()->set_string_value(absl::StrCat("result of ", job.id()));
  } else {
    job.mutable_result()->mutable_error()->set_code(state == v1::CANCELLED ? 1 : 2);
    job.mutable_result()->mutable_error()->set_message("ended " + v1::JobState_Name(state));
  }
}

// A gate that holds the thread calling Pass() while it is closed, so that a
// test can stop a store's commit thread mid-commit and look at what the
// store does meanwhile.
class ThreadGate {
 public:
  // Returns at once while open; otherwise waits for Open().
  void Pass() {
    absl::MutexLock lock(&mu_);
    if (open_) return;
    held_ = true;
    mu_.Await(absl::Condition(&open_));
    held_ = false;
  }
  void Close() {
    absl::MutexLock lock(&mu_);
    open_ = false;
  }
  // Waits until a thread is held in Pass().
  void AwaitHeld() {
    absl::MutexLock lock(&mu_);
    mu_.Await(absl::Condition(&held_));
  }
  void Open() {
    absl::MutexLock lock(&mu_);
    open_ = true;
  }

 private:
  absl::Mutex mu_;
  bool open_ ABSL_GUARDED_BY(mu_) = true;
  bool held_ ABSL_GUARDED_BY(mu_) = false;
};

// A finished job as a store would hold it after the job ran once.
inline Job FinishedJob(const std::string& id, uint64_t sequence, v1::JobState state,
                       absl::Time finished) {
  Job job = PendingJob(id, sequence);
  job.attempt = 1;
  job.set_worker_name("node-a");
  job.started = finished - absl::Seconds(1);
  Attempt& attempt = job.attempts.emplace_back();
  attempt.number = 1;
  attempt.worker = "node-a";
  attempt.started = job.started;
  attempt.finished = finished;
  FinishJob(job, state, finished);
  return job;
}

}  // namespace netpool::testing

#endif  // NETPOOL_TESTS_STORE_STORE_TEST_SUPPORT_H_
