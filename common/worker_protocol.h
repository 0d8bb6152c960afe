// The version of the WorkerHub protocol this build speaks, exchanged in
// WorkerHello.protocol_version and WorkerWelcome.protocol_version so that
// nodes and schedulers of different builds keep working together.
//   0: a node forgets a result once it wrote it to its stream.
//   1: the scheduler acknowledges each result once it is durable
//      (SchedulerMessage.acked_job_ids); the node keeps the result until
//      then and resends it on its next stream.
//   2: the node runs Assignment.packed_chunk; an older node is sent the
//      chunk's entries unpacked into Assignment.chunk.
#ifndef NETPOOL_COMMON_WORKER_PROTOCOL_H_
#define NETPOOL_COMMON_WORKER_PROTOCOL_H_

#include <cstdint>

namespace netpool {

inline constexpr uint32_t kWorkerProtocolVersion = 2;
inline constexpr uint32_t kFirstVersionWithResultAcks = 1;
inline constexpr uint32_t kFirstVersionWithPackedChunks = 2;

}  // namespace netpool

#endif  // NETPOOL_COMMON_WORKER_PROTOCOL_H_
