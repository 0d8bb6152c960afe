#include "server/store/job_record.h"

#include <cmath>
#include <utility>

#include "netpool/v1/store.pb.h"

namespace netpool {

double UnixSecondsOrZero(absl::Time time) {
  if (time == absl::InfinitePast()) return 0;
  return absl::ToDoubleSeconds(time - absl::UnixEpoch());
}

absl::Time TimeFromUnixSecondsOrZero(double seconds) {
  if (seconds == 0 || std::isnan(seconds)) return absl::InfinitePast();
  // A double holds today's unix time to a quarter of a microsecond: round to
  // whole microseconds so that a time written in whole microseconds reads
  // back equal. Infinite seconds give an infinite time.
  return absl::UnixEpoch() +
         absl::Floor(absl::Seconds(seconds) + absl::Nanoseconds(500), absl::Microseconds(1));
}

v1::StoredJob ToStoredJob(const Job& job) {
  v1::StoredJob stored = ToStoredJobWithoutSpec(job);
  *stored.mutable_spec() = job.DecodeSpec();
  return stored;
}

v1::StoredJob ToStoredJobWithoutSpec(const Job& job) {
  v1::StoredJob stored;
  stored.set_sequence(job.sequence);
  stored.set_state(job.state);
  stored.set_attempt(job.attempt);
  stored.set_worker_name(job.worker_name());
  stored.set_submitted_unix(UnixSecondsOrZero(job.submitted));
  stored.set_started_unix(UnixSecondsOrZero(job.started));
  stored.set_finished_unix(UnixSecondsOrZero(job.finished));
  stored.set_not_before_unix(UnixSecondsOrZero(job.not_before));
  if (job.result_part.get() != nullptr) *stored.mutable_result() = job.result();
  for (const Attempt& attempt : job.attempts) *stored.add_attempts() = ToAttemptRecord(attempt);
  stored.set_fetched(job.fetched);
  stored.set_owner(job.owner());
  return stored;
}

v1::AttemptRecord ToAttemptRecord(const Attempt& attempt) {
  v1::AttemptRecord record;
  record.set_attempt(attempt.number);
  record.set_worker(attempt.worker);
  record.set_started_unix(UnixSecondsOrZero(attempt.started));
  record.set_finished_unix(UnixSecondsOrZero(attempt.finished));
  if (attempt.error.code() != 0 || !attempt.error.message().empty()) {
    *record.mutable_error() = attempt.error;
  }
  return record;
}

namespace {

// Everything of the job but its spec.
void FillFromStored(v1::StoredJob& stored, Job& job) {
  job.sequence = stored.sequence();
  job.state = stored.state();
  job.attempt = stored.attempt();
  job.set_worker_name(stored.worker_name());
  job.submitted = TimeFromUnixSecondsOrZero(stored.submitted_unix());
  job.started = TimeFromUnixSecondsOrZero(stored.started_unix());
  job.finished = TimeFromUnixSecondsOrZero(stored.finished_unix());
  job.not_before = TimeFromUnixSecondsOrZero(stored.not_before_unix());
  if (stored.has_result()) *job.mutable_result() = std::move(*stored.mutable_result());
  job.attempts.reserve(stored.attempts_size());
  for (v1::AttemptRecord& record : *stored.mutable_attempts()) {
    Attempt& attempt = job.attempts.emplace_back();
    attempt.number = record.attempt();
    attempt.worker = std::move(*record.mutable_worker());
    attempt.started = TimeFromUnixSecondsOrZero(record.started_unix());
    attempt.finished = TimeFromUnixSecondsOrZero(record.finished_unix());
    attempt.error = std::move(*record.mutable_error());
  }
  job.fetched = stored.fetched();
  job.set_owner(stored.owner());
}

}  // namespace

Job FromStoredJob(v1::StoredJob stored) {
  Job job = Job::FromSpec(stored.spec());
  FillFromStored(stored, job);
  return job;
}

absl::StatusOr<Job> FromStoredJob(v1::StoredJob stored, absl::string_view serialized_spec) {
  absl::StatusOr<Job> job = Job::FromSerializedSpec(serialized_spec);
  if (!job.ok()) return job.status();
  FillFromStored(stored, *job);
  return job;
}

}  // namespace netpool
