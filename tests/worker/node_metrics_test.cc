#include "worker/http/node_metrics.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace netpool {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(NodeMetrics, CountsProcessesJobsRestartsAndTaskTimes) {
  NodeMetrics metrics;
  metrics.OnProcesses(3, 1);
  metrics.OnTaskRan("echo", absl::Milliseconds(2));
  metrics.OnTaskRan("echo", absl::Milliseconds(3));
  metrics.OnJobEnded(v1::SUCCEEDED);
  metrics.OnJobEnded(v1::FAILED);
  metrics.OnJobEnded(v1::CANCELLED);
  metrics.OnProcessDied();
  const std::string text = metrics.Render();
  EXPECT_THAT(text, HasSubstr("netpool_node_processes{state=\"busy\"} 3\n"));
  EXPECT_THAT(text, HasSubstr("netpool_node_processes{state=\"idle\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("netpool_node_task_seconds_count{function=\"echo\"} 2\n"));
  EXPECT_THAT(text, HasSubstr("netpool_node_jobs_total{state=\"succeeded\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("netpool_node_jobs_total{state=\"failed\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("netpool_node_jobs_total{state=\"cancelled\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("netpool_node_process_restarts_total 1\n"));
}

TEST(NodeMetrics, FunctionsBeyondTheCapAreTimedAsOther) {
  NodeMetrics metrics;
  for (int i = 0; i < NodeMetrics::kMaxFunctions + 5; ++i) {
    metrics.OnTaskRan(absl::StrCat("f", i), absl::Milliseconds(1));
  }
  const std::string text = metrics.Render();
  EXPECT_THAT(text, HasSubstr(absl::StrCat("function=\"f", NodeMetrics::kMaxFunctions - 1, "\"")));
  EXPECT_THAT(text, Not(HasSubstr(absl::StrCat("function=\"f", NodeMetrics::kMaxFunctions, "\""))));
  EXPECT_THAT(text, HasSubstr("netpool_node_task_seconds_count{function=\"other\"} 5\n"));
}

}  // namespace
}  // namespace netpool
