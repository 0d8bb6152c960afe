#include "common/value_wire.h"

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "common/value_proto.h"
#include "netpool/v1/netpool.pb.h"

namespace netpool {
namespace {

using ::testing::Optional;

// Values that the direct path must encode exactly as protobuf does.
std::vector<Value> Samples() {
  return {
      Value(),
      Value(true),
      Value(false),
      Value(0),
      Value(127),
      Value(300),
      Value(-1),
      Value(std::numeric_limits<int64_t>::min()),
      Value(std::numeric_limits<int64_t>::max()),
      Value(0.0),
      Value(-2.5),
      Value(std::numeric_limits<double>::infinity()),
      Value(""),
      Value("h\xc3\xa9llo"),
      Value(std::string(200, 'x')),
      Value("\xff not utf-8"),  // ToProto sends it as bytes
      Value(Bytes{std::string("\0\x01\xff", 3)}),
      Value(JobRef{"j-abc"}),
      Value(ValueList{}),
      Value(ValueList{1, "a", ValueList{2.5, nullptr}, ValueList{}}),
      Value(ValueMap{}),
      Value(ValueMap{{"", 1}, {"b", ValueList{true}}, {"c", ValueMap{{"d", nullptr}}}}),
  };
}

// A value nested `levels` lists deep around 1.
Value Nested(int levels) {
  Value value = 1;
  for (int i = 0; i < levels; ++i) value = ValueList{value};
  return value;
}

std::string Serialized(const Value& value) { return ToProto(value).SerializeAsString(); }

TEST(ValueWire, EncodesAsProtobufDoes) {
  for (const Value& value : Samples()) {
    EXPECT_THAT(EncodeValue(value), Optional(Serialized(value))) << value.ToJson();
  }
  EXPECT_THAT(EncodeValue(Nested(kMaxValueDepth)), Optional(Serialized(Nested(kMaxValueDepth))));
}

TEST(ValueWire, EncodesAChunkAsProtobufDoes) {
  const std::vector<ValueList> calls = {{1, "a"}, {}, {ValueList{2.5, nullptr}}, Samples()};
  v1::PackedChunk chunk;
  for (const ValueList& args : calls) {
    auto* items = chunk.add_entries()->mutable_items();
    for (const Value& arg : args) ToProto(arg, items->Add());
  }
  EXPECT_THAT(EncodeChunk(calls), Optional(chunk.SerializeAsString()));
}

TEST(ValueWire, EncodesOneArgumentCallsAsTheirOwnLists) {
  const std::vector<Value> arguments = Samples();
  std::vector<ValueList> calls;
  for (const Value& argument : arguments) calls.push_back({argument});
  EXPECT_EQ(EncodeChunk(absl::MakeConstSpan(arguments)), EncodeChunk(calls));
}

TEST(ValueWire, DecodesWhatItEncodes) {
  for (const Value& value : Samples()) {
    const Value expected = *FromProto(ToProto(value));
    EXPECT_THAT(DecodeValue(Serialized(value)), Optional(expected)) << value.ToJson();
  }
  const std::vector<ValueList> calls = {{1, "a"}, {}, Samples()};
  std::vector<ValueList> expected = calls;
  expected[2][15] = Value(Bytes{"\xff not utf-8"});
  EXPECT_THAT(DecodeChunk(*EncodeChunk(calls)), Optional(expected));
}

// What the direct path leaves to protobuf, so that the answer, or the
// error, is protobuf's and FromProto's.
TEST(ValueWire, LeavesTheUnusualToProtobuf) {
  EXPECT_EQ(EncodeValue(Nested(kMaxValueDepth + 1)), std::nullopt);
  EXPECT_EQ(EncodeValue(ValueMap{{"\xff", 1}}), std::nullopt);
  EXPECT_EQ(EncodeValue(JobRef{"\xff"}), std::nullopt);

  EXPECT_EQ(DecodeValue(Serialized(Nested(kMaxValueDepth + 1))), std::nullopt);
  EXPECT_EQ(DecodeValue(""), std::nullopt);                      // empty: null, to FromProto
  EXPECT_EQ(DecodeValue("\x10\x02"), std::nullopt);              // bool 2
  EXPECT_EQ(DecodeValue("\x18\x01\x18\x02"), std::nullopt);      // a field twice
  EXPECT_EQ(DecodeValue("\x58\x01"), std::nullopt);              // a field we do not know
  EXPECT_EQ(DecodeValue("\x2a\x01\xff"), std::nullopt);          // a string that is not UTF-8
  EXPECT_EQ(DecodeValue("\x2a\x05" "ab"), std::nullopt);         // cut short
  v1::Value duplicate_keys;
  for (int i = 0; i < 2; ++i) {
    v1::ValueMapEntry* entry = duplicate_keys.mutable_map_value()->add_entries();
    entry->set_key("k");
    entry->mutable_value()->set_int_value(i);
  }
  EXPECT_EQ(DecodeValue(duplicate_keys.SerializeAsString()), std::nullopt);
  EXPECT_EQ(DecodeChunk("\x0a\x02\x12\x00"), std::nullopt);
}

}  // namespace
}  // namespace netpool
