#include "client/cli/exec_job.h"

#include "common/value_proto.h"
#include "gtest/gtest.h"

namespace netpool {
namespace cli {
namespace {

internal::Outcome Succeeded(Value value) {
  return internal::Outcome{v1::SUCCEEDED, std::move(value), Value()};
}

internal::Outcome Failed(absl::Status error, Value detail) {
  return internal::Outcome{v1::FAILED, error, std::move(detail)};
}

Value Report(int exit_code, Value out, Value err) {
  return ValueMap{{"exit_code", exit_code}, {"stdout", std::move(out)}, {"stderr", std::move(err)}};
}

TEST(ExecJob, PassesTheCommandLineAsOneListArgument) {
  v1::JobSpec job = ExecJob({"gzip", "-9", "a.nii"});
  EXPECT_EQ(job.function(), "exec");
  ASSERT_EQ(job.args_size(), 1);
  EXPECT_EQ(*FromProto(job.args(0)), Value(ValueList{"gzip", "-9", "a.nii"}));
}

TEST(ExecJob, HandsTheTimeoutToExecItself) {
  v1::JobSpec job = ExecJob({"sleep", "9"}, absl::Seconds(1.5));
  EXPECT_EQ(job.timeout_seconds(), 0);
  ASSERT_EQ(job.args_size(), 2);
  EXPECT_EQ(*FromProto(job.args(1)), Value(ValueMap{{"timeout", 1.5}}));
}

TEST(ReportOf, SucceededCommandReportsInItsResult) {
  internal::Outcome outcome = Succeeded(Report(0, "hi\n", ""));
  std::optional<CommandReport> report = ReportOf(outcome);
  ASSERT_TRUE(report.has_value());
  EXPECT_EQ(report->stdout_data, "hi\n");
  EXPECT_EQ(ExitStatusOf(outcome, report), 0);
  EXPECT_FALSE(NeedsErrorMessage(outcome, report));
}

TEST(ReportOf, FailedCommandReportsInTheErrorDetail) {
  internal::Outcome outcome =
      Failed(absl::UnknownError("command exited with code 3"), Report(3, "", "oops\n"));
  std::optional<CommandReport> report = ReportOf(outcome);
  ASSERT_TRUE(report.has_value());
  EXPECT_EQ(report->stderr_data, "oops\n");
  EXPECT_EQ(ExitStatusOf(outcome, report), 3);
  // The command said what went wrong itself.
  EXPECT_FALSE(NeedsErrorMessage(outcome, report));
}

TEST(ReportOf, OutputThatIsNotTextArrivesAsBytes) {
  internal::Outcome outcome = Succeeded(Report(0, Bytes{std::string("\xff\x00", 2)}, ""));
  std::optional<CommandReport> report = ReportOf(outcome);
  ASSERT_TRUE(report.has_value());
  EXPECT_EQ(report->stdout_data, std::string("\xff\x00", 2));
}

TEST(ReportOf, TimeoutExits124AsTimeoutDoesAndExplains) {
  internal::Outcome outcome = Failed(absl::DeadlineExceededError("command timed out after 1 s"),
                                     Report(137, "partial", ""));
  std::optional<CommandReport> report = ReportOf(outcome);
  EXPECT_EQ(ExitStatusOf(outcome, report), 124);
  EXPECT_TRUE(NeedsErrorMessage(outcome, report));
}

TEST(ReportOf, SignalKeepsTheShellStatusAndExplains) {
  internal::Outcome outcome =
      Failed(absl::UnknownError("command killed by signal 9 (SIGKILL)"), Report(137, "", ""));
  std::optional<CommandReport> report = ReportOf(outcome);
  EXPECT_EQ(ExitStatusOf(outcome, report), 137);
  EXPECT_TRUE(NeedsErrorMessage(outcome, report));
}

TEST(ReportOf, JobThatEndedWithoutAReportFailsWithOne) {
  internal::Outcome outcome = Failed(absl::AbortedError("worker process died"), Value());
  std::optional<CommandReport> report = ReportOf(outcome);
  EXPECT_FALSE(report.has_value());
  EXPECT_EQ(ExitStatusOf(outcome, report), 1);
  EXPECT_TRUE(NeedsErrorMessage(outcome, report));
}

TEST(ReportOf, ResultOfAnotherShapeIsNoReport) {
  EXPECT_FALSE(ReportOf(Succeeded(Value("text"))).has_value());
  EXPECT_FALSE(ReportOf(Succeeded(ValueMap{{"exit_code", "0"}})).has_value());
}

// As GNU parallel's --joblog columns Exitval and Signal.
TEST(CommandEndOf, TellsAnExitFromASignalFromATimeout) {
  auto end = [](const internal::Outcome& outcome) {
    const CommandEnd got = CommandEndOf(outcome, ReportOf(outcome));
    return std::make_pair(got.exit_value, got.signal);
  };
  EXPECT_EQ(end(Succeeded(Report(0, "", ""))), std::make_pair(0, 0));
  EXPECT_EQ(end(Failed(absl::UnknownError("command exited with code 130"), Report(130, "", ""))),
            std::make_pair(130, 0));
  EXPECT_EQ(end(Failed(absl::UnknownError("command killed by signal 9 (SIGKILL)"),
                       Report(137, "", ""))),
            std::make_pair(0, 9));
  EXPECT_EQ(end(Failed(absl::DeadlineExceededError("command timed out after 1 s"),
                       Report(137, "", ""))),
            std::make_pair(-1, 15));
  EXPECT_EQ(end(Failed(absl::AbortedError("worker process died"), Value())),
            std::make_pair(-1, 0));
}

}  // namespace
}  // namespace cli
}  // namespace netpool
