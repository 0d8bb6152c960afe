// Job ids: random, URL-safe, unique without coordination, so a client can
// name its jobs before the Submit RPC returns.
#ifndef NETPOOL_COMMON_JOB_ID_H_
#define NETPOOL_COMMON_JOB_ID_H_

#include <string>
#include <string_view>

namespace netpool {

inline constexpr size_t kMaxJobIdLength = 64;

// "j-" followed by 22 random base62 characters (~131 bits).
std::string NewJobId();

// [A-Za-z0-9_.-]{1,64}
bool IsValidJobId(std::string_view id);

// The job id a client gives a job submitted with an idempotency key: the
// same key always names the same id ("k-" and 32 hex digits of two 64-bit
// FNV-1a hashes of the key), so the handle a client holds before its Submit
// returns is the id the scheduler answers with.
std::string JobIdForIdempotencyKey(std::string_view key);

}  // namespace netpool

#endif  // NETPOOL_COMMON_JOB_ID_H_
