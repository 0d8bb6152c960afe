// netpool::Value is the dynamically typed value that travels as a job's
// arguments and result: null, bool, int64, double, string, bytes, list, map,
// or a reference to another job's result.
//
//   netpool::Value v = netpool::ValueMap{{"file", "sub-01.nii"}, {"size", 3}};
//   std::string json = v.ToJson();              // {"file":"sub-01.nii","size":3}
//   absl::StatusOr<netpool::Value> back = netpool::Value::FromJson(json);
#ifndef NETPOOL_VALUE_H_
#define NETPOOL_VALUE_H_

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "absl/status/statusor.h"

namespace netpool {

class Value;
using ValueList = std::vector<Value>;
using ValueMap = std::map<std::string, Value>;

// Raw bytes; distinct from a (UTF-8) string. JSON form: {"$bytes": "<base64>"}.
struct Bytes {
  std::string data;
  bool operator==(const Bytes& other) const { return data == other.data; }
};

// "The result of job `job_id`". JSON form: {"$job": "<id>"}.
struct JobRef {
  std::string job_id;
  bool operator==(const JobRef& other) const { return job_id == other.job_id; }
};

class Value {
 public:
  enum class Kind { kNull, kBool, kInt, kDouble, kString, kBytes, kList, kMap, kJobRef };

  Value() = default;  // null
  Value(std::nullptr_t) {}
  Value(bool b) : v_(b) {}
  Value(int i) : v_(int64_t{i}) {}
  Value(long i) : v_(int64_t{i}) {}
  Value(long long i) : v_(int64_t{i}) {}
  Value(unsigned i) : v_(int64_t{i}) {}
  Value(unsigned long i) : v_(static_cast<int64_t>(i)) {}
  Value(unsigned long long i) : v_(static_cast<int64_t>(i)) {}
  Value(float d) : v_(double{d}) {}
  Value(double d) : v_(d) {}
  Value(const char* s) : v_(std::string(s)) {}
  Value(std::string s) : v_(std::move(s)) {}
  Value(std::string_view s) : v_(std::string(s)) {}
  Value(Bytes b) : v_(std::move(b)) {}
  Value(ValueList l) : v_(std::move(l)) {}
  Value(ValueMap m) : v_(std::move(m)) {}
  Value(JobRef r) : v_(std::move(r)) {}

  Kind kind() const { return static_cast<Kind>(v_.index()); }
  bool is_null() const { return kind() == Kind::kNull; }
  bool is_bool() const { return kind() == Kind::kBool; }
  bool is_int() const { return kind() == Kind::kInt; }
  bool is_double() const { return kind() == Kind::kDouble; }
  bool is_number() const { return is_int() || is_double(); }
  bool is_string() const { return kind() == Kind::kString; }
  bool is_bytes() const { return kind() == Kind::kBytes; }
  bool is_list() const { return kind() == Kind::kList; }
  bool is_map() const { return kind() == Kind::kMap; }
  bool is_job_ref() const { return kind() == Kind::kJobRef; }

  // Accessors. REQUIRES: the value has that kind (AsDouble also accepts an
  // int). On a mismatch they return a zero/empty value rather than throw.
  bool AsBool() const;
  int64_t AsInt() const;
  double AsDouble() const;
  const std::string& AsString() const;
  const std::string& AsBytes() const;
  const ValueList& AsList() const;
  const ValueMap& AsMap() const;
  const std::string& AsJobRef() const;

  // Mutable access; turns a null into an empty list / map first.
  ValueList& MutableList();
  ValueMap& MutableMap();

  // Compact JSON. Doubles keep a fraction part ("2.0") so they read back as
  // doubles; NaN and infinities, which JSON lacks, become null.
  std::string ToJson() const;
  static absl::StatusOr<Value> FromJson(std::string_view json);

  friend bool operator==(const Value& a, const Value& b) { return a.v_ == b.v_; }
  friend bool operator!=(const Value& a, const Value& b) { return !(a == b); }

 private:
  std::variant<std::monostate, bool, int64_t, double, std::string, Bytes, ValueList, ValueMap,
               JobRef>
      v_;
};

// Name of a kind, for error messages ("expected int, got string").
std::string_view KindName(Value::Kind kind);

}  // namespace netpool

#endif  // NETPOOL_VALUE_H_
