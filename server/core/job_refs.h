// Job references: an argument whose value is another job's result
// (Value.job_ref). The scheduler holds a job back until the jobs it refers to
// have succeeded, then hands it to a worker with the references replaced by
// their results.
#ifndef NETPOOL_SERVER_CORE_JOB_REFS_H_
#define NETPOOL_SERVER_CORE_JOB_REFS_H_

#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "netpool/v1/netpool.pb.h"
#include "netpool/v1/worker.pb.h"

namespace netpool {

// The distinct job ids referred to anywhere in the job's args or chunk
// (nested lists and maps included), in first-seen order. A packed_chunk is
// not read: the client packs only chunks without references.
std::vector<std::string> CollectJobRefs(const v1::JobSpec& spec);

// Replaces every reference in `assignment`'s args and chunk with the value
// `result_of` gives for that id; its error (for example a result that is no
// longer kept) stops the substitution.
absl::Status SubstituteJobRefs(
    const std::function<absl::StatusOr<v1::Value>(const std::string& job_id)>& result_of,
    v1::Assignment& assignment);

// The value a succeeded job's result gives a job that refers to it: its
// value, or its packed_value parsed. Errors: kFailedPrecondition when the
// packed_value does not parse or ValidateValue refuses it.
absl::StatusOr<v1::Value> ResultValue(const v1::JobResult& result);

}  // namespace netpool

#endif  // NETPOOL_SERVER_CORE_JOB_REFS_H_
