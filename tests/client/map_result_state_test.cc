#include "client/map_result_state.h"

#include <memory>
#include <stdexcept>
#include <thread>
#include <vector>

#include "client/chunk_plan.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace netpool {
namespace internal {
namespace {

using ::testing::ElementsAre;

// What the callbacks of one map saw.
struct Calls {
  int callbacks = 0;
  int error_callbacks = 0;
  Value value;
  absl::Status error;
  bool ready_during_callback = true;
};

MapResultState::Callbacks Recording(Calls* calls, const MapResultState** state) {
  return MapResultState::Callbacks{
      [calls, state](const Value& value) {
        ++calls->callbacks;
        calls->value = value;
        calls->ready_during_callback = (*state)->Ready();
      },
      [calls, state](const absl::Status& error) {
        ++calls->error_callbacks;
        calls->error = error;
        calls->ready_during_callback = (*state)->Ready();
      }};
}

TEST(MapResultState, FlattensChunksInInputOrderWhateverOrderTheyFinish) {
  Calls calls;
  const MapResultState* self = nullptr;
  MapResultState state(ChunkPlan(5, 2), Recording(&calls, &self));
  self = &state;
  state.ChunkDone(2, Value(ValueList{"e"}));
  state.ChunkDone(0, Value(ValueList{"a", "b"}));
  EXPECT_FALSE(state.Ready());
  state.ChunkDone(1, Value(ValueList{"c", "d"}));
  ASSERT_TRUE(state.Ready());
  ASSERT_TRUE(state.result().ok());
  EXPECT_THAT(*state.result(), ElementsAre("a", "b", "c", "d", "e"));
  EXPECT_EQ(calls.callbacks, 1);
  EXPECT_EQ(calls.value, Value(ValueList{"a", "b", "c", "d", "e"}));
  EXPECT_EQ(calls.error_callbacks, 0);
}

TEST(MapResultState, UnchunkedJobsAreOneItemEach) {
  MapResultState state(ChunkPlan(2, 1), {});
  state.ChunkDone(1, Value(7));
  state.ChunkDone(0, Value(ValueList{1, 2}));  // a list result stays one item
  ASSERT_TRUE(state.result().ok());
  EXPECT_THAT(*state.result(), ElementsAre(Value(ValueList{1, 2}), Value(7)));
}

TEST(MapResultState, FirstFailedItemInInputOrderIsTheMapsErrorOnceAllAreDone) {
  Calls calls;
  const MapResultState* self = nullptr;
  MapResultState state(ChunkPlan(3, 1), Recording(&calls, &self));
  self = &state;
  state.ChunkDone(2, absl::InternalError("later item, failed first"));
  state.ChunkDone(1, absl::NotFoundError("earlier item"));
  // The other item still counts: not ready, no callback yet.
  EXPECT_FALSE(state.Ready());
  EXPECT_EQ(calls.error_callbacks, 0);
  state.ChunkDone(0, Value(1));
  ASSERT_TRUE(state.Ready());
  EXPECT_EQ(state.result().status(), absl::NotFoundError("earlier item"));
  EXPECT_EQ(calls.error_callbacks, 1);
  EXPECT_EQ(calls.error, absl::NotFoundError("earlier item"));
  EXPECT_EQ(calls.callbacks, 0);
}

TEST(MapResultState, ChunkWithTheWrongNumberOfResultsFailsTheMap) {
  MapResultState state(ChunkPlan(4, 2), {});
  state.ChunkDone(0, Value(ValueList{1, 2}));
  state.ChunkDone(1, Value(ValueList{3}));
  EXPECT_EQ(state.result().status().code(), absl::StatusCode::kInternal);
}

TEST(MapResultState, CallbackRunsBeforeTheMapIsReady) {
  Calls calls;
  const MapResultState* self = nullptr;
  MapResultState state(ChunkPlan(1, 1), Recording(&calls, &self));
  self = &state;
  state.ChunkDone(0, Value(1));
  EXPECT_FALSE(calls.ready_during_callback);
  EXPECT_TRUE(state.Ready());
}

TEST(MapResultState, ThrowingCallbackStillMakesTheMapReady) {
  MapResultState state(ChunkPlan(1, 1),
                       {[](const Value&) { throw std::runtime_error("user bug"); }, nullptr});
  state.ChunkDone(0, Value(1));
  EXPECT_TRUE(state.WaitUntil(absl::InfinitePast()));
}

TEST(MapResultState, EmptyMapIsReadyAtOnceAndCallsNoCallback) {
  Calls calls;
  const MapResultState* self = nullptr;
  MapResultState state(ChunkPlan(0, 1), Recording(&calls, &self));
  EXPECT_TRUE(state.Ready());
  ASSERT_TRUE(state.result().ok());
  EXPECT_TRUE(state.result()->empty());
  EXPECT_EQ(calls.callbacks + calls.error_callbacks, 0);
}

TEST(MapResultState, MapThatCouldNotStartIsReadyWithItsError) {
  MapResultState state(absl::FailedPreconditionError("pool is closed"));
  EXPECT_TRUE(state.Ready());
  EXPECT_EQ(state.result().status(), absl::FailedPreconditionError("pool is closed"));
}

TEST(MapResultState, WaitUntilWakesWhenTheLastChunkArrives) {
  MapResultState state(ChunkPlan(2, 1), {});
  EXPECT_FALSE(state.WaitUntil(absl::Now() + absl::Milliseconds(10)));
  std::thread finisher([&] {
    state.ChunkDone(0, Value(0));
    state.ChunkDone(1, Value(1));
  });
  EXPECT_TRUE(state.WaitUntil(absl::InfiniteFuture()));
  finisher.join();
}

}  // namespace
}  // namespace internal
}  // namespace netpool
