#include "server/per_client_limit.h"

#include <utility>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/status_matchers.h"

namespace netpool {
namespace {

using ::netpool::testing::IsOk;
using ::netpool::testing::StatusIs;
using ::testing::AllOf;
using ::testing::HasSubstr;

TEST(PerClientLimit, RefusesAClientPastItsLimitNamingTheLimitAndItsFlag) {
  PerClientLimit limit(2, "open Watch streams", "--max-streams-per-client");
  absl::StatusOr<PerClientLimit::Lease> first = limit.Acquire("alice");
  absl::StatusOr<PerClientLimit::Lease> second = limit.Acquire("alice");
  ASSERT_THAT(first.status(), IsOk());
  ASSERT_THAT(second.status(), IsOk());
  EXPECT_THAT(limit.Acquire("alice").status(),
              StatusIs(absl::StatusCode::kResourceExhausted,
                       AllOf(HasSubstr("alice has 2 open Watch streams"),
                             HasSubstr("--max-streams-per-client"))));
  // Another client counts on its own.
  EXPECT_THAT(limit.Acquire("bob").status(), IsOk());
}

TEST(PerClientLimit, GivesRoomBackWhenALeaseGoesAway) {
  PerClientLimit limit(1, "waiting Gets", "--max-waiting-per-client");
  absl::StatusOr<PerClientLimit::Lease> lease = limit.Acquire("alice");
  ASSERT_THAT(lease.status(), IsOk());
  EXPECT_EQ(limit.held("alice"), 1);
  PerClientLimit::Lease moved = *std::move(lease);
  EXPECT_EQ(limit.held("alice"), 1);  // moving is not giving back
  moved = PerClientLimit::Lease();
  EXPECT_EQ(limit.held("alice"), 0);
  EXPECT_THAT(limit.Acquire("alice").status(), IsOk());
}

TEST(PerClientLimit, ZeroMeansNoLimit) {
  PerClientLimit limit(0, "waiting Gets", "--max-waiting-per-client");
  std::vector<PerClientLimit::Lease> leases;
  for (int i = 0; i < 5000; ++i) {
    absl::StatusOr<PerClientLimit::Lease> lease = limit.Acquire("alice");
    ASSERT_THAT(lease.status(), IsOk());
    leases.push_back(*std::move(lease));
  }
  EXPECT_EQ(limit.held("alice"), 5000);
}

}  // namespace
}  // namespace netpool
