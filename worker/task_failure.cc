#include "worker/task_failure.h"

#include "absl/strings/cord.h"
#include "common/value_proto.h"

namespace netpool {
namespace {

constexpr char kDetailTypeUrl[] = "type.googleapis.com/netpool.v1.Value";

}  // namespace

absl::Status TaskFailure(absl::StatusCode code, std::string message, const Value& detail) {
  absl::Status status(code, message);
  status.SetPayload(kDetailTypeUrl, absl::Cord(ToProto(detail).SerializeAsString()));
  return status;
}

std::optional<Value> TaskFailureDetail(const absl::Status& status) {
  absl::optional<absl::Cord> payload = status.GetPayload(kDetailTypeUrl);
  if (!payload.has_value()) return std::nullopt;
  v1::Value proto;
  if (!proto.ParseFromString(std::string(*payload))) return std::nullopt;
  absl::StatusOr<Value> detail = FromProto(proto);
  if (!detail.ok()) return std::nullopt;
  return *std::move(detail);
}

}  // namespace netpool
