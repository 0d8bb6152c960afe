// Checks a submitted JobSpec before the scheduler accepts it, so that nothing
// a client sends can corrupt the queue or crash a worker.
#ifndef NETPOOL_SERVER_CORE_JOB_SPEC_VALIDATION_H_
#define NETPOOL_SERVER_CORE_JOB_SPEC_VALIDATION_H_

#include <string_view>

#include "absl/status/status.h"
#include "netpool/v1/netpool.pb.h"

namespace netpool {

inline constexpr int kMaxJobsPerSubmit = 100'000;
inline constexpr int kMaxArgsPerJob = 10'000;
inline constexpr int kMaxChunkEntries = 100'000;
inline constexpr size_t kMaxFunctionNameLength = 128;
inline constexpr int kMaxAttemptsLimit = 100;
inline constexpr size_t kMaxIdempotencyKeyLength = 256;

// [A-Za-z0-9_.:-]{1,128}, not starting with '-'.
bool IsValidFunctionName(std::string_view name);

// kInvalidArgument naming the first bad field; kUnimplemented for features of
// the contract that this version does not run yet (job references as
// arguments, placement by labels).
absl::Status ValidateJobSpec(const v1::JobSpec& spec);

}  // namespace netpool

#endif  // NETPOOL_SERVER_CORE_JOB_SPEC_VALIDATION_H_
