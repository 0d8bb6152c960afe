// Reconnector: which failures are retried, for how long, and what the caller
// is told when it gives up.
#include "client/reconnector.h"

#include <string>
#include <vector>

#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/status_matchers.h"

namespace netpool {
namespace {

using ::netpool::testing::IsOk;
using ::netpool::testing::StatusIs;
using ::testing::HasSubstr;

const absl::Status kRefused = absl::UnavailableError("scheduler at 127.0.0.1:9 is unavailable");

TEST(Reconnector, RetriesAnUnreachableSchedulerUntilItAnswers) {
  Reconnector reconnector({.retry_for = absl::Seconds(30)});
  int calls = 0;
  absl::StatusOr<int> answer = reconnector.Retry([&]() -> absl::StatusOr<int> {
    if (++calls < 4) return kRefused;
    return 7;
  });
  ASSERT_THAT(answer.status(), IsOk());
  EXPECT_EQ(*answer, 7);
  EXPECT_EQ(calls, 4);
}

TEST(Reconnector, GivesUpOnceTheSchedulerHasBeenUnreachableForTheWholeWindow) {
  Reconnector reconnector({.retry_for = absl::Milliseconds(500)});
  const absl::Time start = absl::Now();
  int calls = 0;
  absl::Status answer = reconnector.Retry([&] {
    ++calls;
    return kRefused;
  });
  const absl::Duration took = absl::Now() - start;
  EXPECT_THAT(answer, StatusIs(absl::StatusCode::kUnavailable,
                               HasSubstr("unreachable for 500ms, giving up: scheduler at "
                                         "127.0.0.1:9 is unavailable")));
  EXPECT_GE(took, absl::Milliseconds(500));
  EXPECT_LT(took, absl::Seconds(5));
  EXPECT_GT(calls, 2);
}

TEST(Reconnector, AnAnswerThatIsAnErrorIsNotRetried) {
  Reconnector reconnector({.retry_for = absl::Seconds(30)});
  for (const absl::Status& refusal :
       {absl::UnauthenticatedError("no token"), absl::PermissionDeniedError("not yours"),
        absl::InvalidArgumentError("bad id"), absl::NotFoundError("no job")}) {
    int calls = 0;
    absl::Status answer = reconnector.Retry([&] {
      ++calls;
      return refusal;
    });
    EXPECT_EQ(answer, refusal);
    EXPECT_EQ(calls, 1);
  }
}

TEST(Reconnector, ZeroMeansTheFirstFailureIsTheAnswer) {
  Reconnector reconnector({.retry_for = absl::ZeroDuration()});
  int calls = 0;
  absl::Status answer = reconnector.Retry([&] {
    ++calls;
    return kRefused;
  });
  EXPECT_EQ(answer, kRefused);
  EXPECT_EQ(calls, 1);
}

TEST(Reconnector, AnAnswerEndsTheOutageAndEachOutageIsToldOnce) {
  std::vector<std::string> told;
  Reconnector reconnector(
      {.retry_for = absl::Milliseconds(300),
       .on_outage = [&](const absl::Status& failure) {
         told.push_back(std::string(failure.message()));
       }});
  EXPECT_THAT(reconnector.Failed(kRefused).status(), IsOk());
  EXPECT_THAT(reconnector.Failed(kRefused).status(), IsOk());
  EXPECT_EQ(told.size(), 1u);
  absl::SleepFor(absl::Milliseconds(400));
  EXPECT_THAT(reconnector.Failed(kRefused).status(),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("unreachable for 300ms")));
  // A later outage starts its own window.
  reconnector.Reached();
  EXPECT_THAT(reconnector.Failed(kRefused).status(), IsOk());
  EXPECT_EQ(told.size(), 2u);
}

TEST(Reconnector, PausesGrowButNeverPassTheEndOfTheWindow) {
  Reconnector reconnector({.retry_for = absl::Seconds(3)});
  absl::Duration last = absl::ZeroDuration();
  for (int i = 0; i < 8; ++i) {
    absl::StatusOr<absl::Duration> pause = reconnector.Failed(kRefused);
    ASSERT_THAT(pause.status(), IsOk());
    EXPECT_GE(*pause, last);
    EXPECT_LE(*pause, Reconnector::kMaxPause);
    last = *pause;
  }
  EXPECT_EQ(last, Reconnector::kMaxPause);
}

}  // namespace
}  // namespace netpool
