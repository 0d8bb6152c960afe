// How the streams between client, scheduler and worker node batch under
// load. Each message costs both ends system calls and thread wake-ups
// whatever its size, so when the previous message on a stream left less than
// kBatchLinger ago (traffic is steady), a sender waits up to kBatchLinger
// for kBatchEnough items to go together. After a quiet spell the first item
// goes at once: a lone call never waits.
#ifndef NETPOOL_COMMON_BATCHING_H_
#define NETPOOL_COMMON_BATCHING_H_

#include <cstddef>

#include "absl/time/time.h"

namespace netpool {

inline constexpr absl::Duration kBatchLinger = absl::Microseconds(250);
inline constexpr size_t kBatchEnough = 256;

}  // namespace netpool

#endif  // NETPOOL_COMMON_BATCHING_H_
