#include "common/packed_chunk.h"

#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "google/protobuf/arena.h"
#include "common/value_proto.h"
#include "common/value_wire.h"
#include "netpool/v1/worker.pb.h"

namespace netpool {

namespace {

bool Parse(absl::string_view bytes, google::protobuf::MessageLite* message) {
  return message->ParseFromArray(bytes.data(), static_cast<int>(bytes.size()));
}

absl::Status NotAValue(absl::string_view bytes) {
  return absl::InternalError(absl::StrCat("the job's packed result (", bytes.size(),
                                          " bytes) is not a Value message"));
}

void AddArgs(const ValueList& args, v1::ValueList* entry) {
  entry->mutable_items()->Reserve(static_cast<int>(args.size()));
  for (const Value& arg : args) ToProto(arg, entry->add_items());
}
void AddArgs(const Value& argument, v1::ValueList* entry) { ToProto(argument, entry->add_items()); }

// The protobuf path, for the calls EncodeChunk leaves to it.
template <typename Call>
std::string PackCalls(absl::Span<const Call> calls) {
  if (std::optional<std::string> bytes = EncodeChunk(calls)) return *std::move(bytes);
  google::protobuf::Arena arena;
  auto* chunk = google::protobuf::Arena::CreateMessage<v1::PackedChunk>(&arena);
  chunk->mutable_entries()->Reserve(static_cast<int>(calls.size()));
  for (const Call& call : calls) AddArgs(call, chunk->add_entries());
  return chunk->SerializeAsString();
}

}  // namespace

std::string PackChunk(absl::Span<const ValueList> arg_lists) { return PackCalls(arg_lists); }

std::string PackOneArgumentCalls(absl::Span<const Value> arguments) {
  return PackCalls(arguments);
}

absl::Status UnpackChunk(absl::string_view bytes, v1::PackedChunk* chunk) {
  if (Parse(bytes, chunk)) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat("packed_chunk (", bytes.size(), " bytes) is not a PackedChunk message"));
}

absl::StatusOr<v1::PackedChunk> UnpackChunk(absl::string_view bytes) {
  v1::PackedChunk chunk;
  if (absl::Status parsed = UnpackChunk(bytes, &chunk); !parsed.ok()) return parsed;
  return chunk;
}

absl::Status UnpackIntoChunk(v1::Assignment& assignment) {
  absl::StatusOr<v1::PackedChunk> chunk = UnpackChunk(assignment.packed_chunk());
  if (!chunk.ok()) return chunk.status();
  assignment.clear_packed_chunk();
  assignment.mutable_chunk()->Swap(chunk->mutable_entries());
  return absl::OkStatus();
}

absl::StatusOr<v1::Value> UnpackValue(absl::string_view bytes) {
  v1::Value value;
  if (!Parse(bytes, &value)) return NotAValue(bytes);
  return value;
}

absl::StatusOr<Value> UnpackToValue(absl::string_view bytes) {
  if (std::optional<Value> value = DecodeValue(bytes)) return *std::move(value);
  google::protobuf::Arena arena;
  auto* value = google::protobuf::Arena::CreateMessage<v1::Value>(&arena);
  if (!Parse(bytes, value)) return NotAValue(bytes);
  return FromProto(*value);
}

absl::StatusOr<std::string> PackValue(const Value& value) {
  // EncodeValue takes only values that ValidateValue accepts.
  if (std::optional<std::string> bytes = EncodeValue(value)) return *std::move(bytes);
  google::protobuf::Arena arena;
  auto* proto = google::protobuf::Arena::CreateMessage<v1::Value>(&arena);
  ToProto(value, proto);
  if (absl::Status valid = ValidateValue(*proto); !valid.ok()) return valid;
  return proto->SerializeAsString();
}

}  // namespace netpool
