#include "common/value_proto.h"

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_set>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/unknown_field_set.h"

namespace netpool {
namespace {

// Map keys quoted in errors are cut short and escaped: a key can be megabytes
// long or hold control characters.
constexpr size_t kMaxQuotedKeyLength = 64;

absl::Status UnknownKindError() { return absl::InvalidArgumentError("value of an unknown kind"); }

absl::Status TooDeepError() {
  return absl::InvalidArgumentError(
      absl::StrCat("value nests deeper than ", kMaxValueDepth, " levels"));
}

absl::Status DuplicateKeyError(const std::string& key) {
  return absl::InvalidArgumentError(absl::StrCat(
      "duplicate map key \"", absl::CHexEscape(key.substr(0, kMaxQuotedKeyLength)), "\""));
}

// The length of the UTF-8 sequence that starts `text`, or 0 when none does:
// overlong forms, surrogates and code points past U+10FFFF are refused, as
// protobuf's parser refuses them.
size_t Utf8SequenceLength(std::string_view text) {
  const unsigned char lead = static_cast<unsigned char>(text[0]);
  if (lead < 0x80) return 1;
  size_t length;
  uint32_t code;
  if ((lead & 0xe0) == 0xc0) {
    length = 2, code = lead & 0x1f;
  } else if ((lead & 0xf0) == 0xe0) {
    length = 3, code = lead & 0x0f;
  } else if ((lead & 0xf8) == 0xf0) {
    length = 4, code = lead & 0x07;
  } else {
    return 0;
  }
  if (text.size() < length) return 0;
  for (size_t i = 1; i < length; ++i) {
    const unsigned char next = static_cast<unsigned char>(text[i]);
    if ((next & 0xc0) != 0x80) return 0;
    code = (code << 6) | (next & 0x3f);
  }
  static constexpr uint32_t kSmallest[] = {0, 0, 0x80, 0x800, 0x10000};
  if (code < kSmallest[length] || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) {
    return 0;
  }
  return length;
}

// `text` with each byte that starts no valid UTF-8 sequence replaced by
// U+FFFD, for the string fields that cannot fall back to bytes.
std::string ReplaceInvalidUtf8(std::string_view text) {
  if (IsValidUtf8(text)) return std::string(text);
  std::string out;
  out.reserve(text.size() + 8);
  while (!text.empty()) {
    const size_t length = Utf8SequenceLength(text);
    if (length == 0) {
      out.append("\xef\xbf\xbd");
      text.remove_prefix(1);
    } else {
      out.append(text.data(), length);
      text.remove_prefix(length);
    }
  }
  return out;
}

// An absent Value field reads as an empty message: that is a null. A message
// that does carry fields we do not know is a kind from a newer peer, which we
// cannot represent.
bool IsUnknownKind(const v1::Value& value) {
  return value.kind_case() == v1::Value::KIND_NOT_SET &&
         !value.GetReflection()->GetUnknownFields(value).empty();
}

// Nested values are built from the innermost outwards, so this recursion is
// bounded by kMaxValueDepth, which is far below what a thread stack can take.
// `depth` counts the lists and maps enclosing `in`.
absl::StatusOr<Value> FromProtoAtDepth(const v1::Value& in, int depth) {
  switch (in.kind_case()) {
    case v1::Value::KIND_NOT_SET:
      if (IsUnknownKind(in)) return UnknownKindError();
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
  if (depth >= kMaxValueDepth) return TooDeepError();
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
    if (!map.emplace(entry.key(), *std::move(v)).second) return DuplicateKeyError(entry.key());
  }
  return Value(std::move(map));
}

// FromProtoAtDepth's checks, in the same order, without building anything.
absl::Status ValidateAtDepth(const v1::Value& in, int depth) {
  if (in.kind_case() != v1::Value::kListValue && in.kind_case() != v1::Value::kMapValue) {
    return IsUnknownKind(in) ? UnknownKindError() : absl::OkStatus();
  }
  if (depth >= kMaxValueDepth) return TooDeepError();
  if (in.kind_case() == v1::Value::kListValue) {
    for (const v1::Value& item : in.list_value().items()) {
      if (absl::Status s = ValidateAtDepth(item, depth + 1); !s.ok()) return s;
    }
    return absl::OkStatus();
  }
  std::unordered_set<std::string_view> keys;
  keys.reserve(in.map_value().entries_size());
  for (const v1::ValueMapEntry& entry : in.map_value().entries()) {
    if (absl::Status s = ValidateAtDepth(entry.value(), depth + 1); !s.ok()) return s;
    if (!keys.insert(std::string_view(entry.key())).second) return DuplicateKeyError(entry.key());
  }
  return absl::OkStatus();
}

}  // namespace

bool IsValidUtf8(std::string_view text) {
  while (!text.empty()) {
    const size_t length = Utf8SequenceLength(text);
    if (length == 0) return false;
    text.remove_prefix(length);
  }
  return true;
}

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
      if (IsValidUtf8(value.AsString())) {
        out->set_string_value(value.AsString());
      } else {
        out->set_bytes_value(value.AsString());
      }
      return;
    case Value::Kind::kBytes:
      out->set_bytes_value(value.AsBytes());
      return;
    case Value::Kind::kJobRef:
      out->set_job_ref(ReplaceInvalidUtf8(value.AsJobRef()));
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
        entry->set_key(ReplaceInvalidUtf8(key));
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

absl::Status ValidateValue(const v1::Value& value) { return ValidateAtDepth(value, 0); }

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
  // A message is a proto string: one bad byte would make the receiver
  // refuse the whole message that carries it.
  const absl::string_view message = status.message();
  out->set_message(ReplaceInvalidUtf8(std::string_view(message.data(), message.size())));
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
