#include "client/cli/halt_policy.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/status_matchers.h"

namespace netpool {
namespace cli {
namespace {

using ::netpool::testing::StatusIs;

TEST(HaltPolicy, ParsesGnuParallelsForms) {
  EXPECT_EQ(HaltPolicy::Parse("never")->when(), HaltPolicy::When::kNever);
  EXPECT_EQ(HaltPolicy::Parse("now,fail=1")->when(), HaltPolicy::When::kNow);
  EXPECT_EQ(HaltPolicy::Parse("soon,fail=3")->when(), HaltPolicy::When::kSoon);
  EXPECT_EQ(HaltPolicy::Parse("soon,success=2")->when(), HaltPolicy::When::kSoon);
  for (const char* bad : {"", "now", "now,fail", "now,fail=0", "now,fail=10%", "later,fail=1",
                          "now,done=1", "now,fail=1,x"}) {
    EXPECT_THAT(HaltPolicy::Parse(bad), StatusIs(absl::StatusCode::kInvalidArgument, ::testing::HasSubstr("--halt"))) << bad;
  }
}

TEST(HaltPolicy, HaltsAtTheCount) {
  const HaltPolicy fail = *HaltPolicy::Parse("soon,fail=2");
  EXPECT_FALSE(fail.ShouldHalt(1, 10));
  EXPECT_TRUE(fail.ShouldHalt(2, 0));
  const HaltPolicy success = *HaltPolicy::Parse("now,success=2");
  EXPECT_FALSE(success.ShouldHalt(5, 1));
  EXPECT_TRUE(success.ShouldHalt(0, 2));
  EXPECT_FALSE(HaltPolicy().ShouldHalt(1000, 1000));
}

// parallel's EXIT STATUS (man parallel).
TEST(HaltPolicy, ExitCodeIsParallels) {
  const HaltPolicy fail_one = *HaltPolicy::Parse("now,fail=1");
  EXPECT_EQ(fail_one.ExitCode(1, 4, 42), 42);
  EXPECT_EQ(fail_one.ExitCode(0, 4, 0), 0);
  const HaltPolicy fail_many = *HaltPolicy::Parse("soon,fail=200");
  EXPECT_EQ(fail_many.ExitCode(3, 0, 42), 3);
  EXPECT_EQ(fail_many.ExitCode(150, 0, 42), 101);
  const HaltPolicy success = *HaltPolicy::Parse("now,success=2");
  EXPECT_EQ(success.ExitCode(3, 2, 42), 0);
  EXPECT_EQ(success.ExitCode(3, 1, 42), 3);
}

}  // namespace
}  // namespace cli
}  // namespace netpool
