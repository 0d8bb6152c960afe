#include "netpool/value.h"

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>

#include "gtest/gtest.h"

namespace netpool {
namespace {

TEST(Value, DefaultIsNull) {
  Value v;
  EXPECT_TRUE(v.is_null());
  EXPECT_EQ(v.kind(), Value::Kind::kNull);
  EXPECT_EQ(Value(nullptr), v);
}

TEST(Value, ConstructorsPickTheKind) {
  EXPECT_EQ(Value(true).kind(), Value::Kind::kBool);
  EXPECT_EQ(Value(3).kind(), Value::Kind::kInt);
  EXPECT_EQ(Value(3L).kind(), Value::Kind::kInt);
  EXPECT_EQ(Value(3LL).kind(), Value::Kind::kInt);
  EXPECT_EQ(Value(3U).kind(), Value::Kind::kInt);
  EXPECT_EQ(Value(int64_t{3}).kind(), Value::Kind::kInt);
  EXPECT_EQ(Value(2.5).kind(), Value::Kind::kDouble);
  EXPECT_EQ(Value(2.5f).kind(), Value::Kind::kDouble);
  EXPECT_EQ(Value("text").kind(), Value::Kind::kString);
  EXPECT_EQ(Value(std::string("text")).kind(), Value::Kind::kString);
  EXPECT_EQ(Value(std::string_view("text")).kind(), Value::Kind::kString);
  EXPECT_EQ(Value(Bytes{"raw"}).kind(), Value::Kind::kBytes);
  EXPECT_EQ(Value(ValueList{1, 2}).kind(), Value::Kind::kList);
  EXPECT_EQ(Value(ValueMap{{"a", 1}}).kind(), Value::Kind::kMap);
  EXPECT_EQ(Value(JobRef{"j-1"}).kind(), Value::Kind::kJobRef);
}

TEST(Value, KindPredicates) {
  EXPECT_TRUE(Value(true).is_bool());
  EXPECT_TRUE(Value(1).is_int());
  EXPECT_TRUE(Value(1).is_number());
  EXPECT_TRUE(Value(1.0).is_double());
  EXPECT_TRUE(Value(1.0).is_number());
  EXPECT_FALSE(Value("1").is_number());
  EXPECT_TRUE(Value("s").is_string());
  EXPECT_TRUE(Value(Bytes{"b"}).is_bytes());
  EXPECT_FALSE(Value(Bytes{"b"}).is_string());
  EXPECT_TRUE(Value(ValueList{}).is_list());
  EXPECT_TRUE(Value(ValueMap{}).is_map());
  EXPECT_TRUE(Value(JobRef{"j"}).is_job_ref());
  EXPECT_FALSE(Value(JobRef{"j"}).is_string());
}

TEST(Value, AccessorsReturnTheHeldValue) {
  EXPECT_TRUE(Value(true).AsBool());
  EXPECT_EQ(Value(std::numeric_limits<int64_t>::min()).AsInt(),
            std::numeric_limits<int64_t>::min());
  EXPECT_EQ(Value(2.5).AsDouble(), 2.5);
  EXPECT_EQ(Value("hi").AsString(), "hi");
  EXPECT_EQ(Value(Bytes{std::string("a\0b", 3)}).AsBytes(), std::string("a\0b", 3));
  EXPECT_EQ(Value(ValueList{1, "x"}).AsList(), (ValueList{1, "x"}));
  EXPECT_EQ(Value(ValueMap{{"k", 1}}).AsMap().at("k"), Value(1));
  EXPECT_EQ(Value(JobRef{"j-abc"}).AsJobRef(), "j-abc");
}

TEST(Value, AsDoubleAcceptsAnInt) { EXPECT_EQ(Value(7).AsDouble(), 7.0); }

TEST(Value, MismatchedAccessorsReturnZeroOrEmpty) {
  const Value s("text");
  EXPECT_FALSE(s.AsBool());
  EXPECT_EQ(s.AsInt(), 0);
  EXPECT_EQ(s.AsDouble(), 0.0);
  EXPECT_EQ(s.AsBytes(), "");
  EXPECT_TRUE(s.AsList().empty());
  EXPECT_TRUE(s.AsMap().empty());
  EXPECT_EQ(s.AsJobRef(), "");
  EXPECT_EQ(Value(1).AsString(), "");
  EXPECT_EQ(Value(1.5).AsInt(), 0);
  // Bytes and job refs hold strings but are not strings.
  EXPECT_EQ(Value(Bytes{"b"}).AsString(), "");
  EXPECT_EQ(Value(JobRef{"j"}).AsString(), "");
  EXPECT_FALSE(Value().AsBool());
}

TEST(Value, EqualityComparesKindAndContent) {
  EXPECT_EQ(Value(1), Value(1));
  EXPECT_NE(Value(1), Value(2));
  // An int and a double of the same magnitude are different values.
  EXPECT_NE(Value(1), Value(1.0));
  EXPECT_NE(Value("j-1"), Value(JobRef{"j-1"}));
  EXPECT_NE(Value("abc"), Value(Bytes{"abc"}));
  EXPECT_EQ(Value(ValueMap{{"a", ValueList{1, nullptr}}}),
            Value(ValueMap{{"a", ValueList{1, nullptr}}}));
  EXPECT_NE(Value(ValueMap{{"a", 1}}), Value(ValueMap{{"b", 1}}));
  EXPECT_NE(Value(ValueList{1, 2}), Value(ValueList{2, 1}));
  EXPECT_NE(Value(), Value(false));
}

TEST(Value, MutableListTurnsNullIntoAnEmptyList) {
  Value v;
  v.MutableList().push_back(1);
  v.MutableList().push_back("two");
  EXPECT_EQ(v, Value(ValueList{1, "two"}));
}

TEST(Value, MutableMapTurnsNullIntoAnEmptyMap) {
  Value v;
  v.MutableMap()["a"] = 1;
  EXPECT_EQ(v, Value(ValueMap{{"a", 1}}));
}

TEST(Value, MutableListKeepsAnExistingList) {
  Value v = ValueList{1};
  v.MutableList().push_back(2);
  EXPECT_EQ(v, Value(ValueList{1, 2}));
}

TEST(Value, KindNameNamesEveryKind) {
  EXPECT_EQ(KindName(Value::Kind::kNull), "null");
  EXPECT_EQ(KindName(Value::Kind::kBool), "bool");
  EXPECT_EQ(KindName(Value::Kind::kInt), "int");
  EXPECT_EQ(KindName(Value::Kind::kDouble), "double");
  EXPECT_EQ(KindName(Value::Kind::kString), "string");
  EXPECT_EQ(KindName(Value::Kind::kBytes), "bytes");
  EXPECT_EQ(KindName(Value::Kind::kList), "list");
  EXPECT_EQ(KindName(Value::Kind::kMap), "map");
  EXPECT_EQ(KindName(Value::Kind::kJobRef), "job reference");
}

}  // namespace
}  // namespace netpool
