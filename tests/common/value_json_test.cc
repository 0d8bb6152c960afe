#include <cmath>
#include <cstdint>
#include <limits>
#include <string>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "netpool/value.h"

namespace netpool {
namespace {

using ::testing::HasSubstr;

Value Parse(std::string_view json) {
  absl::StatusOr<Value> v = Value::FromJson(json);
  EXPECT_TRUE(v.ok()) << json << ": " << v.status();
  return v.ok() ? *v : Value();
}

absl::Status ParseError(std::string_view json) {
  absl::StatusOr<Value> v = Value::FromJson(json);
  EXPECT_FALSE(v.ok()) << json << " parsed as " << (v.ok() ? v->ToJson() : "");
  return v.status();
}

TEST(ValueJson, WritesEveryKindCompactly) {
  EXPECT_EQ(Value().ToJson(), "null");
  EXPECT_EQ(Value(true).ToJson(), "true");
  EXPECT_EQ(Value(false).ToJson(), "false");
  EXPECT_EQ(Value(-42).ToJson(), "-42");
  EXPECT_EQ(Value(2.5).ToJson(), "2.5");
  EXPECT_EQ(Value("a\"b\n").ToJson(), R"("a\"b\n")");
  EXPECT_EQ(Value(Bytes{"hello"}).ToJson(), R"({"$bytes":"aGVsbG8="})");
  EXPECT_EQ(Value(JobRef{"j-1"}).ToJson(), R"({"$job":"j-1"})");
  EXPECT_EQ(Value(ValueList{1, "x", nullptr}).ToJson(), R"([1,"x",null])");
  EXPECT_EQ(Value(ValueMap{{"file", "sub-01.nii"}, {"size", 3}}).ToJson(),
            R"({"file":"sub-01.nii","size":3})");
  EXPECT_EQ(Value(ValueList{}).ToJson(), "[]");
  EXPECT_EQ(Value(ValueMap{}).ToJson(), "{}");
}

TEST(ValueJson, MapKeysAreSorted) {
  EXPECT_EQ(Value(ValueMap{{"b", 1}, {"a", 2}, {"c", 3}}).ToJson(), R"({"a":2,"b":1,"c":3})");
}

TEST(ValueJson, DoublesKeepAFractionOrExponent) {
  EXPECT_EQ(Value(2.0).ToJson(), "2.0");
  EXPECT_EQ(Value(-0.0).ToJson(), "-0.0");
  EXPECT_EQ(Value(0.1).ToJson(), "0.1");
  EXPECT_EQ(Value(1e100).ToJson(), "1e+100");
  EXPECT_EQ(Value(ValueList{1, 1.0}).ToJson(), "[1,1.0]");
}

TEST(ValueJson, DoublesUseTheShortestFormThatRoundTrips) {
  for (double d : {0.1, 1.0 / 3, 123456.789, 5e-324, std::numeric_limits<double>::max(),
                   -2.2250738585072014e-308, 9007199254740993.0}) {
    const std::string json = Value(d).ToJson();
    Value back = Parse(json);
    ASSERT_TRUE(back.is_double()) << json;
    EXPECT_EQ(back.AsDouble(), d) << json;
  }
  EXPECT_EQ(Value(1.0 / 3).ToJson(), "0.3333333333333333");
}

TEST(ValueJson, NanAndInfinitiesBecomeNull) {
  EXPECT_EQ(Value(std::nan("")).ToJson(), "null");
  EXPECT_EQ(Value(std::numeric_limits<double>::infinity()).ToJson(), "null");
  EXPECT_EQ(Value(ValueList{-std::numeric_limits<double>::infinity()}).ToJson(), "[null]");
}

TEST(ValueJson, IntegersReadAsIntsAndTheRestAsDoubles) {
  EXPECT_EQ(Parse("3"), Value(3));
  EXPECT_EQ(Parse("-3"), Value(-3));
  EXPECT_EQ(Parse("0"), Value(0));
  EXPECT_EQ(Parse("9223372036854775807"), Value(std::numeric_limits<int64_t>::max()));
  EXPECT_EQ(Parse("-9223372036854775808"), Value(std::numeric_limits<int64_t>::min()));
  EXPECT_EQ(Parse("3.0"), Value(3.0));
  EXPECT_EQ(Parse("3e2"), Value(300.0));
  EXPECT_EQ(Parse("1E-2"), Value(0.01));
  // Beyond int64, in either direction, and beyond uint64.
  EXPECT_EQ(Parse("9223372036854775808"), Value(9223372036854775808.0));
  EXPECT_EQ(Parse("18446744073709551615"), Value(18446744073709551615.0));
  EXPECT_EQ(Parse("-9223372036854775809"), Value(-9223372036854775809.0));
  EXPECT_TRUE(Parse("100000000000000000000000").is_double());
}

TEST(ValueJson, EveryKindRoundTrips) {
  const Value original = ValueMap{
      {"null", nullptr},
      {"bool", true},
      {"int", std::numeric_limits<int64_t>::min()},
      {"double", -1.5e-7},
      {"whole double", 2.0},
      {"string", "sub-01.nii"},
      {"bytes", Bytes{std::string("\x00\xff\x10 binary", 10)}},
      {"empty bytes", Bytes{}},
      {"job", JobRef{"j-0123456789abcdefghijkl"}},
      {"list", ValueList{1, 2.0, "three", ValueList{}, ValueMap{}}},
      {"map", ValueMap{{"nested", ValueMap{{"deeper", ValueList{nullptr}}}}}},
  };
  const std::string json = original.ToJson();
  EXPECT_EQ(Parse(json), original) << json;
  EXPECT_EQ(Parse(json).ToJson(), json);
}

TEST(ValueJson, BytesUseStandardPaddedBase64) {
  EXPECT_EQ(Value(Bytes{"a"}).ToJson(), R"({"$bytes":"YQ=="})");
  EXPECT_EQ(Value(Bytes{"\xfb\xff"}).ToJson(), R"({"$bytes":"+/8="})");
  EXPECT_EQ(Parse(R"({"$bytes":"+/8="})"), Value(Bytes{"\xfb\xff"}));
}

TEST(ValueJson, ReservedKeysAmongOthersMakeAnOrdinaryMap) {
  EXPECT_EQ(Parse(R"({"$job":"j-1","other":1})"), Value(ValueMap{{"$job", "j-1"}, {"other", 1}}));
  EXPECT_EQ(Parse(R"({"job":"j-1"})"), Value(ValueMap{{"job", "j-1"}}));
}

TEST(ValueJson, MalformedReservedObjectsAreErrors) {
  EXPECT_THAT(ParseError(R"({"$bytes":"not base64!"})").message(), HasSubstr("$bytes"));
  EXPECT_THAT(ParseError(R"({"$bytes":5})").message(), HasSubstr("$bytes"));
  EXPECT_THAT(ParseError(R"({"$job":5})").message(), HasSubstr("$job"));
  EXPECT_THAT(ParseError(R"({"$job":null})").message(), HasSubstr("$job"));
}

TEST(ValueJson, UnicodeRoundTrips) {
  const Value v = ValueMap{{"ключ", "naïve ☃ 𝄞 日本語"}};
  EXPECT_EQ(v.ToJson(), "{\"ключ\":\"naïve ☃ 𝄞 日本語\"}");
  EXPECT_EQ(Parse(v.ToJson()), v);
  // Escapes, including a surrogate pair, decode to UTF-8.
  EXPECT_EQ(Parse(R"("\u00e9\u2603\ud834\udd1e")"), Value("é☃𝄞"));
}

TEST(ValueJson, ControlCharactersAreEscaped) {
  EXPECT_EQ(Value(std::string("a\0b\x01\t", 5)).ToJson(), R"("a\u0000b\u0001\t")");
  EXPECT_EQ(Parse(R"("a\u0000b\u0001\t")"), Value(std::string("a\0b\x01\t", 5)));
}

TEST(ValueJson, InvalidUtf8InAStringIsReplacedOnOutput) {
  EXPECT_EQ(Value("a\377b").ToJson(), "\"a\357\277\275b\"");  // U+FFFD
}

TEST(ValueJson, SurroundingWhitespaceIsAccepted) {
  EXPECT_EQ(Parse(" \n\t[ 1 , { \"a\" : 2 } ]\n"), Value(ValueList{1, ValueMap{{"a", 2}}}));
}

TEST(ValueJson, BadJsonIsInvalidArgumentWithAPosition) {
  absl::Status s = ParseError("[1, tru]");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("invalid JSON"));
  EXPECT_THAT(s.message(), HasSubstr("column"));
  EXPECT_THAT(s.message(), ::testing::Not(HasSubstr("json.exception")));
  for (const char* bad : {"", "   ", "[", "{", "[1,]", "{\"a\":}", "{\"a\" 1}", "{1:2}", "'x'",
                          "nul", "01", "1.", "-", "+1", "NaN", "Infinity", "\"unterminated",
                          "\"tab\there\"", "\"\\x41\"", "[1 2]", "/* c */ 1"}) {
    EXPECT_EQ(ParseError(bad).code(), absl::StatusCode::kInvalidArgument) << bad;
  }
}

TEST(ValueJson, TrailingGarbageIsAnError) {
  EXPECT_THAT(ParseError("1 2").message(), HasSubstr("invalid JSON"));
  EXPECT_EQ(ParseError("{} x").code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseError("[1]]").code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseError(std::string("1\0", 2)).code(), absl::StatusCode::kInvalidArgument);
}

TEST(ValueJson, InvalidUtf8IsAnError) {
  EXPECT_EQ(ParseError("\"a\xff\"").code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseError("\"\xc3\"").code(), absl::StatusCode::kInvalidArgument);      // truncated
  EXPECT_EQ(ParseError("\"\xc0\xaf\"").code(), absl::StatusCode::kInvalidArgument);  // overlong
  EXPECT_EQ(ParseError("\"\xed\xa0\x80\"").code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseError(R"("\ud800")").code(), absl::StatusCode::kInvalidArgument);
  // The quoted offending input stays printable in the message.
  const absl::Status status = ParseError("\"a\xff\"");
  for (char c : status.message()) {
    EXPECT_TRUE(c >= 0x20 && c < 0x7f) << static_cast<int>(static_cast<unsigned char>(c));
  }
}

TEST(ValueJson, DuplicateKeysAreAnError) {
  EXPECT_THAT(ParseError(R"({"a":1,"a":2})").message(), HasSubstr("duplicate key \"a\""));
}

std::string Nested(int depth, std::string_view open, std::string_view inner,
                   std::string_view close) {
  std::string s;
  for (int i = 0; i < depth; ++i) s += open;
  s += inner;
  for (int i = 0; i < depth; ++i) s += close;
  return s;
}

TEST(ValueJson, NestingUpToTheLimitIsAccepted) {
  EXPECT_TRUE(Parse(Nested(32, "[", "1", "]")).is_list());
  EXPECT_TRUE(Parse(Nested(32, "{\"k\":", "1", "}")).is_map());
  // Bytes and job refs are not containers, even though JSON spells them as objects.
  EXPECT_TRUE(Parse(Nested(32, "[", R"({"$job":"j-1"})", "]")).is_list());
  EXPECT_TRUE(Parse(Nested(32, "[", R"({"$bytes":"YQ=="})", "]")).is_list());
}

TEST(ValueJson, NestingBeyondTheLimitIsAnError) {
  for (const std::string& deep :
       {Nested(33, "[", "", "]"), Nested(33, "{\"k\":", "1", "}"), Nested(32, "[", "{}", "]"),
        Nested(32, "[", R"({"a":1})", "]"), Nested(32, "[", R"({"$job":[]})", "]")}) {
    absl::Status s = ParseError(deep);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(s.message(), HasSubstr("deeper than 32")) << deep;
  }
}

TEST(ValueJson, HostileNestingIsAnErrorNotACrash) {
  EXPECT_THAT(ParseError(std::string(100000, '[')).message(), HasSubstr("deeper than 32"));
  EXPECT_THAT(ParseError(Nested(100000, "[", "", "]")).message(), HasSubstr("deeper than 32"));
  EXPECT_THAT(ParseError(Nested(100000, "{\"a\":", "1", "}")).message(),
              HasSubstr("deeper than 32"));
}

}  // namespace
}  // namespace netpool
