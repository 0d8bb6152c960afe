#include "client/cli/job_log.h"

#include <fstream>
#include <sstream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/scratch_dir.h"
#include "tests/support/status_matchers.h"

namespace netpool {
namespace cli {
namespace {

using ::netpool::testing::IsOk;
using ::netpool::testing::ScratchDir;

// The line GNU parallel 20221122 writes for `parallel --joblog F echo ::: a.b`
// but for the times.
TEST(JobLog, LineIsInGnuParallelsFormat) {
  JobLogEntry entry;
  entry.sequence = 1;
  entry.host = ":";
  entry.start_unix = 1796518218.7614;
  entry.runtime_seconds = 0.0012;
  entry.received_bytes = 4;
  entry.command = "echo a.b";
  EXPECT_EQ(FormatJobLogLine(entry), "1\t:\t1796518218.761\t     0.001\t0\t4\t0\t0\techo a.b\n");
}

TEST(JobLog, FileStartsWithTheHeader) {
  ScratchDir dir;
  absl::StatusOr<std::unique_ptr<JobLog>> log = JobLog::Create(dir.File("log"));
  ASSERT_THAT(log.status(), IsOk());
  JobLogEntry entry;
  entry.sequence = 2;
  entry.host = "node0";
  entry.exit_value = -1;
  entry.signal = 15;
  entry.command = "sleep 9";
  (*log)->Add(entry);
  std::ifstream file(dir.File("log"));
  std::stringstream text;
  text << file.rdbuf();
  EXPECT_EQ(text.str(),
            "Seq\tHost\tStarttime\tJobRuntime\tSend\tReceive\tExitval\tSignal\tCommand\n"
            "2\tnode0\t0.000\t     0.000\t0\t0\t-1\t15\tsleep 9\n");
}

TEST(JobLog, UnwritablePathIsAnError) {
  EXPECT_FALSE(JobLog::Create("/nonexistent-dir/log").ok());
}

}  // namespace
}  // namespace cli
}  // namespace netpool
