// PrefetchSizer's window rule and its estimates, on a clock the test moves.
// That NodeAgent gives the credits it decides is tested in node_agent_test.cc.
#include "worker/prefetch_sizer.h"

#include "gtest/gtest.h"

namespace netpool {
namespace {

constexpr absl::Duration kMs = absl::Milliseconds(1);

class PrefetchSizerTest : public ::testing::Test {
 protected:
  // A node of 2 processes with a cap high enough not to bind unless a test
  // lowers it.
  PrefetchSizer::Options options_{.processes = 2, .prefetch = 1000, .budget = 10 * kMs};

  // Credits go out when none are unanswered, and an assignment answers them
  // `round_trip` later.
  void RoundTrip(PrefetchSizer& sizer, absl::Duration round_trip) {
    sizer.CreditsSent(/*credits=*/1, /*unused=*/0, now_);
    now_ += round_trip;
    sizer.AssignmentArrived(now_);
    now_ += kMs;
  }

  void Jobs(PrefetchSizer& sizer, int count, absl::Duration run_time) {
    for (int i = 0; i < count; ++i) sizer.JobRunTime(run_time);
  }

  absl::Time now_ = absl::UnixEpoch();
};

TEST_F(PrefetchSizerTest, HoldsOnlyTheProcessesUntilAJobsRunTimeIsKnown) {
  PrefetchSizer sizer(options_);
  EXPECT_EQ(sizer.Window(), 2);
  RoundTrip(sizer, 30 * kMs);
  EXPECT_EQ(sizer.Window(), 2) << "a round trip alone says nothing of the jobs";
}

TEST_F(PrefetchSizerTest, WithoutDelayShortJobsQueueOnlyTheBudget) {
  PrefetchSizer sizer(options_);
  RoundTrip(sizer, absl::Microseconds(200));
  Jobs(sizer, 5, kMs);
  // 10.2 ms of 1 ms jobs on each of 2 processes.
  EXPECT_EQ(sizer.Window(), 2 + 20);
}

TEST_F(PrefetchSizerTest, ARoundTripOf30MsIsCoveredByQueuedWork) {
  PrefetchSizer sizer(options_);
  Jobs(sizer, 5, kMs);
  for (int i = 0; i < 3; ++i) RoundTrip(sizer, 30 * kMs);
  // Each process finishes 40 jobs while its credit travels to the
  // scheduler and back, plus the budget.
  EXPECT_EQ(sizer.Window(), 2 + 80);
}

TEST_F(PrefetchSizerTest, ThePrefetchCapBounds) {
  options_.prefetch = 64;
  PrefetchSizer sizer(options_);
  Jobs(sizer, 5, kMs);
  RoundTrip(sizer, 30 * kMs);
  EXPECT_EQ(sizer.Window(), 2 + 64);
}

TEST_F(PrefetchSizerTest, LongJobsQueueNothingExtra) {
  PrefetchSizer sizer(options_);
  RoundTrip(sizer, 30 * kMs);
  Jobs(sizer, 5, absl::Seconds(2));
  EXPECT_EQ(sizer.Window(), 2);
}

TEST_F(PrefetchSizerTest, ASwitchToLongJobsClosesTheWindowAtTheFirstOne) {
  PrefetchSizer sizer(options_);
  RoundTrip(sizer, 30 * kMs);
  Jobs(sizer, 100, kMs);
  ASSERT_EQ(sizer.Window(), 2 + 80);
  sizer.JobRunTime(absl::Seconds(2));
  EXPECT_EQ(sizer.Window(), 2);
  // Short jobs now and then among long ones do not open it again at once.
  sizer.JobRunTime(kMs);
  EXPECT_EQ(sizer.Window(), 2);
}

TEST_F(PrefetchSizerTest, ASwitchBackToShortJobsReopensTheWindowWithinAFewJobs) {
  PrefetchSizer sizer(options_);
  RoundTrip(sizer, 30 * kMs);
  Jobs(sizer, 5, absl::Seconds(2));
  ASSERT_EQ(sizer.Window(), 2);
  Jobs(sizer, 8, kMs);  // the estimate is 8.8 ms now
  EXPECT_EQ(sizer.Window(), 2 + 9);
  Jobs(sizer, 8, kMs);
  EXPECT_EQ(sizer.Window(), 2 + 77);
}

TEST_F(PrefetchSizerTest, TheRoundTripFollowsASlowerAndAFasterNetwork) {
  PrefetchSizer sizer(options_);
  EXPECT_EQ(sizer.round_trip(), std::nullopt);
  for (int i = 0; i < 10; ++i) RoundTrip(sizer, kMs);
  EXPECT_EQ(sizer.round_trip(), kMs);
  // A slower link shows once the fast round trips have left the samples.
  for (int i = 0; i < 7; ++i) RoundTrip(sizer, 30 * kMs);
  EXPECT_EQ(sizer.round_trip(), kMs);
  RoundTrip(sizer, 30 * kMs);
  EXPECT_EQ(sizer.round_trip(), 30 * kMs);
  // One slow answer (the scheduler had no work, or waited for its store)
  // does not count; a faster link counts at once.
  RoundTrip(sizer, absl::Seconds(5));
  EXPECT_EQ(sizer.round_trip(), 30 * kMs);
  RoundTrip(sizer, 5 * kMs);
  EXPECT_EQ(sizer.round_trip(), 5 * kMs);
}

TEST_F(PrefetchSizerTest, AnAssignmentMayAnswerEarlierCreditsSoItIsNoRoundTrip) {
  PrefetchSizer sizer(options_);
  sizer.CreditsSent(/*credits=*/1, /*unused=*/3, now_);
  sizer.AssignmentArrived(now_ + absl::Microseconds(10));
  EXPECT_EQ(sizer.round_trip(), std::nullopt);
  // Nor does a message that gives no credits start one.
  sizer.CreditsSent(/*credits=*/0, /*unused=*/0, now_);
  sizer.AssignmentArrived(now_ + absl::Microseconds(10));
  EXPECT_EQ(sizer.round_trip(), std::nullopt);
}

TEST_F(PrefetchSizerTest, OnlyTheFirstAssignmentAfterTheCreditsCounts) {
  PrefetchSizer sizer(options_);
  sizer.CreditsSent(/*credits=*/2, /*unused=*/0, now_);
  sizer.AssignmentArrived(now_ + 20 * kMs);
  sizer.AssignmentArrived(now_ + 50 * kMs);
  EXPECT_EQ(sizer.round_trip(), 20 * kMs);
}

TEST_F(PrefetchSizerTest, AnAcknowledgedResultIsARoundTrip) {
  PrefetchSizer sizer(options_);
  sizer.ResultsSent("a", now_);
  sizer.ResultsSent("b", now_ + kMs);  // one result is timed at a time
  sizer.Acknowledged("b", now_ + 2 * kMs);
  EXPECT_EQ(sizer.round_trip(), std::nullopt);
  sizer.Acknowledged("a", now_ + 25 * kMs);
  EXPECT_EQ(sizer.round_trip(), 25 * kMs);
  // The smaller of both kinds counts.
  RoundTrip(sizer, 20 * kMs);
  EXPECT_EQ(sizer.round_trip(), 20 * kMs);
}

TEST_F(PrefetchSizerTest, ANewStreamAnswersNothingSentOnTheOldOne) {
  PrefetchSizer sizer(options_);
  sizer.CreditsSent(/*credits=*/1, /*unused=*/0, now_);
  sizer.ResultsSent("a", now_);
  sizer.NewStream();
  sizer.AssignmentArrived(now_ + absl::Seconds(5));
  sizer.Acknowledged("a", now_ + absl::Seconds(5));
  EXPECT_EQ(sizer.round_trip(), std::nullopt);
  RoundTrip(sizer, 3 * kMs);
  EXPECT_EQ(sizer.round_trip(), 3 * kMs);
}

}  // namespace
}  // namespace netpool
