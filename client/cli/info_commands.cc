// netpool jobs / workers / stats: what the scheduler knows, as plain text or
// as JSON records.
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "client/cli/arguments.h"
#include "client/cli/command.h"
#include "client/cli/output_format.h"
#include "common/records.h"
#include "client/cli/table.h"
#include "client/scheduler_client.h"

namespace netpool {
namespace cli {
namespace {

// The longest error message a row of `jobs` shows, so that one long error
// does not push every line past the terminal's width; -o json has it whole.
constexpr size_t kErrorColumnWidth = 60;

struct JobsOptions {
  std::string state;  // empty: all
  int limit = 0;      // 0: the scheduler's default
  OutputFormat format = OutputFormat::kText;
};

std::string ErrorColumn(const v1::JobStatus& job) {
  const absl::Status error = JobError(job);
  if (error.ok()) return "";
  std::string text(error.message());
  if (text.size() > kErrorColumnWidth) text = text.substr(0, kErrorColumnWidth - 3) + "...";
  return text;
}

std::string DurationColumn(const v1::JobStatus& job, absl::Time now) {
  const std::optional<double> seconds = DurationSeconds(job, now);
  return seconds.has_value() ? absl::StrFormat("%.1fs", *seconds) : "";
}

// Local time to the second, as one word (2026-01-02T03:04:05) so that a
// script splitting the table on blanks still finds the columns after it.
std::string SubmittedColumn(const v1::JobStatus& job) {
  if (job.submitted_unix() <= 0) return "";
  return absl::FormatTime("%Y-%m-%dT%H:%M:%S",
                          absl::UnixEpoch() + absl::Seconds(job.submitted_unix()),
                          absl::LocalTimeZone());
}

int RunJobs(const Context& context, const JobsOptions& options) {
  v1::ListJobsRequest request;
  if (!options.state.empty()) {
    absl::StatusOr<v1::JobState> state = ParseJobState(options.state);
    if (!state.ok()) {
      context.Error(std::string(state.status().message()));
      return kExitUsage;
    }
    request.set_state(*state);
  }
  request.set_limit(options.limit);
  SchedulerClient scheduler(context.scheduler, context.ClientOptions());
  absl::StatusOr<v1::ListJobsResponse> response = scheduler.ListJobs(request);
  if (!response.ok()) return context.RpcFailed(response.status());
  const absl::Time now = absl::Now();
  if (options.format != OutputFormat::kText) {
    ValueList records;
    for (const v1::JobStatus& job : response->jobs()) records.push_back(JobValue(job, now));
    PrintRecords(*context.out, options.format, records);
    return kExitOk;
  }
  std::vector<std::vector<std::string>> rows = {{"ID", "STATE", "FUNCTION", "ATTEMPTS", "WORKER",
                                                 "SUBMITTED", "DURATION", "OWNER", "ERROR",
                                                 "COMMAND"}};
  for (const v1::JobStatus& job : response->jobs()) {
    rows.push_back({job.job_id(), v1::JobState_Name(job.state()), job.function(),
                    absl::StrCat(job.attempt(), "/", job.max_attempts()), job.worker(),
                    SubmittedColumn(job), DurationColumn(job, now), job.owner(),
                    ErrorColumn(job), CommandLine(job).value_or("")});
  }
  *context.out << FormatTable(rows);
  return kExitOk;
}

int RunWorkers(const Context& context, OutputFormat format) {
  SchedulerClient scheduler(context.scheduler, context.ClientOptions());
  absl::StatusOr<v1::ListWorkersResponse> response = scheduler.ListWorkers();
  if (!response.ok()) return context.RpcFailed(response.status());
  if (format != OutputFormat::kText) {
    ValueList records;
    for (const v1::WorkerStatus& worker : response->workers()) {
      records.push_back(WorkerValue(worker));
    }
    PrintRecords(*context.out, format, records);
    return kExitOk;
  }
  std::vector<std::vector<std::string>> rows = {{"NAME", "ID", "SLOTS", "RUNNING", "FUNCTIONS"}};
  for (const v1::WorkerStatus& worker : response->workers()) {
    rows.push_back({worker.name(), worker.worker_id(), absl::StrCat(worker.slots()),
                    absl::StrCat(worker.running()), absl::StrJoin(worker.functions(), ",")});
  }
  *context.out << FormatTable(rows);
  return kExitOk;
}

int RunStats(const Context& context, OutputFormat format) {
  SchedulerClient scheduler(context.scheduler, context.ClientOptions());
  absl::StatusOr<v1::GetStatsResponse> stats = scheduler.GetStats();
  if (!stats.ok()) return context.RpcFailed(stats.status());
  if (format != OutputFormat::kText) {
    PrintRecord(*context.out, StatsValue(*stats));
    return kExitOk;
  }
  *context.out << "pending " << stats->pending() << '\n'
               << "running " << stats->running() << '\n'
               << "succeeded " << stats->succeeded() << '\n'
               << "failed " << stats->failed() << '\n'
               << "cancelled " << stats->cancelled() << '\n'
               << "workers " << stats->workers() << '\n'
               << "slots " << stats->slots() << '\n'
               << "uptime_seconds " << absl::StrCat(stats->uptime_seconds()) << '\n'
               << "ready " << (stats->ready() ? "yes" : "no") << '\n';
  if (!stats->ready()) *context.out << "not_ready_reason " << stats->not_ready_reason() << '\n';
  return kExitOk;
}

}  // namespace

void AddInfoCommands(CLI::App& app, Command* run) {
  auto jobs_options = std::make_shared<JobsOptions>();
  CLI::App* jobs = app.add_subcommand(
      "jobs", "Lists jobs: ID STATE FUNCTION ATTEMPTS WORKER SUBMITTED DURATION OWNER ERROR COMMAND (exec)");
  jobs->add_option("--state", jobs_options->state,
                   "Only jobs in this state (PENDING RUNNING SUCCEEDED FAILED CANCELLED)");
  jobs->add_option("--limit", jobs_options->limit, "At most this many (default: the scheduler's)")
      ->check(NumberIn(0));
  AddOutputOption(jobs, &jobs_options->format);
  jobs->callback([run, jobs_options] {
    *run = [jobs_options](const Context& context) { return RunJobs(context, *jobs_options); };
  });

  auto workers_format = std::make_shared<OutputFormat>(OutputFormat::kText);
  CLI::App* workers =
      app.add_subcommand("workers", "Lists worker nodes: NAME ID SLOTS RUNNING FUNCTIONS");
  AddOutputOption(workers, workers_format.get());
  workers->callback([run, workers_format] {
    *run = [workers_format](const Context& context) {
      return RunWorkers(context, *workers_format);
    };
  });

  auto stats_format = std::make_shared<OutputFormat>(OutputFormat::kText);
  CLI::App* stats = app.add_subcommand("stats", "Prints the scheduler's counters, one per line");
  AddOutputOption(stats, stats_format.get());
  stats->callback([run, stats_format] {
    *run = [stats_format](const Context& context) { return RunStats(context, *stats_format); };
  });
}

}  // namespace cli
}  // namespace netpool
