// SchedulerMetrics on its own: what it records shows in the exposition.
#include "server/http/scheduler_metrics.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace netpool {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// gRPC passes on the method names clients make up: beyond the bound they
// count under method="other", and counting them never blocks.
TEST(SchedulerMetrics, MethodsBeyondTheBoundCountAsOther) {
  RealClock clock;
  SchedulerMetrics metrics(&clock);
  for (int i = 0; i < SchedulerMetrics::kMaxMethods; ++i) {
    metrics.OnRpcDone(absl::StrCat("/made.Up/M", i), grpc::StatusCode::UNIMPLEMENTED);
  }
  metrics.OnRpcDone("/made.Up/OneTooMany", grpc::StatusCode::UNIMPLEMENTED);
  metrics.OnRpcDone("/made.Up/AndAnother", grpc::StatusCode::UNIMPLEMENTED);
  const std::string text = metrics.Render({}, {}, {});
  EXPECT_THAT(text, HasSubstr("netpool_rpcs_total{code=\"UNIMPLEMENTED\",method=\"other\"} 2"));
  EXPECT_THAT(text, HasSubstr("method=\"/made.Up/M0\""));
  EXPECT_THAT(text, Not(HasSubstr("OneTooMany")));
}

}  // namespace
}  // namespace netpool
