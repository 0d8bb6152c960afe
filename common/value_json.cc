// Value <-> JSON. nlohmann::json stays inside this file: it throws, and the
// rest of netpool speaks absl::Status.
#include <cstdint>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/value_proto.h"  // kMaxValueDepth
#include "netpool/value.h"
#include "nlohmann/json.hpp"

namespace netpool {
namespace {

using Json = nlohmann::json;

// The single-key objects that stand for the kinds JSON lacks.
constexpr char kBytesKey[] = "$bytes";
constexpr char kJobKey[] = "$job";

Json ToJsonTree(const Value& value) {
  switch (value.kind()) {
    case Value::Kind::kNull:
      return nullptr;
    case Value::Kind::kBool:
      return value.AsBool();
    case Value::Kind::kInt:
      return value.AsInt();
    case Value::Kind::kDouble:
      return value.AsDouble();
    case Value::Kind::kString:
      return value.AsString();
    case Value::Kind::kBytes:
      return Json::object({{kBytesKey, absl::Base64Escape(value.AsBytes())}});
    case Value::Kind::kJobRef:
      return Json::object({{kJobKey, value.AsJobRef()}});
    case Value::Kind::kList: {
      Json list = Json::array();
      for (const Value& item : value.AsList()) list.push_back(ToJsonTree(item));
      return list;
    }
    case Value::Kind::kMap: {
      Json map = Json::object();
      for (const auto& [key, item] : value.AsMap()) map.emplace(key, ToJsonTree(item));
      return map;
    }
  }
  return nullptr;
}

// Error text may quote the offending input; keep it printable ASCII so the
// message can travel in a proto string field and show on any terminal.
std::string Printable(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    const unsigned char u = static_cast<unsigned char>(c);
    if (u < 0x20 || u >= 0x7f) {
      absl::StrAppendFormat(&out, "\\x%02x", u);
    } else {
      out.push_back(c);
    }
  }
  return out;
}

// ValueBuilder receives nlohmann's SAX events and assembles the Value with an
// explicit stack, so hostile nesting costs heap, not call stack, and is cut
// off at kMaxValueDepth as soon as it is seen.
class ValueBuilder {
 public:
  bool null() { return Add(Value()); }
  bool boolean(bool b) { return Add(Value(b)); }
  bool number_integer(int64_t i) { return Add(Value(i)); }
  bool number_unsigned(uint64_t u) {
    if (u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      return Add(Value(static_cast<double>(u)));
    }
    return Add(Value(static_cast<int64_t>(u)));
  }
  bool number_float(double d, const std::string& /*text*/) { return Add(Value(d)); }
  bool string(std::string& s) { return Add(Value(std::move(s))); }
  bool binary(Json::binary_t& /*b*/) { return Fail("binary data is not JSON"); }

  bool start_array(std::size_t /*size*/) {
    if (open_.size() >= kMaxValueDepth) return FailTooDeep();
    open_.push_back(Open{Value(ValueList()), {}});
    return true;
  }
  bool end_array() { return Close(); }

  // An object one level past the limit is let in because it may turn out to
  // be {"$bytes": ...} or {"$job": ...}, which are not containers; Close()
  // checks once its keys are known.
  bool start_object(std::size_t /*size*/) {
    if (open_.size() > kMaxValueDepth) return FailTooDeep();
    open_.push_back(Open{Value(ValueMap()), {}});
    return true;
  }
  bool key(std::string& key) {
    Open& top = open_.back();
    if (top.value.AsMap().count(key) > 0) {
      return Fail(absl::StrCat("duplicate key \"", Printable(key), "\""));
    }
    top.key = std::move(key);
    return true;
  }
  bool end_object() { return Close(); }

  bool parse_error(std::size_t /*position*/, const std::string& /*last_token*/,
                   const nlohmann::detail::exception& e) {
    // what() reads "[json.exception.parse_error.101] parse error at line 1,
    // column 4: ..."; the bracketed id means nothing to a user.
    std::string_view what = e.what();
    if (size_t end = what.find("] "); end != std::string_view::npos) what.remove_prefix(end + 2);
    return Fail(absl::StrCat("invalid JSON: ", Printable(what)));
  }

  const absl::Status& status() const { return status_; }
  Value TakeResult() { return std::move(result_); }

 private:
  // A list or map that has started but not yet ended.
  struct Open {
    Value value;
    std::string key;  // for a map: the key whose value comes next
  };

  bool Add(Value v) {
    if (open_.empty()) {
      result_ = std::move(v);
      return true;
    }
    Open& top = open_.back();
    if (top.value.is_list()) {
      top.value.MutableList().push_back(std::move(v));
    } else {
      top.value.MutableMap().emplace(std::move(top.key), std::move(v));
    }
    return true;
  }

  bool Close() {
    Value done = std::move(open_.back().value);
    open_.pop_back();
    if (done.is_map() && done.AsMap().size() == 1) {
      const auto& [key, inner] = *done.AsMap().begin();
      if (key == kBytesKey) {
        std::string data;
        if (!inner.is_string() || !absl::Base64Unescape(inner.AsString(), &data)) {
          return Fail("\"$bytes\" must hold a base64 string");
        }
        return Add(Value(Bytes{std::move(data)}));
      }
      if (key == kJobKey) {
        if (!inner.is_string()) return Fail("\"$job\" must hold a job id string");
        return Add(Value(JobRef{inner.AsString()}));
      }
    }
    if (open_.size() >= kMaxValueDepth) return FailTooDeep();
    return Add(std::move(done));
  }

  bool FailTooDeep() {
    return Fail(absl::StrCat("JSON nests deeper than ", kMaxValueDepth, " levels"));
  }

  bool Fail(std::string message) {
    status_ = absl::InvalidArgumentError(std::move(message));
    return false;
  }

  std::vector<Open> open_;
  Value result_;
  absl::Status status_;
};

}  // namespace

std::string Value::ToJson() const {
  // Strings that are not valid UTF-8 cannot be JSON strings; replacing the bad
  // bytes (U+FFFD) beats failing a call that has no way to report it. Raw
  // bytes belong in Bytes.
  return ToJsonTree(*this).dump(-1, ' ', /*ensure_ascii=*/false, Json::error_handler_t::replace);
}

absl::StatusOr<Value> Value::FromJson(std::string_view json) {
  // nlohmann's lexer takes a NUL byte for the end of the input, which would
  // let "1\0garbage" through. A NUL is never valid JSON, so refuse it here.
  if (size_t nul = json.find('\0'); nul != std::string_view::npos) {
    return absl::InvalidArgumentError(absl::StrCat("invalid JSON: NUL byte at offset ", nul));
  }
  ValueBuilder builder;
  bool ok;
  try {
    ok = Json::sax_parse(json.data(), json.data() + json.size(), &builder);
  } catch (const Json::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("invalid JSON: ", Printable(e.what())));
  }
  if (!ok) {
    if (builder.status().ok()) return absl::InvalidArgumentError("invalid JSON");
    return builder.status();
  }
  return builder.TakeResult();
}

}  // namespace netpool
