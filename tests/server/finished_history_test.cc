// FinishedHistory on a fake clock: counts land in the interval they happen
// in, the ring moves on with time and forgets what is older than it holds.
#include "server/http/finished_history.h"

#include <vector>

#include "gtest/gtest.h"
#include "server/core/clock.h"

namespace netpool {
namespace {

std::vector<int64_t> Succeeded(const FinishedHistory& history) {
  std::vector<int64_t> out;
  for (const FinishedHistory::Counts& counts : history.Snapshot()) out.push_back(counts.succeeded);
  return out;
}

TEST(FinishedHistory, StartsWithZerosEndingNow) {
  FakeClock clock;
  FinishedHistory history(&clock, absl::Seconds(10), 4);
  EXPECT_EQ(Succeeded(history), std::vector<int64_t>({0, 0, 0, 0}));
  EXPECT_EQ(history.interval(), absl::Seconds(10));
}

TEST(FinishedHistory, CountsEachStateInTheIntervalUnderWay) {
  FakeClock clock;
  FinishedHistory history(&clock, absl::Seconds(10), 4);
  history.Record(v1::SUCCEEDED);
  history.Record(v1::SUCCEEDED);
  history.Record(v1::FAILED);
  history.Record(v1::CANCELLED);
  const std::vector<FinishedHistory::Counts> snapshot = history.Snapshot();
  ASSERT_EQ(snapshot.size(), 4u);
  EXPECT_EQ(snapshot.back().succeeded, 2);
  EXPECT_EQ(snapshot.back().failed, 1);
  EXPECT_EQ(snapshot.back().cancelled, 1);
  EXPECT_EQ(snapshot.front().succeeded + snapshot.front().failed, 0);
}

TEST(FinishedHistory, MovesOnWithTimeOldestFirst) {
  FakeClock clock;
  FinishedHistory history(&clock, absl::Seconds(10), 4);
  history.Record(v1::SUCCEEDED);  // interval 0
  clock.Advance(absl::Seconds(9));
  history.Record(v1::SUCCEEDED);  // still interval 0
  clock.Advance(absl::Seconds(1));
  history.Record(v1::SUCCEEDED);  // interval 1
  clock.Advance(absl::Seconds(25));
  history.Record(v1::SUCCEEDED);  // interval 3
  EXPECT_EQ(Succeeded(history), std::vector<int64_t>({2, 1, 0, 1}));
  // A look alone moves it on too: the last entry is always now.
  clock.Advance(absl::Seconds(10));
  EXPECT_EQ(Succeeded(history), std::vector<int64_t>({1, 0, 1, 0}));
}

TEST(FinishedHistory, ForgetsAllAfterALongQuiet) {
  FakeClock clock;
  FinishedHistory history(&clock, absl::Seconds(10), 4);
  history.Record(v1::FAILED);
  clock.Advance(absl::Hours(5));
  history.Record(v1::SUCCEEDED);
  EXPECT_EQ(Succeeded(history), std::vector<int64_t>({0, 0, 0, 1}));
  int64_t failed = 0;
  for (const FinishedHistory::Counts& counts : history.Snapshot()) failed += counts.failed;
  EXPECT_EQ(failed, 0);
}

// It runs on the monotonic clock: a wall clock set back an hour neither
// empties the chart nor puts new counts into old intervals.
TEST(FinishedHistory, IgnoresWallClockSteps) {
  FakeClock clock;
  FinishedHistory history(&clock, absl::Seconds(10), 4);
  history.Record(v1::SUCCEEDED);
  clock.StepWallClock(absl::Hours(-1));
  history.Record(v1::SUCCEEDED);
  clock.StepWallClock(absl::Hours(2));
  history.Record(v1::SUCCEEDED);
  EXPECT_EQ(Succeeded(history), std::vector<int64_t>({0, 0, 0, 3}));
}

}  // namespace
}  // namespace netpool
