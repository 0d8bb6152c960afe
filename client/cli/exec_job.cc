#include "client/cli/exec_job.h"

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/string_view.h"
#include "common/value_proto.h"

namespace netpool {
namespace cli {
namespace {

// timeout(1)'s exit status when the command ran out of time.
constexpr int kExitCommandTimedOut = 124;
// The signal GNU parallel ends a job that ran out of time with (SIGTERM).
constexpr int kTimeoutSignal = 15;
// How exec's error message starts when a signal killed the command.
constexpr absl::string_view kKilledBySignal = "command killed by";

// exec hands back output that is not UTF-8 as bytes.
std::optional<std::string> Output(const ValueMap& report, const std::string& key) {
  auto it = report.find(key);
  if (it == report.end()) return std::nullopt;
  if (it->second.is_string()) return it->second.AsString();
  if (it->second.is_bytes()) return it->second.AsBytes();
  return std::nullopt;
}

}  // namespace

v1::JobSpec ExecJob(const std::vector<std::string>& argv, absl::Duration timeout) {
  ValueList words(argv.begin(), argv.end());
  v1::JobSpec spec;
  spec.set_function(kExecFunction);
  ToProto(Value(std::move(words)), spec.add_args());
  if (timeout > absl::ZeroDuration()) {
    ToProto(Value(ValueMap{{"timeout", absl::ToDoubleSeconds(timeout)}}), spec.add_args());
  }
  return spec;
}

std::optional<CommandReport> ReportOf(const internal::Outcome& outcome) {
  const Value& report = outcome.value.ok() ? *outcome.value : outcome.error_detail;
  if (!report.is_map()) return std::nullopt;
  auto exit_code = report.AsMap().find("exit_code");
  std::optional<std::string> stdout_data = Output(report.AsMap(), "stdout");
  std::optional<std::string> stderr_data = Output(report.AsMap(), "stderr");
  if (exit_code == report.AsMap().end() || !exit_code->second.is_int() || !stdout_data ||
      !stderr_data) {
    return std::nullopt;
  }
  return CommandReport{static_cast<int>(exit_code->second.AsInt()), *std::move(stdout_data),
                       *std::move(stderr_data)};
}

int ExitStatusOf(const internal::Outcome& outcome, const std::optional<CommandReport>& report) {
  if (outcome.value.ok()) return 0;
  if (absl::IsDeadlineExceeded(outcome.value.status())) return kExitCommandTimedOut;
  if (report.has_value() && report->exit_code > 0 && report->exit_code < 256) {
    return report->exit_code;
  }
  return 1;
}

CommandEnd CommandEndOf(const internal::Outcome& outcome,
                        const std::optional<CommandReport>& report) {
  if (outcome.value.ok()) return {};
  if (absl::IsDeadlineExceeded(outcome.value.status())) return {-1, kTimeoutSignal};
  if (!report.has_value()) return {-1, 0};
  // exec reports a signal as a shell does (128 + N) and says so in its
  // message, which tells it from a command that exited with 128 + N itself.
  if (report->exit_code > 128 &&
      absl::StartsWith(outcome.value.status().message(), kKilledBySignal)) {
    return {0, report->exit_code - 128};
  }
  return {report->exit_code, 0};
}

bool NeedsErrorMessage(const internal::Outcome& outcome,
                       const std::optional<CommandReport>& report) {
  if (outcome.value.ok()) return false;
  return !report.has_value() || report->exit_code <= 0 || report->exit_code >= 128;
}

}  // namespace cli
}  // namespace netpool
