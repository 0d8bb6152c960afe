#include "client/chunk_plan.h"

#include <vector>

#include "common/packed_chunk.h"
#include "common/value_proto.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace netpool {
namespace {

using ::testing::ElementsAre;

std::vector<ValueList> Calls(int n) {
  std::vector<ValueList> calls;
  for (int i = 0; i < n; ++i) calls.push_back({i, "x"});
  return calls;
}

TEST(DefaultChunkSize, IsPythonsRuleOfFourJobsPerSlot) {
  EXPECT_EQ(DefaultChunkSize(10, 1), 3u);    // ceil(10 / 4)
  EXPECT_EQ(DefaultChunkSize(100, 8), 4u);   // ceil(100 / 32)
  EXPECT_EQ(DefaultChunkSize(96, 8), 3u);    // exact
  EXPECT_EQ(DefaultChunkSize(3, 16), 1u);    // never below one
  EXPECT_EQ(DefaultChunkSize(0, 4), 1u);
}

TEST(DefaultChunkSize, CountsNoSlotsAsOne) {
  EXPECT_EQ(DefaultChunkSize(10, 0), 3u);
  EXPECT_EQ(DefaultChunkSize(10, -5), 3u);
}

TEST(ChunkPlan, CutsConsecutiveRunsWithAShorterLastOne) {
  ChunkPlan plan(7, 3);
  ASSERT_EQ(plan.chunks().size(), 3u);
  EXPECT_EQ(plan.chunks()[0].first, 0u);
  EXPECT_EQ(plan.chunks()[0].count, 3u);
  EXPECT_EQ(plan.chunks()[1].first, 3u);
  EXPECT_EQ(plan.chunks()[2].first, 6u);
  EXPECT_EQ(plan.chunks()[2].count, 1u);
  EXPECT_TRUE(ChunkPlan(0, 3).chunks().empty());
}

TEST(ChunkPlan, ChunksizeOneMakesPlainJobs) {
  std::vector<ValueList> calls = Calls(2);
  ChunkPlan plan(calls.size(), 1);
  v1::JobSpec job = plan.MakeJob("square", &calls, plan.chunks()[1]);
  EXPECT_EQ(job.function(), "square");
  EXPECT_EQ(job.chunk_size(), 0);
  ASSERT_EQ(job.args_size(), 2);
  EXPECT_EQ(*FromProto(job.args(0)), Value(1));
  EXPECT_EQ(*FromProto(job.args(1)), Value("x"));
}

TEST(ChunkPlan, LargerChunksizeMakesPackedChunkJobsOfArgumentLists) {
  std::vector<ValueList> calls = Calls(5);
  ChunkPlan plan(calls.size(), 2);
  v1::JobSpec job = plan.MakeJob("square", &calls, plan.chunks()[1]);
  EXPECT_EQ(job.args_size(), 0);
  EXPECT_EQ(job.chunk_size(), 0);
  absl::StatusOr<v1::PackedChunk> chunk = UnpackChunk(job.packed_chunk());
  ASSERT_TRUE(chunk.ok()) << chunk.status();
  ASSERT_EQ(chunk->entries_size(), 2);
  EXPECT_EQ(*FromProto(chunk->entries(0).items()), (std::vector<Value>{2, "x"}));
  EXPECT_EQ(*FromProto(chunk->entries(1).items()), (std::vector<Value>{3, "x"}));

  // Even a last chunk of one call is a chunk, so its result is still a list.
  v1::JobSpec last = plan.MakeJob("square", &calls, plan.chunks()[2]);
  EXPECT_EQ(UnpackChunk(last.packed_chunk())->entries_size(), 1);
}

// The scheduler substitutes job references, so it must see them.
TEST(ChunkPlan, AChunkThatRefersToAnotherJobIsNotPacked) {
  std::vector<ValueList> calls = {{1}, {ValueMap{{"k", ValueList{JobRef{"j-1"}}}}}, {3}};
  ChunkPlan plan(calls.size(), 2);
  v1::JobSpec job = plan.MakeJob("f", &calls, plan.chunks()[0]);
  EXPECT_TRUE(job.packed_chunk().empty());
  ASSERT_EQ(job.chunk_size(), 2);
  EXPECT_EQ(*FromProto(job.chunk(1).items()),
            (std::vector<Value>{ValueMap{{"k", ValueList{JobRef{"j-1"}}}}}));
  EXPECT_FALSE(plan.MakeJob("f", &calls, plan.chunks()[1]).packed_chunk().empty());
}

// Map's calls of one argument each make the jobs their one-item argument
// lists would.
TEST(ChunkPlan, OneArgumentCallsMakeTheJobsOfTheirLists) {
  for (size_t chunksize : {1, 2}) {
    std::vector<Value> arguments = {1, JobRef{"j-1"}, "x", 2.5, ValueList{4}};
    std::vector<ValueList> calls;
    for (const Value& argument : arguments) calls.push_back({argument});
    ChunkPlan plan(calls.size(), chunksize);
    for (const ChunkPlan::Chunk& chunk : plan.chunks()) {
      EXPECT_EQ(plan.MakeJob("f", &arguments, chunk).SerializeAsString(),
                plan.MakeJob("f", &calls, chunk).SerializeAsString())
          << "chunksize " << chunksize << ", chunk at " << chunk.first;
    }
  }
}

TEST(ChunkPlan, PlainJobResultIsTheItemsResult) {
  ChunkPlan plan(3, 1);
  EXPECT_THAT(*plan.ItemResults(Value(9), plan.chunks()[0]), ElementsAre(Value(9)));
}

TEST(ChunkPlan, ChunkResultIsFlattenedInOrder) {
  ChunkPlan plan(3, 2);
  EXPECT_THAT(*plan.ItemResults(Value(ValueList{4, 9}), plan.chunks()[0]),
              ElementsAre(Value(4), Value(9)));
  EXPECT_THAT(*plan.ItemResults(Value(ValueList{16}), plan.chunks()[1]), ElementsAre(Value(16)));
}

TEST(ChunkPlan, MalformedChunkResultIsAnInternalError) {
  ChunkPlan plan(4, 2);
  EXPECT_EQ(plan.ItemResults(Value(ValueList{4}), plan.chunks()[0]).status().code(),
            absl::StatusCode::kInternal);
  EXPECT_EQ(plan.ItemResults(Value("oops"), plan.chunks()[0]).status().code(),
            absl::StatusCode::kInternal);
}

TEST(ChunkPlan, FailedJobFailsEveryItemWithItsError) {
  ChunkPlan plan(4, 2);
  absl::Status error = absl::InvalidArgumentError("bad input");
  EXPECT_EQ(plan.ItemResults(error, plan.chunks()[1]).status(), error);
}

}  // namespace
}  // namespace netpool
