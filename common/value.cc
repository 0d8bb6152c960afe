#include "netpool/value.h"

namespace netpool {
namespace {

// What a mismatched accessor hands back: a caller that skipped the kind check
// gets an empty value instead of undefined behaviour.
const std::string& EmptyString() {
  static const std::string* const kEmpty = new std::string();
  return *kEmpty;
}

const ValueList& EmptyList() {
  static const ValueList* const kEmpty = new ValueList();
  return *kEmpty;
}

const ValueMap& EmptyMap() {
  static const ValueMap* const kEmpty = new ValueMap();
  return *kEmpty;
}

}  // namespace

bool Value::AsBool() const {
  const bool* b = std::get_if<bool>(&v_);
  return b != nullptr && *b;
}

int64_t Value::AsInt() const {
  const int64_t* i = std::get_if<int64_t>(&v_);
  return i != nullptr ? *i : 0;
}

double Value::AsDouble() const {
  if (const double* d = std::get_if<double>(&v_)) return *d;
  if (const int64_t* i = std::get_if<int64_t>(&v_)) return static_cast<double>(*i);
  return 0.0;
}

const std::string& Value::AsString() const {
  const std::string* s = std::get_if<std::string>(&v_);
  return s != nullptr ? *s : EmptyString();
}

const std::string& Value::AsBytes() const {
  const Bytes* b = std::get_if<Bytes>(&v_);
  return b != nullptr ? b->data : EmptyString();
}

const ValueList& Value::AsList() const {
  const ValueList* l = std::get_if<ValueList>(&v_);
  return l != nullptr ? *l : EmptyList();
}

const ValueMap& Value::AsMap() const {
  const ValueMap* m = std::get_if<ValueMap>(&v_);
  return m != nullptr ? *m : EmptyMap();
}

const std::string& Value::AsJobRef() const {
  const JobRef* r = std::get_if<JobRef>(&v_);
  return r != nullptr ? r->job_id : EmptyString();
}

// Any other kind is replaced too, just as assigning a list would.
ValueList& Value::MutableList() {
  if (!is_list()) v_ = ValueList();
  return std::get<ValueList>(v_);
}

ValueMap& Value::MutableMap() {
  if (!is_map()) v_ = ValueMap();
  return std::get<ValueMap>(v_);
}

std::string_view KindName(Value::Kind kind) {
  switch (kind) {
    case Value::Kind::kNull:
      return "null";
    case Value::Kind::kBool:
      return "bool";
    case Value::Kind::kInt:
      return "int";
    case Value::Kind::kDouble:
      return "double";
    case Value::Kind::kString:
      return "string";
    case Value::Kind::kBytes:
      return "bytes";
    case Value::Kind::kList:
      return "list";
    case Value::Kind::kMap:
      return "map";
    case Value::Kind::kJobRef:
      return "job reference";
  }
  return "unknown";
}

}  // namespace netpool
