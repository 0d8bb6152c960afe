// Checks of every request netpoold receives, as pure functions from a parsed
// message to an absl::Status, so the gRPC services stay thin and the rules
// can be unit tested and fuzzed without a server. Each error is
// kInvalidArgument and names the offending field, e.g.
// "job_ids[3]: malformed job id \"a b\"".
//
//   if (absl::Status s = ValidateGetRequest(*request); !s.ok()) return ToGrpcStatus(s);
//
// Submit's jobs are checked by the scheduling core (ValidateJobSpec), which
// every way into the scheduler goes through.
#ifndef NETPOOL_SERVER_REQUEST_VALIDATION_H_
#define NETPOOL_SERVER_REQUEST_VALIDATION_H_

#include <cstddef>

#include "absl/status/status.h"
#include "netpool/v1/netpool.pb.h"
#include "netpool/v1/worker.pb.h"

namespace netpool {

// The largest request netpoold (and the scheduler Pool::Local embeds) reads.
inline constexpr int kMaxRequestBytes = 64 << 20;
// Job ids in one Watch message, Cancel, GetStatus or a worker's hello.
inline constexpr int kMaxIdsPerRequest = 100'000;
// ListJobs answers at most this many jobs; this many when not told.
inline constexpr int kMaxListLimit = 100'000;
inline constexpr int kDefaultListLimit = 1000;

inline constexpr int kMaxSlotsPerWorker = 10'000;
inline constexpr int kMaxPrefetchPerWorker = 100'000;
// A node gives back at most its whole window (slots and prefetch) at once.
inline constexpr int kMaxCreditsPerMessage = kMaxSlotsPerWorker + kMaxPrefetchPerWorker;
inline constexpr int kMaxFunctionsPerWorker = 10'000;
inline constexpr int kMaxResultsPerMessage = 100'000;
inline constexpr size_t kMaxWorkerNameLength = 256;
inline constexpr int kMaxLabelsPerWorker = 256;
inline constexpr size_t kMaxLabelKeyLength = 128;
inline constexpr size_t kMaxLabelValueLength = 1024;

// job_ids: 0..kMaxIdsPerRequest valid ids (an empty message is a no-op).
absl::Status ValidateWatchRequest(const v1::WatchRequest& request);
// job_id valid; timeout_seconds finite (< 0 waits forever).
absl::Status ValidateGetRequest(const v1::GetRequest& request);
// job_ids: 1..kMaxIdsPerRequest valid ids.
absl::Status ValidateCancelRequest(const v1::CancelRequest& request);
absl::Status ValidateGetStatusRequest(const v1::GetStatusRequest& request);
// state a known JobState; limit 0..kMaxListLimit.
absl::Status ValidateListJobsRequest(const v1::ListJobsRequest& request);

// A worker node's description of itself: name, slots, functions, labels and
// the jobs it still holds from an earlier stream.
absl::Status ValidateWorkerHello(const v1::WorkerHello& hello);
// The first message on a WorkerHub stream: it must carry a valid hello; its
// other fields follow the rules of ValidateLaterWorkerMessage.
absl::Status ValidateFirstWorkerMessage(const v1::WorkerMessage& message);
// Any later message: no hello, credits 0..kMaxCreditsPerMessage, at most
// kMaxResultsPerMessage results, each for a valid job id, in a final state.
absl::Status ValidateLaterWorkerMessage(const v1::WorkerMessage& message);

// Replaces each result whose value or error detail clients could not decode
// (see ValidateValue) with a FAILED result for that job saying why, so that
// a bad result fails its job once instead of the node's whole stream.
// Returns how many it replaced.
// REQUIRES: the message passed ValidateFirst/LaterWorkerMessage.
int FailUndecodableResults(v1::WorkerMessage& message);

}  // namespace netpool

#endif  // NETPOOL_SERVER_REQUEST_VALIDATION_H_
