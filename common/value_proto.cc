#include "common/value_proto.h"

#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "google/protobuf/unknown_field_set.h"

namespace netpool {
namespace {

// Nested values are built from the innermost outwards, so this recursion is
// bounded by kMaxValueDepth, which is far below what a thread stack can take.
// `depth` counts the lists and maps enclosing `in`.
absl::StatusOr<Value> FromProtoAtDepth(const v1::Value& in, int depth) {
  switch (in.kind_case()) {
    case v1::Value::KIND_NOT_SET:
      // An absent Value field reads as an empty message: that is a null. A
      // message that does carry fields we do not know is a kind from a newer
      // peer, which we cannot represent.
      if (!in.GetReflection()->GetUnknownFields(in).empty()) {
        return absl::InvalidArgumentError("value of an unknown kind");
      }
      return Value();
    case v1::Value::kNullValue:
      return Value();
    case v1::Value::kBoolValue:
      return Value(in.bool_value());
    case v1::Value::kIntValue:
      return Value(static_cast<int64_t>(in.int_value()));
    case v1::Value::kDoubleValue:
      return Value(in.double_value());
    case v1::Value::kStringValue:
      return Value(in.string_value());
    case v1::Value::kBytesValue:
      return Value(Bytes{in.bytes_value()});
    case v1::Value::kJobRef:
      return Value(JobRef{in.job_ref()});
    case v1::Value::kListValue:
    case v1::Value::kMapValue:
      break;
  }
  if (depth >= kMaxValueDepth) {
    return absl::InvalidArgumentError(
        absl::StrCat("value nests deeper than ", kMaxValueDepth, " levels"));
  }
  if (in.kind_case() == v1::Value::kListValue) {
    ValueList list;
    list.reserve(in.list_value().items_size());
    for (const v1::Value& item : in.list_value().items()) {
      absl::StatusOr<Value> v = FromProtoAtDepth(item, depth + 1);
      if (!v.ok()) return v.status();
      list.push_back(*std::move(v));
    }
    return Value(std::move(list));
  }
  ValueMap map;
  for (const v1::ValueMapEntry& entry : in.map_value().entries()) {
    absl::StatusOr<Value> v = FromProtoAtDepth(entry.value(), depth + 1);
    if (!v.ok()) return v.status();
    if (!map.emplace(entry.key(), *std::move(v)).second) {
      return absl::InvalidArgumentError(absl::StrCat("duplicate map key \"", entry.key(), "\""));
    }
  }
  return Value(std::move(map));
}

}  // namespace

void ToProto(const Value& value, v1::Value* out) {
  switch (value.kind()) {
    case Value::Kind::kNull:
      out->set_null_value(true);
      return;
    case Value::Kind::kBool:
      out->set_bool_value(value.AsBool());
      return;
    case Value::Kind::kInt:
      out->set_int_value(value.AsInt());
      return;
    case Value::Kind::kDouble:
      out->set_double_value(value.AsDouble());
      return;
    case Value::Kind::kString:
      out->set_string_value(value.AsString());
      return;
    case Value::Kind::kBytes:
      out->set_bytes_value(value.AsBytes());
      return;
    case Value::Kind::kJobRef:
      out->set_job_ref(value.AsJobRef());
      return;
    case Value::Kind::kList: {
      v1::ValueList* list = out->mutable_list_value();
      list->clear_items();
      list->mutable_items()->Reserve(static_cast<int>(value.AsList().size()));
      for (const Value& item : value.AsList()) ToProto(item, list->add_items());
      return;
    }
    case Value::Kind::kMap: {
      v1::ValueMap* map = out->mutable_map_value();
      map->clear_entries();
      // ValueMap iterates in key order, which keeps the encoding deterministic.
      for (const auto& [key, item] : value.AsMap()) {
        v1::ValueMapEntry* entry = map->add_entries();
        entry->set_key(key);
        ToProto(item, entry->mutable_value());
      }
      return;
    }
  }
}

v1::Value ToProto(const Value& value) {
  v1::Value out;
  ToProto(value, &out);
  return out;
}

absl::StatusOr<Value> FromProto(const v1::Value& value) { return FromProtoAtDepth(value, 0); }

absl::StatusOr<std::vector<Value>> FromProto(
    const google::protobuf::RepeatedPtrField<v1::Value>& values) {
  std::vector<Value> out;
  out.reserve(values.size());
  for (int i = 0; i < values.size(); ++i) {
    absl::StatusOr<Value> v = FromProto(values[i]);
    if (!v.ok()) {
      return absl::Status(v.status().code(), absl::StrCat("value ", i, ": ", v.status().message()));
    }
    out.push_back(*std::move(v));
  }
  return out;
}

void StatusToJobError(const absl::Status& status, v1::JobError* out) {
  out->Clear();
  if (status.ok()) return;
  out->set_code(static_cast<int32_t>(status.code()));
  out->set_message(std::string(status.message()));
}

absl::Status JobErrorToStatus(const v1::JobError& error) {
  // A code we do not know (or none, or OK: a failure must not read as
  // success) becomes kUnknown; the message survives either way.
  const int code = error.code();
  const bool known = code > static_cast<int>(absl::StatusCode::kOk) &&
                     code <= static_cast<int>(absl::StatusCode::kUnauthenticated);
  if (!known) {
    return absl::UnknownError(error.message().empty() ? "job failed without an error message"
                                                      : error.message());
  }
  return absl::Status(static_cast<absl::StatusCode>(code), error.message());
}

}  // namespace netpool
