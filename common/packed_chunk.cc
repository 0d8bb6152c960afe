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

}  // namespace

std::string PackChunk(absl::Span<const ValueList> arg_lists) {
  if (std::optional<std::string> bytes = EncodeChunk(arg_lists)) return *std::move(bytes);
  google::protobuf::Arena arena;
  auto* chunk = google::protobuf::Arena::CreateMessage<v1::PackedChunk>(&arena);
  chunk->mutable_entries()->Reserve(static_cast<int>(arg_lists.size()));
  for (const ValueList& args : arg_lists) {
    auto* items = chunk->add_entries()->mutable_items();
    items->Reserve(static_cast<int>(args.size()));
    for (const Value& arg : args) ToProto(arg, items->Add());
  }
  return chunk->SerializeAsString();
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
