#include "server/core/retry_policy.h"

#include "gtest/gtest.h"

namespace netpool {
namespace {

TEST(RetryDelay, DoublesPerAttemptUpToTheCap) {
  const absl::Duration base = absl::Seconds(1);
  const absl::Duration max = absl::Seconds(10);
  EXPECT_EQ(RetryDelay(base, max, 1, 1.0), absl::Seconds(1));
  EXPECT_EQ(RetryDelay(base, max, 2, 1.0), absl::Seconds(2));
  EXPECT_EQ(RetryDelay(base, max, 3, 1.0), absl::Seconds(4));
  EXPECT_EQ(RetryDelay(base, max, 5, 1.0), absl::Seconds(10));
  EXPECT_EQ(RetryDelay(base, max, 1000, 1.0), absl::Seconds(10));
}

TEST(RetryDelay, JitterKeepsAtLeastHalf) {
  EXPECT_EQ(RetryDelay(absl::Seconds(4), absl::Minutes(1), 1, 0.0), absl::Seconds(2));
  EXPECT_EQ(RetryDelay(absl::Seconds(4), absl::Minutes(1), 1, 0.5), absl::Seconds(3));
  EXPECT_EQ(RetryDelay(absl::Seconds(4), absl::Minutes(1), 1, 7.0), absl::Seconds(4));
}

}  // namespace
}  // namespace netpool
