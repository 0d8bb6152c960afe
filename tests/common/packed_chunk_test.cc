#include "common/packed_chunk.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "common/value_proto.h"
#include "netpool/v1/worker.pb.h"
#include "tests/support/status_matchers.h"

namespace netpool {
namespace {

using ::netpool::testing::IsOk;
using ::netpool::testing::StatusIs;
using ::testing::_;
using ::testing::HasSubstr;

TEST(PackedChunk, ArgumentListsComeBackInOrder) {
  const std::vector<ValueList> calls = {{1, "a"}, {}, {ValueList{2.5, nullptr}}};
  absl::StatusOr<v1::PackedChunk> chunk = UnpackChunk(PackChunk(calls));
  ASSERT_THAT(chunk.status(), IsOk());
  ASSERT_EQ(chunk->entries_size(), 3);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(*FromProto(chunk->entries(i).items()), calls[i]);
}

TEST(PackedChunk, BytesThatAreNotAChunkAreInvalidArgument) {
  EXPECT_THAT(UnpackChunk("\xff\xff\xff").status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("not a PackedChunk")));
}

TEST(PackedChunk, AnOldNodesAssignmentGetsTheEntriesAsChunk) {
  v1::Assignment assignment;
  assignment.set_packed_chunk(PackChunk({{1}, {2}}));
  ASSERT_THAT(UnpackIntoChunk(assignment), IsOk());
  EXPECT_TRUE(assignment.packed_chunk().empty());
  ASSERT_EQ(assignment.chunk_size(), 2);
  EXPECT_EQ(assignment.chunk(1).items(0).int_value(), 2);

  v1::Assignment garbage;
  garbage.set_packed_chunk("\xff\xff\xff");
  EXPECT_THAT(UnpackIntoChunk(garbage), StatusIs(absl::StatusCode::kInvalidArgument, _));
}

TEST(PackedChunk, APackedValueIsTheValueItHolds) {
  const Value list = ValueList{4, "nine"};
  absl::StatusOr<v1::Value> value = UnpackValue(ToProto(list).SerializeAsString());
  ASSERT_THAT(value.status(), IsOk());
  EXPECT_EQ(*FromProto(*value), list);
  EXPECT_THAT(UnpackValue("\xff\xff\xff").status(),
              StatusIs(absl::StatusCode::kInternal, HasSubstr("not a Value")));
}

}  // namespace
}  // namespace netpool
