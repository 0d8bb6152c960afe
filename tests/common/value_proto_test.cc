#include "common/value_proto.h"

#include <cstdint>
#include <limits>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace netpool {
namespace {

using ::testing::HasSubstr;

Value EveryKind() {
  return ValueMap{
      {"null", nullptr},
      {"bool", false},
      {"int", std::numeric_limits<int64_t>::max()},
      {"double", 2.0},
      {"string", "naïve"},
      {"bytes", Bytes{std::string("\0\xff", 2)}},
      {"job", JobRef{"j-abc"}},
      {"list", ValueList{1, ValueList{}, ValueMap{}}},
      {"map", ValueMap{{"z", 1}, {"a", ValueList{nullptr}}}},
  };
}

TEST(ValueProto, EveryKindRoundTrips) {
  const Value original = EveryKind();
  absl::StatusOr<Value> back = FromProto(ToProto(original));
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, original);
}

TEST(ValueProto, RoundTripsThroughTheWireFormat) {
  const Value original = EveryKind();
  std::string wire;
  ASSERT_TRUE(ToProto(original).SerializeToString(&wire));
  v1::Value parsed;
  ASSERT_TRUE(parsed.ParseFromString(wire));
  absl::StatusOr<Value> back = FromProto(parsed);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, original);
}

TEST(ValueProto, IntsAndDoublesStayApart) {
  EXPECT_EQ(ToProto(Value(2)).kind_case(), v1::Value::kIntValue);
  EXPECT_EQ(ToProto(Value(2.0)).kind_case(), v1::Value::kDoubleValue);
  EXPECT_EQ(ToProto(Value("j-1")).kind_case(), v1::Value::kStringValue);
  EXPECT_EQ(ToProto(Value(JobRef{"j-1"})).kind_case(), v1::Value::kJobRef);
  EXPECT_EQ(ToProto(Value(Bytes{"b"})).kind_case(), v1::Value::kBytesValue);
  EXPECT_EQ(ToProto(Value()).kind_case(), v1::Value::kNullValue);
}

TEST(ValueProto, MapEntriesAreWrittenInKeyOrder) {
  v1::Value p = ToProto(Value(ValueMap{{"c", 3}, {"a", 1}, {"b", 2}}));
  ASSERT_EQ(p.map_value().entries_size(), 3);
  EXPECT_EQ(p.map_value().entries(0).key(), "a");
  EXPECT_EQ(p.map_value().entries(1).key(), "b");
  EXPECT_EQ(p.map_value().entries(2).key(), "c");
}

TEST(ValueProto, EncodingIsDeterministic) {
  std::string a, b;
  ASSERT_TRUE(ToProto(EveryKind()).SerializeToString(&a));
  ASSERT_TRUE(ToProto(EveryKind()).SerializeToString(&b));
  EXPECT_EQ(a, b);
}

TEST(ValueProto, ToProtoOverwritesWhatWasThere) {
  v1::Value p = ToProto(Value(ValueList{1, 2, 3}));
  ToProto(Value(ValueList{4}), &p);
  EXPECT_EQ(p.list_value().items_size(), 1);
  ToProto(Value("s"), &p);
  EXPECT_EQ(p.kind_case(), v1::Value::kStringValue);
}

TEST(ValueProto, EmptyMessageIsNull) {
  absl::StatusOr<Value> v = FromProto(v1::Value());
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_TRUE(v->is_null());
  // Likewise an absent field, such as a JobError without detail.
  v = FromProto(v1::JobError().detail());
  ASSERT_TRUE(v.ok());
  EXPECT_TRUE(v->is_null());
}

TEST(ValueProto, NullValueFalseStillMeansNull) {
  v1::Value p;
  p.set_null_value(false);
  absl::StatusOr<Value> v = FromProto(p);
  ASSERT_TRUE(v.ok());
  EXPECT_TRUE(v->is_null());
}

