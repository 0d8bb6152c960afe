#include "common/records.h"

#include <algorithm>
#include <cmath>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/string_view.h"
#include "common/builtin_functions.h"
#include "common/value_proto.h"

namespace netpool {
namespace {

absl::Time FromUnix(double unix_seconds) { return absl::UnixEpoch() + absl::Seconds(unix_seconds); }

// Seconds to the millisecond, as the times: more digits would be noise.
double Milliseconds(double seconds) { return std::round(seconds * 1000) / 1000; }

// An empty string from the scheduler means "none": null in a record.
Value OrNull(const std::string& text) { return text.empty() ? Value() : Value(text); }

Value StringList(const google::protobuf::RepeatedPtrField<std::string>& strings) {
  ValueList list(strings.begin(), strings.end());
  return list;
}

Value StringMap(const google::protobuf::Map<std::string, std::string>& strings) {
  ValueMap map;
  for (const auto& [key, value] : strings) map.emplace(key, value);
  return map;
}

}  // namespace

Value TimeValue(double unix_seconds) {
  if (unix_seconds <= 0) return Value();
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", FromUnix(unix_seconds), absl::UTCTimeZone());
}

std::string LocalTime(double unix_seconds) {
  return absl::FormatTime("%Y-%m-%d %H:%M:%E3S", FromUnix(unix_seconds), absl::LocalTimeZone());
}

std::optional<double> DurationSeconds(const v1::JobStatus& job, absl::Time now) {
  if (job.started_unix() <= 0) return std::nullopt;
  const absl::Time end = job.finished_unix() > 0 ? FromUnix(job.finished_unix()) : now;
  return std::max(0.0, absl::ToDoubleSeconds(end - FromUnix(job.started_unix())));
}

absl::Status JobError(const v1::JobStatus& job) {
  if (job.state() != v1::FAILED && job.state() != v1::CANCELLED) return absl::OkStatus();
  for (auto attempt = job.attempts().rbegin(); attempt != job.attempts().rend(); ++attempt) {
    if (attempt->has_error()) return JobErrorToStatus(attempt->error());
  }
  if (job.state() == v1::CANCELLED) return absl::CancelledError("cancelled");
  return absl::OkStatus();
}

absl::StatusOr<v1::JobState> ParseJobState(const std::string& name) {
  v1::JobState state;
  if (!v1::JobState_Parse(absl::AsciiStrToUpper(name), &state) ||
      state == v1::JOB_STATE_UNSPECIFIED) {
    return absl::InvalidArgumentError(absl::StrCat(
        "unknown job state \"", name, "\" (PENDING RUNNING SUCCEEDED FAILED CANCELLED)"));
  }
  return state;
}

Value ErrorValue(const absl::Status& status, const Value& detail) {
  ValueMap error = {{"code", absl::StatusCodeToString(status.code())},
                    {"message", std::string(status.message())}};
  if (!detail.is_null()) error.emplace("detail", detail);
  return error;
}

std::optional<std::string> CommandLine(const v1::JobStatus& job) {
  if (job.function() != kExecFunction || job.args_size() == 0) return std::nullopt;
  absl::StatusOr<Value> argv = FromProto(job.args(0));
  if (!argv.ok() || !argv->is_list()) return std::nullopt;
  std::vector<std::string> words;
  for (const Value& word : argv->AsList()) {
    if (!word.is_string()) return std::nullopt;
    const std::string& text = word.AsString();
    const bool plain = !text.empty() && std::all_of(text.begin(), text.end(), [](char c) {
      return absl::ascii_isalnum(c) || absl::string_view("@%+=:,./_-{}").find(c) !=
                                          absl::string_view::npos;
    });
    words.push_back(plain ? text : absl::StrCat("'", absl::StrReplaceAll(text, {{"'", "'\\''"}}), "'"));
  }
  return absl::StrJoin(words, " ");
}

Value JobValue(const v1::JobStatus& job, absl::Time now) {
  ValueList history;
  for (const v1::AttemptRecord& attempt : job.attempts()) {
    history.push_back(ValueMap{
        {"attempt", attempt.attempt()},
        {"worker", OrNull(attempt.worker())},
        {"started", TimeValue(attempt.started_unix())},
        {"finished", TimeValue(attempt.finished_unix())},
        {"error", attempt.has_error() ? ErrorValue(JobErrorToStatus(attempt.error())) : Value()},
    });
  }
  const std::optional<double> duration = DurationSeconds(job, now);
  const absl::Status error = JobError(job);
  ValueMap labels;
  for (const auto& [key, value] : job.labels()) labels.emplace(key, value);
  Value args;
  if (!job.args_omitted()) {
    absl::StatusOr<std::vector<Value>> values = FromProto(job.args());
    if (values.ok()) args = ValueList(std::move(*values));
  }
  const std::optional<std::string> command = CommandLine(job);
  return ValueMap{
      {"id", job.job_id()},
      {"state", v1::JobState_Name(job.state())},
      {"function", job.function()},
      {"attempts", job.attempt()},
      {"max_attempts", job.max_attempts()},
      {"submitted", TimeValue(job.submitted_unix())},
      {"started", TimeValue(job.started_unix())},
      {"finished", TimeValue(job.finished_unix())},
      {"duration_s", duration.has_value() ? Value(Milliseconds(*duration)) : Value()},
      {"worker", OrNull(job.worker())},
      {"owner", OrNull(job.owner())},
      {"priority", job.priority()},
      {"labels", std::move(labels)},
      {"args", std::move(args)},
      {"command", command.has_value() ? Value(*command) : Value()},
      {"waiting_for", StringList(job.waiting_for())},
      {"history", std::move(history)},
      {"error", error.ok() ? Value() : ErrorValue(error)},
  };
}

Value NotFoundValue(const std::string& id) {
  return ValueMap{{"id", id}, {"state", "NOT_FOUND"}};
}

Value WorkerValue(const v1::WorkerStatus& worker) {
  return ValueMap{
      {"name", worker.name()},
      {"id", worker.worker_id()},
      {"slots", worker.slots()},
      {"running", worker.running()},
      {"functions", StringList(worker.functions())},
      {"labels", StringMap(worker.labels())},
      {"connected", TimeValue(worker.connected_unix())},
      {"jobs_done", static_cast<long long>(worker.jobs_done())},
  };
}

Value StatsValue(const v1::GetStatsResponse& stats) {
  return ValueMap{
      {"pending", static_cast<long long>(stats.pending())},
      {"running", static_cast<long long>(stats.running())},
      {"succeeded", static_cast<long long>(stats.succeeded())},
      {"failed", static_cast<long long>(stats.failed())},
      {"cancelled", static_cast<long long>(stats.cancelled())},
      {"workers", stats.workers()},
      {"slots", stats.slots()},
      {"uptime_s", Milliseconds(stats.uptime_seconds())},
      {"ready", stats.ready()},
      {"not_ready_reason", OrNull(stats.not_ready_reason())},
  };
}

Value QueueValue(const v1::QueueStatus& queue) {
  return ValueMap{
      {"function", queue.function()},
      {"labels", StringMap(queue.labels())},
      {"jobs", static_cast<long long>(queue.jobs())},
  };
}

}  // namespace netpool
