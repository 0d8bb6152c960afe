#include "client/cli/map_output.h"

#include <sstream>
#include <string>

#include "absl/strings/match.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace netpool {
namespace cli {
namespace {

using ::testing::EndsWith;
using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr char kErase[] = "\033[K";

// A clock the test moves by hand.
struct ManualClock {
  absl::Time now = absl::FromUnixSeconds(1'700'000'000);
  std::function<absl::Time()> Function() {
    return [this] { return now; };
  }
};

int CountOf(const std::string& text, const std::string& needle) {
  int count = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) {
    ++count;
  }
  return count;
}

TEST(FormatProgress, ShowsDoneTotalRateEtaAndFailures) {
  EXPECT_EQ(FormatProgress({.done = 120, .failed = 3, .total = 1000, .elapsed = absl::Seconds(3)}),
            "120/1000 done  40/s  ETA 0:22  3 failed");
  EXPECT_EQ(
      FormatProgress({.done = 3, .failed = 0, .total = 21600, .elapsed = absl::Seconds(2)}),
      "3/21600 done  1.5/s  ETA 3:59:58  0 failed");
}

TEST(FormatProgress, LeavesOutWhatIsNotKnownYet) {
  EXPECT_EQ(FormatProgress({.done = 120, .failed = 0, .total = {}, .elapsed = absl::Seconds(3)}),
            "120/? done  40/s  0 failed");
  EXPECT_EQ(FormatProgress({.done = 0, .failed = 0, .total = 5, .elapsed = absl::ZeroDuration()}),
            "0/5 done  0 failed");
}

TEST(MapOutput, OffATerminalWritesResultsAndMessagesAndNothingElse) {
  std::ostringstream out, err;
  MapOutput output(&out, &err, /*progress_line=*/false);
  output.Result("[1]\n");
  output.Message("item 1: failed\n");
  output.ItemsDone(2, 1);
  output.Tick();
  output.Finish();
  EXPECT_EQ(out.str(), "[1]\n");
  EXPECT_EQ(err.str(), "item 1: failed\n");
}

TEST(MapOutput, OnATerminalDrawsTheLineAndWritesOutputAboveIt) {
  std::ostringstream out, err;
  ManualClock clock;
  MapOutput output(&out, &err, /*progress_line=*/true, clock.Function());
  output.SetTotal(4);
  output.Result("[1]\n");
  output.ItemsDone(1, 0);
  EXPECT_EQ(out.str(), "") << "results wait for the next redraw";

  clock.now += absl::Seconds(1);
  output.Tick();
  EXPECT_EQ(out.str(), "[1]\n");
  EXPECT_EQ(err.str(), std::string("\r1/4 done  1.0/s  ETA 0:03  0 failed") + kErase);

  output.Message("item 1: failed\n");
  output.ItemsDone(1, 1);
  clock.now += absl::Seconds(1);
  output.Tick();
  // The line is erased, the message written where it was, the line redrawn.
  EXPECT_THAT(err.str(), HasSubstr(std::string("\r") + kErase + "item 1: failed\n\r2/4 done"));

  output.Finish();
  EXPECT_THAT(err.str(), EndsWith(std::string("\r") + kErase)) << "the line is cleared";
  EXPECT_EQ(out.str(), "[1]\n");
}

TEST(MapOutput, RedrawsAtMostTenTimesASecond) {
  std::ostringstream out, err;
  ManualClock clock;
  MapOutput output(&out, &err, /*progress_line=*/true, clock.Function());
  for (int ms = 0; ms < 1000; ++ms) {
    output.Result("x\n");
    output.ItemsDone(1, 0);
    output.Tick();
    clock.now += absl::Milliseconds(1);
  }
  const int redraws = CountOf(err.str(), " done");
  EXPECT_GE(redraws, 9);
  EXPECT_LE(redraws, 10);
  output.Finish();
  EXPECT_EQ(CountOf(out.str(), "x\n"), 1000) << "every result is written in the end";
}

TEST(MapOutput, FinishWritesWhatIsLeftEvenWithoutARedraw) {
  std::ostringstream out, err;
  MapOutput output(&out, &err, /*progress_line=*/true);
  output.Result("[1]\n");
  output.Message("warning\n");
  output.Finish();
  EXPECT_EQ(out.str(), "[1]\n");
  EXPECT_EQ(err.str(), "warning\n");
  EXPECT_FALSE(absl::StrContains(err.str(), "done")) << "nothing was drawn, so nothing to clear";
}

}  // namespace
}  // namespace cli
}  // namespace netpool
