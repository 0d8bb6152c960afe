// The on-disk form of a Job: conversions between the scheduler's Job and the
// netpool.v1.StoredJob message a durable store keeps, one per job. Times are
// unix seconds as doubles (microsecond precision), with absl::InfinitePast
// ("not yet") stored as 0. Job::worker is not stored: it names a connection
// of this scheduler process, which a restart ends.
//
//   std::string bytes = ToStoredJob(job).SerializeAsString();
//   v1::StoredJob stored;
//   if (stored.ParseFromString(bytes)) Job back = FromStoredJob(std::move(stored));
#ifndef NETPOOL_SERVER_STORE_JOB_RECORD_H_
#define NETPOOL_SERVER_STORE_JOB_RECORD_H_

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "netpool/v1/netpool.pb.h"
#include "netpool/v1/store.pb.h"
#include "server/core/job.h"

namespace netpool {

// InfinitePast -> 0; any other time -> seconds since the unix epoch.
double UnixSecondsOrZero(absl::Time time);
// 0 -> InfinitePast; the inverse of UnixSecondsOrZero to the microsecond.
absl::Time TimeFromUnixSecondsOrZero(double seconds);

v1::StoredJob ToStoredJob(const Job& job);
// The job without its spec: the part that changes after the job is inserted.
v1::StoredJob ToStoredJobWithoutSpec(const Job& job);
// One attempt as the wire and the store show it (no error when it has none).
v1::AttemptRecord ToAttemptRecord(const Attempt& attempt);
// The returned job has worker == kNoWorker.
Job FromStoredJob(v1::StoredJob stored);
// The same with the spec kept apart, as its serialized bytes (stored.spec()
// is not read); kDataLoss if the bytes do not parse.
absl::StatusOr<Job> FromStoredJob(v1::StoredJob stored, absl::string_view serialized_spec);

}  // namespace netpool

#endif  // NETPOOL_SERVER_STORE_JOB_RECORD_H_
