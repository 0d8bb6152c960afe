// The wire form of v1::Value (and of a PackedChunk's argument lists) written
// from, and read into, netpool::Value directly, for packed chunks: a chunk of
// thousands of calls is as many protobuf messages otherwise, each built,
// allocated and freed once more on its way.
//
// Both directions cover the canonical encoding of the values ToProto and
// FromProto pass without complaint; for anything else (a key that is not
// UTF-8, nesting at the depth limit, a field we do not expect) they answer
// nullopt, and the caller takes the protobuf path, whose answer, errors
// included, is the one that counts.
//
//   std::optional<std::string> bytes = EncodeValue(value);  // nullopt: use ToProto
//   std::optional<Value> back = DecodeValue(*bytes);       // nullopt: use FromProto
#ifndef NETPOOL_COMMON_VALUE_WIRE_H_
#define NETPOOL_COMMON_VALUE_WIRE_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "netpool/value.h"

namespace netpool {

// The bytes ToProto(value).SerializeAsString() would give.
std::optional<std::string> EncodeValue(const Value& value);
// The bytes of the PackedChunk with one entry per argument list.
std::optional<std::string> EncodeChunk(absl::Span<const ValueList> arg_lists);
// The same for calls of one argument each: arguments[i] is call i's.
std::optional<std::string> EncodeChunk(absl::Span<const Value> arguments);

// What FromProto makes of `bytes` parsed as a v1::Value.
std::optional<Value> DecodeValue(absl::string_view bytes);
// The argument lists of `bytes` parsed as a PackedChunk, each as FromProto
// makes them.
std::optional<std::vector<ValueList>> DecodeChunk(absl::string_view bytes);

}  // namespace netpool

#endif  // NETPOOL_COMMON_VALUE_WIRE_H_
