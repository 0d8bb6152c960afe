// What netpool reports about jobs, worker nodes and the scheduler, as the
// JSON records of the CLI's -o json / -o jsonl and of netpoold's /api/v1
// (their fields are the README's schema, so renaming one breaks scripts),
// and as the pieces of the CLI's text tables.
#ifndef NETPOOL_COMMON_RECORDS_H_
#define NETPOOL_COMMON_RECORDS_H_

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "netpool/v1/netpool.pb.h"
#include "netpool/value.h"

namespace netpool {

// A time from the scheduler (seconds since the epoch; 0 = not yet) as an
// RFC 3339 UTC string with milliseconds, or null when 0.
Value TimeValue(double unix_seconds);

// A time from the scheduler as the local clock shows it, for people.
std::string LocalTime(double unix_seconds);

// How long the job ran: until it finished or, while it runs, until `now`;
// nullopt before it started.
std::optional<double> DurationSeconds(const v1::JobStatus& job, absl::Time now = absl::Now());

// Why a FAILED or CANCELLED job ended: its last attempt's error; OK for any
// other job, and for one that never ran (cancelled while pending).
absl::Status JobError(const v1::JobStatus& job);

// A job state from its name in a record (PENDING, running, ...). Error
// kInvalidArgument, listing the names.
absl::StatusOr<v1::JobState> ParseJobState(const std::string& name);

// {code, message}: the status code's name (e.g. "DEADLINE_EXCEEDED") and
// the message; plus `detail` when it is not null.
Value ErrorValue(const absl::Status& status, const Value& detail = Value());

// An exec job's command line, each word quoted as a shell would need it;
// nullopt for other jobs, and when the scheduler left the arguments out.
std::optional<std::string> CommandLine(const v1::JobStatus& job);

// A job: {id, state, function, attempts, max_attempts, submitted, started,
// finished, duration_s, worker, owner, priority, labels, args, command,
// waiting_for, history, error}; args is null when the scheduler left them
// out (over 4 KiB), command null unless it is an exec job.
Value JobValue(const v1::JobStatus& job, absl::Time now = absl::Now());

// An id the scheduler does not know: {id, state: "NOT_FOUND"}.
Value NotFoundValue(const std::string& id);

// A worker node: {name, id, slots, running, functions, labels, connected,
// jobs_done}.
Value WorkerValue(const v1::WorkerStatus& worker);

// The scheduler's counters: {pending, running, succeeded, failed, cancelled,
// workers, slots, uptime_s, ready, not_ready_reason}.
Value StatsValue(const v1::GetStatsResponse& stats);

// A queue of jobs waiting for a node: {function, labels, jobs}.
Value QueueValue(const v1::QueueStatus& queue);

}  // namespace netpool

#endif  // NETPOOL_COMMON_RECORDS_H_
