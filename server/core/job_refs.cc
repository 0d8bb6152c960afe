#include "server/core/job_refs.h"

#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "common/packed_chunk.h"
#include "common/value_proto.h"
#include "netpool/v1/worker.pb.h"

namespace netpool {
namespace {

void Collect(const v1::Value& value, absl::flat_hash_set<std::string>& seen,
             std::vector<std::string>& out) {
  switch (value.kind_case()) {
    case v1::Value::kJobRef:
      if (seen.insert(value.job_ref()).second) out.push_back(value.job_ref());
      break;
    case v1::Value::kListValue:
      for (const v1::Value& item : value.list_value().items()) Collect(item, seen, out);
      break;
    case v1::Value::kMapValue:
      for (const v1::ValueMapEntry& entry : value.map_value().entries()) {
        Collect(entry.value(), seen, out);
      }
      break;
    default:
      break;
  }
}

using ResultOf = std::function<absl::StatusOr<v1::Value>(const std::string&)>;

absl::Status Substitute(const ResultOf& result_of, v1::Value& value) {
  switch (value.kind_case()) {
    case v1::Value::kJobRef: {
      absl::StatusOr<v1::Value> result = result_of(value.job_ref());
      if (!result.ok()) return result.status();
      value = *std::move(result);
      return absl::OkStatus();
    }
    case v1::Value::kListValue:
      for (v1::Value& item : *value.mutable_list_value()->mutable_items()) {
        if (absl::Status s = Substitute(result_of, item); !s.ok()) return s;
      }
      return absl::OkStatus();
    case v1::Value::kMapValue:
      for (v1::ValueMapEntry& entry : *value.mutable_map_value()->mutable_entries()) {
        if (absl::Status s = Substitute(result_of, *entry.mutable_value()); !s.ok()) return s;
      }
      return absl::OkStatus();
    default:
      return absl::OkStatus();
  }
}

}  // namespace

absl::StatusOr<v1::Value> ResultValue(const v1::JobResult& result) {
  if (result.packed_value().empty()) return result.value();
  absl::StatusOr<v1::Value> value = UnpackValue(result.packed_value());
  absl::Status usable = value.ok() ? ValidateValue(*value) : value.status();
  if (!usable.ok()) {
    return absl::FailedPreconditionError(
        absl::StrCat("the result of job ", result.job_id(), " is unusable: ", usable.message()));
  }
  return value;
}

std::vector<std::string> CollectJobRefs(const v1::JobSpec& spec) {
  absl::flat_hash_set<std::string> seen;
  std::vector<std::string> refs;
  for (const v1::Value& arg : spec.args()) Collect(arg, seen, refs);
  for (const v1::ValueList& entry : spec.chunk()) {
    for (const v1::Value& arg : entry.items()) Collect(arg, seen, refs);
  }
  return refs;
}

absl::Status SubstituteJobRefs(const ResultOf& result_of, v1::Assignment& assignment) {
  for (v1::Value& arg : *assignment.mutable_args()) {
    if (absl::Status s = Substitute(result_of, arg); !s.ok()) return s;
  }
  for (v1::ValueList& entry : *assignment.mutable_chunk()) {
    for (v1::Value& arg : *entry.mutable_items()) {
      if (absl::Status s = Substitute(result_of, arg); !s.ok()) return s;
    }
  }
  return absl::OkStatus();
}

}  // namespace netpool
