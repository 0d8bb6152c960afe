// netpool jobs / workers / stats: what the scheduler knows, as plain text.
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "client/cli/arguments.h"
#include "client/cli/command.h"
#include "client/cli/table.h"
#include "client/scheduler_client.h"

namespace netpool {
namespace cli {
namespace {

struct JobsOptions {
  std::string state;  // empty: all
  int limit = 0;      // 0: the scheduler's default
};

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
  std::vector<std::vector<std::string>> rows = {
      {"ID", "STATE", "FUNCTION", "ATTEMPT", "WORKER", "OWNER"}};
  for (const v1::JobStatus& job : response->jobs()) {
    rows.push_back({job.job_id(), v1::JobState_Name(job.state()), job.function(),
                    absl::StrCat(job.attempt()), job.worker(), job.owner()});
  }
  *context.out << FormatTable(rows);
  return kExitOk;
}

int RunWorkers(const Context& context) {
  SchedulerClient scheduler(context.scheduler, context.ClientOptions());
  absl::StatusOr<v1::ListWorkersResponse> response = scheduler.ListWorkers();
  if (!response.ok()) return context.RpcFailed(response.status());
  std::vector<std::vector<std::string>> rows = {{"NAME", "ID", "SLOTS", "RUNNING", "FUNCTIONS"}};
  for (const v1::WorkerStatus& worker : response->workers()) {
    rows.push_back({worker.name(), worker.worker_id(), absl::StrCat(worker.slots()),
                    absl::StrCat(worker.running()), absl::StrJoin(worker.functions(), ",")});
  }
  *context.out << FormatTable(rows);
  return kExitOk;
}

int RunStats(const Context& context) {
  SchedulerClient scheduler(context.scheduler, context.ClientOptions());
  absl::StatusOr<v1::GetStatsResponse> stats = scheduler.GetStats();
  if (!stats.ok()) return context.RpcFailed(stats.status());
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
  CLI::App* jobs = app.add_subcommand("jobs", "Lists jobs: ID STATE FUNCTION ATTEMPT WORKER");
  jobs->add_option("--state", jobs_options->state,
                   "Only jobs in this state (PENDING RUNNING SUCCEEDED FAILED CANCELLED)");
  jobs->add_option("--limit", jobs_options->limit, "At most this many (default: the scheduler's)")
      ->check(NumberIn(0));
  jobs->callback([run, jobs_options] {
    *run = [jobs_options](const Context& context) { return RunJobs(context, *jobs_options); };
  });

  CLI::App* workers =
      app.add_subcommand("workers", "Lists worker nodes: NAME ID SLOTS RUNNING FUNCTIONS");
  workers->callback([run] { *run = RunWorkers; });

  CLI::App* stats = app.add_subcommand("stats", "Prints the scheduler's counters, one per line");
  stats->callback([run] { *run = RunStats; });
}

}  // namespace cli
}  // namespace netpool