TEST(ValueProto, UnknownKindFromANewerPeerIsAnError) {
  // Field 99, varint 1: a oneof member this build does not know.
  v1::Value p;
  ASSERT_TRUE(p.ParseFromString(std::string("\x98\x06\x01", 3)));
  ASSERT_EQ(p.kind_case(), v1::Value::KIND_NOT_SET);
  EXPECT_EQ(FromProto(p).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(ValueProto, DuplicateMapKeysAreAnError) {
  v1::Value p;
  for (int i = 0; i < 2; ++i) {
    v1::ValueMapEntry* e = p.mutable_map_value()->add_entries();
    e->set_key("twice");
    e->mutable_value()->set_int_value(i);
  }
  absl::StatusOr<Value> v = FromProto(p);
  EXPECT_EQ(v.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(v.status().message(), HasSubstr("twice"));
}

TEST(ValueProto, ErrorsDeepInsideAreReported) {
  v1::Value p;
  v1::ValueMapEntry* e = p.mutable_list_value()->add_items()->mutable_map_value()->add_entries();
  e->set_key("k");
  v1::ValueMap* inner = e->mutable_value()->mutable_map_value();
  inner->add_entries()->set_key("dup");
  inner->add_entries()->set_key("dup");
  EXPECT_EQ(FromProto(p).status().code(), absl::StatusCode::kInvalidArgument);
}

// `depth` lists, one inside the other, around `innermost`.
v1::Value NestedLists(int depth, const v1::Value& innermost) {
  v1::Value root;
  v1::Value* at = &root;
  for (int i = 0; i < depth; ++i) at = at->mutable_list_value()->add_items();
  *at = innermost;
  return root;
}

TEST(ValueProto, NestingUpToTheLimitIsAccepted) {
  v1::Value one;
  one.set_int_value(1);
  absl::StatusOr<Value> v = FromProto(NestedLists(kMaxValueDepth, one));
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_TRUE(v->is_list());
}

TEST(ValueProto, NestingBeyondTheLimitIsAnError) {
  v1::Value empty_list;
  empty_list.mutable_list_value();
  absl::StatusOr<Value> v = FromProto(NestedLists(kMaxValueDepth, empty_list));
  EXPECT_EQ(v.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(v.status().message(), HasSubstr("deeper"));

  v1::Value empty_map;
  empty_map.mutable_map_value();
  EXPECT_EQ(FromProto(NestedLists(kMaxValueDepth, empty_map)).status().code(),
            absl::StatusCode::kInvalidArgument);
  // Deeper than protobuf's own parse limit of 100, as a message built in memory could be.
  EXPECT_FALSE(FromProto(NestedLists(200, v1::Value())).ok());
}

TEST(ValueProto, RepeatedValuesConvertInOrder) {
  google::protobuf::RepeatedPtrField<v1::Value> values;
  *values.Add() = ToProto(Value(1));
  *values.Add() = ToProto(Value("two"));
  absl::StatusOr<std::vector<Value>> v = FromProto(values);
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(*v, (std::vector<Value>{1, "two"}));
}

TEST(ValueProto, RepeatedValuesNameTheBadOne) {
  google::protobuf::RepeatedPtrField<v1::Value> values;
  *values.Add() = ToProto(Value(1));
  v1::ValueMap* m = values.Add()->mutable_map_value();
  m->add_entries()->set_key("k");
  m->add_entries()->set_key("k");
  absl::StatusOr<std::vector<Value>> v = FromProto(values);
  EXPECT_EQ(v.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(v.status().message(), HasSubstr("value 1"));
}

TEST(ValueProto, ValidateValueAgreesWithFromProto) {
  v1::Value unknown_kind;
  unknown_kind.mutable_list_value()->add_items()->ParseFromString(std::string("\xf8\x01\x01", 3));
  v1::Value duplicate_keys;
  for (int i = 0; i < 2; ++i) {
    duplicate_keys.mutable_map_value()->add_entries()->set_key(std::string(1000, 'k') + "\n");
  }
  v1::Value empty_list;
  empty_list.mutable_list_value();
  for (const v1::Value& value :
       {ToProto(EveryKind()), v1::Value(), unknown_kind, duplicate_keys,
        NestedLists(kMaxValueDepth - 1, empty_list), NestedLists(kMaxValueDepth, empty_list)}) {
    EXPECT_EQ(ValidateValue(value), FromProto(value).status()) << value.DebugString();
  }
}

TEST(ValueProto, ErrorsQuoteADuplicateKeyEscapedAndCutShort) {
  v1::Value value;
  for (int i = 0; i < 2; ++i) {
    value.mutable_map_value()->add_entries()->set_key(std::string(1000, '\n'));
  }
  absl::Status status = FromProto(value).status();
  EXPECT_LT(status.message().size(), 300u);
  EXPECT_THAT(status.message(), HasSubstr("duplicate map key \"\\n\\n"));
}

// A string that is not UTF-8 cannot travel in a proto string field: the
// receiver would refuse the whole message (found by tests/fuzz: a CLI word in
// Latin-1 made Submit fail with an empty error).
TEST(ValueProto, AStringThatIsNotUtf8TravelsAsBytes) {
  const std::string latin1 = "caf\xe9";
  v1::Value wire = ToProto(Value(latin1));
  EXPECT_EQ(wire.bytes_value(), latin1);
  v1::Value parsed;
  ASSERT_TRUE(parsed.ParseFromString(wire.SerializeAsString()));
  absl::StatusOr<Value> back = FromProto(parsed);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, Value(Bytes{latin1}));
  EXPECT_EQ(ToProto(Value("caf\xc3\xa9")).string_value(), "caf\xc3\xa9");
}

TEST(ValueProto, KeysAndJobRefsThatAreNotUtf8HaveTheBadBytesReplaced) {
  v1::Value wire = ToProto(Value(ValueMap{{"a\xff", 1}}));
  EXPECT_EQ(wire.map_value().entries(0).key(), "a\xef\xbf\xbd");
  EXPECT_EQ(ToProto(Value(JobRef{"\xc0\x80j"})).job_ref(), "\xef\xbf\xbd\xef\xbf\xbdj");
}

TEST(ValueProto, IsValidUtf8RefusesWhatProtobufRefuses) {
  EXPECT_TRUE(IsValidUtf8(""));
  EXPECT_TRUE(IsValidUtf8("plain \xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"));
  for (const std::string bad :
       {"\xff", "\xc3", "\xc0\x80", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xe2\x82", "\x80"}) {
    EXPECT_FALSE(IsValidUtf8(bad)) << absl::CHexEscape(bad);
    v1::Value value;
    value.set_string_value(bad);
    v1::Value parsed;
    EXPECT_FALSE(parsed.ParseFromString(value.SerializeAsString())) << absl::CHexEscape(bad);
  }
}

TEST(JobError, StatusRoundTrips) {
  v1::JobError e;
  StatusToJobError(absl::DeadlineExceededError("took 5s"), &e);
  EXPECT_EQ(e.code(), static_cast<int>(absl::StatusCode::kDeadlineExceeded));
  EXPECT_EQ(e.message(), "took 5s");
  EXPECT_EQ(JobErrorToStatus(e), absl::DeadlineExceededError("took 5s"));
}

TEST(JobError, OkStatusIsAnEmptyJobError) {
  v1::JobError e;
  e.set_code(3);
  e.set_message("old");
  e.mutable_detail()->set_int_value(1);
  StatusToJobError(absl::OkStatus(), &e);
  EXPECT_EQ(e.ByteSizeLong(), 0u);
}

TEST(JobError, EmptyJobErrorIsUnknown) {
  absl::Status s = JobErrorToStatus(v1::JobError());
  EXPECT_EQ(s.code(), absl::StatusCode::kUnknown);
  EXPECT_FALSE(s.message().empty());
}

TEST(JobError, UnknownCodeKeepsTheMessage) {
  v1::JobError e;
  e.set_code(1234);
  e.set_message("from the future");
  EXPECT_EQ(JobErrorToStatus(e), absl::UnknownError("from the future"));
  e.set_code(-1);
  EXPECT_EQ(JobErrorToStatus(e), absl::UnknownError("from the future"));
}

}  // namespace
}  // namespace netpool
