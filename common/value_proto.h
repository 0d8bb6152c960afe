// Conversions between the public netpool::Value / absl::Status and their wire
// forms in netpool.v1. Used by the scheduler, the worker and the client alike.
#ifndef NETPOOL_COMMON_VALUE_PROTO_H_
#define NETPOOL_COMMON_VALUE_PROTO_H_

#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "google/protobuf/repeated_field.h"
#include "netpool/v1/netpool.pb.h"
#include "netpool/value.h"

namespace netpool {

// Values nest at most this deep; deeper input is rejected (kInvalidArgument)
// so hostile input cannot exhaust the stack. Each level is two protobuf
// message levels (Value, ValueList/ValueMap), and protobuf's parser stops at
// 100, so this leaves room for the messages that carry a value.
inline constexpr int kMaxValueDepth = 32;

// Whether `text` is valid UTF-8, as a proto string field must be: a receiver
// refuses a whole message that has one bad string in it.
bool IsValidUtf8(std::string_view text);

// A string that is not valid UTF-8 is sent as bytes, so it arrives whole; a
// map key or job reference that is not has each bad byte replaced by U+FFFD.
void ToProto(const Value& value, v1::Value* out);
v1::Value ToProto(const Value& value);
// Errors: kInvalidArgument for an unset oneof (an empty message is accepted as
// null), a map with duplicate keys, or nesting deeper than kMaxValueDepth.
absl::StatusOr<Value> FromProto(const v1::Value& value);
absl::StatusOr<std::vector<Value>> FromProto(
    const google::protobuf::RepeatedPtrField<v1::Value>& values);
// Whether FromProto would accept `value` (the same checks and errors), found
// without building the Value: for the scheduler, which passes values on as
// they came.
absl::Status ValidateValue(const v1::Value& value);

// A job's failure travels as JobError {code, message}. An OK status maps to an
// empty JobError; an empty JobError maps back to kUnknown. A message that is
// not valid UTF-8 has each bad byte replaced by U+FFFD.
void StatusToJobError(const absl::Status& status, v1::JobError* out);
absl::Status JobErrorToStatus(const v1::JobError& error);

}  // namespace netpool

#endif  // NETPOOL_COMMON_VALUE_PROTO_H_
