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
inline constexpr int kMinPriority = -1'000'000;
inline constexpr int kMaxPriority = 1'000'000;
// Longer than any job we mean to run; past this a Duration saturates, which
// would read as "no timeout".
inline constexpr double kMaxTimeoutSeconds = 366 * 24 * 3600.0;
inline constexpr double kMaxRetryBackoffSeconds = 24 * 3600.0;
inline constexpr int kMaxLabelsPerJob = 32;
inline constexpr size_t kMaxJobLabelValueLength = 256;

// [A-Za-z0-9_.:-]{1,128}, not starting with '-'.
bool IsValidFunctionName(std::string_view name);

// 1..kMaxIdempotencyKeyLength bytes of text without control characters, so
// that a key shows in logs and terminals as it is.
bool IsValidIdempotencyKey(std::string_view key);

// kInvalidArgument naming the first bad field. A label key follows the rule
// of function names; a label value is 0..kMaxJobLabelValueLength bytes of
// UTF-8. The ids that job references name are the scheduler's to check.
absl::Status ValidateJobSpec(const v1::JobSpec& spec);

}  // namespace netpool

#endif  // NETPOOL_SERVER_CORE_JOB_SPEC_VALIDATION_H_
