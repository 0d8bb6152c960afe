// Packed chunks: a map chunk's argument lists serialized once by the client
// (JobSpec.packed_chunk) and its result list serialized once by the worker
// process (JobResult.packed_value), so that the scheduler and the node agent
// pass a chunk of thousands of calls on as one string instead of parsing and
// re-encoding every item. Both ends take value_wire's direct path where it
// applies, and build protobuf messages (on an arena) only where it does not.
//
//   spec.set_packed_chunk(PackChunk(arg_lists));            // client
//   absl::StatusOr<v1::PackedChunk> c = UnpackChunk(bytes);  // worker process
//   absl::StatusOr<v1::Value> v = UnpackValue(result.packed_value());  // reader
#ifndef NETPOOL_COMMON_PACKED_CHUNK_H_
#define NETPOOL_COMMON_PACKED_CHUNK_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "netpool/v1/netpool.pb.h"
#include "netpool/v1/worker.pb.h"
#include "netpool/value.h"

namespace netpool {

// The bytes of a PackedChunk with one entry per argument list.
std::string PackChunk(absl::Span<const ValueList> arg_lists);
// The same for calls of one argument each (Map's): arguments[i] is call i's.
std::string PackOneArgumentCalls(absl::Span<const Value> arguments);

// Errors: kInvalidArgument when `bytes` is not a PackedChunk.
absl::StatusOr<v1::PackedChunk> UnpackChunk(absl::string_view bytes);
// The same into `chunk`, which may live on an arena (a chunk of thousands
// of calls is as many messages, each its own allocation otherwise).
absl::Status UnpackChunk(absl::string_view bytes, v1::PackedChunk* chunk);

// Moves the entries of `assignment`'s packed_chunk into its chunk, for a
// node that predates packed chunks. Errors: as UnpackChunk.
absl::Status UnpackIntoChunk(v1::Assignment& assignment);

// A JobResult.packed_value as the Value it holds, parsed but not checked
// (FromProto or ValidateValue does that). Errors: kInternal when `bytes` is
// not a Value, which fails the job for whoever reads its result.
absl::StatusOr<v1::Value> UnpackValue(absl::string_view bytes);
// A JobResult.packed_value as a checked Value (FromProto). Errors: as
// UnpackValue, and as FromProto.
absl::StatusOr<Value> UnpackToValue(absl::string_view bytes);
// The bytes of `value` as a v1::Value (ToProto's). Errors: ValidateValue's,
// for a value the scheduler would refuse.
absl::StatusOr<std::string> PackValue(const Value& value);

}  // namespace netpool

#endif  // NETPOOL_COMMON_PACKED_CHUNK_H_
