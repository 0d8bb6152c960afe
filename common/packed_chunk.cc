#include "common/packed_chunk.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "common/value_proto.h"
#include "netpool/v1/worker.pb.h"

namespace netpool {

std::string PackChunk(absl::Span<const ValueList> arg_lists) {
  v1::PackedChunk chunk;
  chunk.mutable_entries()->Reserve(static_cast<int>(arg_lists.size()));
  for (const ValueList& args : arg_lists) {
    auto* items = chunk.add_entries()->mutable_items();
    items->Reserve(static_cast<int>(args.size()));
    for (const Value& arg : args) ToProto(arg, items->Add());
  }
  return chunk.SerializeAsString();
}

absl::StatusOr<v1::PackedChunk> UnpackChunk(absl::string_view bytes) {
  v1::PackedChunk chunk;
  if (!chunk.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return absl::InvalidArgumentError(
        absl::StrCat("packed_chunk (", bytes.size(), " bytes) is not a PackedChunk message"));
  }
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
  if (!value.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return absl::InternalError(absl::StrCat("the job's packed result (", bytes.size(),
                                            " bytes) is not a Value message"));
  }
  return value;
}

}  // namespace netpool
