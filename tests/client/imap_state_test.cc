#include "client/imap_state.h"

#include <thread>
#include <vector>

#include "client/chunk_plan.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace netpool {
namespace internal {
namespace {

using Order = IMapState::Order;

// What Next returns with no waiting.
absl::StatusOr<Value> NextNow(IMapState& state) { return state.Next(absl::InfinitePast()); }

TEST(IMapState, InInputOrderALateChunkHoldsBackTheOnesAfterIt) {
  IMapState state(ChunkPlan(5, 2), Order::kInput);
  state.ChunkDone(1, Value(ValueList{"c", "d"}));
  state.ChunkDone(2, Value(ValueList{"e"}));
  EXPECT_EQ(NextNow(state).status().code(), absl::StatusCode::kDeadlineExceeded);
  state.ChunkDone(0, Value(ValueList{"a", "b"}));
  for (const char* expected : {"a", "b", "c", "d", "e"}) {
    absl::StatusOr<Value> next = NextNow(state);
    ASSERT_TRUE(next.ok()) << next.status();
    EXPECT_EQ(*next, Value(expected));
  }
  EXPECT_EQ(NextNow(state).status().code(), absl::StatusCode::kOutOfRange);
  // The end stays the end.
  EXPECT_EQ(NextNow(state).status().code(), absl::StatusCode::kOutOfRange);
}

TEST(IMapState, InCompletionOrderChunksComeOutAsTheyFinish) {
  IMapState state(ChunkPlan(4, 2), Order::kCompletion);
  state.ChunkDone(1, Value(ValueList{"c", "d"}));
  EXPECT_EQ(*NextNow(state), Value("c"));
  state.ChunkDone(0, Value(ValueList{"a", "b"}));
  EXPECT_EQ(*NextNow(state), Value("d"));
  EXPECT_EQ(*NextNow(state), Value("a"));
  EXPECT_EQ(*NextNow(state), Value("b"));
  EXPECT_EQ(NextNow(state).status().code(), absl::StatusCode::kOutOfRange);
}

TEST(IMapState, FailedItemGivesItsErrorInItsPlaceAndIterationGoesOn) {
  IMapState state(ChunkPlan(3, 1), Order::kInput);
  state.ChunkDone(0, Value(0));
  state.ChunkDone(1, absl::InvalidArgumentError("item 1 is bad"));
  state.ChunkDone(2, Value(2));
  EXPECT_EQ(*NextNow(state), Value(0));
  EXPECT_EQ(NextNow(state).status(), absl::InvalidArgumentError("item 1 is bad"));
  EXPECT_EQ(*NextNow(state), Value(2));
  EXPECT_EQ(NextNow(state).status().code(), absl::StatusCode::kOutOfRange);
}

TEST(IMapState, FailedChunkGivesTheErrorForEachOfItsItems) {
  IMapState state(ChunkPlan(3, 2), Order::kInput);
  state.ChunkDone(0, absl::InternalError("chunk failed"));
  state.ChunkDone(1, Value(ValueList{"c"}));
  EXPECT_EQ(NextNow(state).status(), absl::InternalError("chunk failed"));
  EXPECT_EQ(NextNow(state).status(), absl::InternalError("chunk failed"));
  EXPECT_EQ(*NextNow(state), Value("c"));
  EXPECT_EQ(NextNow(state).status().code(), absl::StatusCode::kOutOfRange);
}

TEST(IMapState, TimeoutLeavesTheItemToCome) {
  IMapState state(ChunkPlan(1, 1), Order::kInput);
  EXPECT_EQ(state.Next(absl::Now() + absl::Milliseconds(10)).status().code(),
            absl::StatusCode::kDeadlineExceeded);
  state.ChunkDone(0, Value("late"));
  EXPECT_EQ(*NextNow(state), Value("late"));
}

TEST(IMapState, NextWakesWhenAResultArrives) {
  IMapState state(ChunkPlan(1, 1), Order::kCompletion);
  std::thread finisher([&] { state.ChunkDone(0, Value(1)); });
  EXPECT_EQ(*state.Next(absl::InfiniteFuture()), Value(1));
  finisher.join();
}

TEST(IMapState, EmptyInputEndsAtOnce) {
  IMapState state(ChunkPlan(0, 1), Order::kInput);
  EXPECT_EQ(NextNow(state).status().code(), absl::StatusCode::kOutOfRange);
}

TEST(IMapState, CallThatCouldNotStartGivesItsErrorOnceThenEnds) {
  IMapState state(absl::FailedPreconditionError("pool is closed"));
  EXPECT_EQ(NextNow(state).status(), absl::FailedPreconditionError("pool is closed"));
  EXPECT_EQ(NextNow(state).status().code(), absl::StatusCode::kOutOfRange);
}

}  // namespace
}  // namespace internal
}  // namespace netpool
