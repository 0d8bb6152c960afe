// netpool submit / get / wait / status / cancel: one job (or a list of ids)
// at a time, straight over SchedulerClient.
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "client/cli/arguments.h"
#include "client/cli/command.h"
#include "client/cli/job_options.h"
#include "client/cli/output_format.h"
#include "common/records.h"
#include "client/reconnector.h"
#include "client/result_state.h"
#include "client/scheduler_client.h"
#include "common/job_id.h"
#include "common/value_proto.h"

namespace netpool {
namespace cli {
namespace {

constexpr char kNotFound[] = "NOT_FOUND";

absl::Status NoSuchJob(const std::string& id) {
  return absl::NotFoundError(absl::StrCat("no job ", id));
}

// The GetRequest timeout for waiting until `deadline`: < 0 means forever.
double TimeoutUntil(absl::Time deadline) {
  if (deadline == absl::InfiniteFuture()) return -1;
  return std::max(0.0, absl::ToDoubleSeconds(deadline - absl::Now()));
}

absl::Time DeadlineAfter(double timeout_seconds) {
  return timeout_seconds < 0 ? absl::InfiniteFuture()
                             : absl::Now() + absl::Seconds(timeout_seconds);
}

// ---------------------------------------------------------------- submit

struct SubmitOptions {
  std::string function;
  std::vector<std::string> args;
  JobOptions job;
};

int RunSubmit(const Context& context, const SubmitOptions& options) {
  v1::JobSpec spec;
  spec.set_function(options.function);
  ApplyJobOptions(options.job, &spec);
  spec.set_timeout_seconds(absl::ToDoubleSeconds(options.job.timeout));
  for (size_t i = 0; i < options.args.size(); ++i) {
    absl::StatusOr<Value> arg = ParseWord(options.args[i]);
    if (!arg.ok()) {
      context.Error(absl::StrCat("argument ", i + 1, ": ", arg.status().message()));
      return kExitUsage;
    }
    ToProto(*arg, spec.add_args());
  }
  SchedulerClient scheduler(context.scheduler, context.ClientOptions());
  absl::StatusOr<std::string> id = scheduler.SubmitOne(std::move(spec));
  if (!id.ok()) return context.RpcFailed(id.status());
  *context.out << *id << '\n';
  return kExitOk;
}

// ---------------------------------------------------------------- get, wait

struct GetOptions {
  std::string id;
  double timeout = -1;
  OutputFormat format = OutputFormat::kText;
  absl::Duration retry_for = internal::PoolClient::kDefaultRetryFor;
};

// {id, state, value} or {id, state, error}: get's record for scripts.
Value ResultValue(const v1::JobResult& result, const internal::Outcome& outcome) {
  ValueMap record = {{"id", result.job_id()}, {"state", v1::JobState_Name(result.state())}};
  if (outcome.value.ok()) {
    record.emplace("value", *outcome.value);
  } else {
    record.emplace("error", ErrorValue(outcome.value.status(), outcome.error_detail));
  }
  return record;
}

// Prints a finished job's result (stdout) or its error (stderr); with -o
// json or jsonl, its record on stdout whether it succeeded or not.
int PrintResult(const Context& context, const v1::JobResult& result, OutputFormat format) {
  internal::Outcome outcome = internal::OutcomeFromProto(result);
  if (format != OutputFormat::kText) PrintRecord(*context.out, ResultValue(result, outcome));
  if (outcome.value.ok()) {
    if (format == OutputFormat::kText) *context.out << outcome.value->ToJson() << '\n';
    return kExitOk;
  }
  context.Error(result.state() == v1::CANCELLED
                    ? absl::StrCat("job ", result.job_id(), " was cancelled")
                    : absl::StrCat("job ", result.job_id(), " failed: ",
                                   outcome.value.status().message()));
  if (!outcome.error_detail.is_null()) *context.err << outcome.error_detail.ToJson() << '\n';
  return kExitFailed;
}

// Asks for a job's result, waiting for it until `deadline`, and asks again
// while the scheduler is unreachable, as `reconnector` says.
absl::StatusOr<v1::GetResponse> GetUntil(SchedulerClient& scheduler, Reconnector& reconnector,
                                         const std::string& id, absl::Time deadline) {
  return reconnector.Retry([&] {
    v1::GetRequest request;
    request.set_job_id(id);
    request.set_timeout_seconds(TimeoutUntil(deadline));
    return scheduler.Get(request);
  });
}

int RunGet(const Context& context, const GetOptions& options) {
  if (!IsValidJobId(options.id)) return context.RpcFailed(NoSuchJob(options.id));
  SchedulerClient scheduler(context.scheduler, context.ClientOptions());
  Reconnector reconnector(context.Reconnecting(options.retry_for));
  absl::StatusOr<v1::GetResponse> response =
      GetUntil(scheduler, reconnector, options.id, DeadlineAfter(options.timeout));
  if (!response.ok()) return context.RpcFailed(response.status());
  if (!response->ready()) {
    context.Error(absl::StrCat("job ", options.id, " did not finish within ", options.timeout,
                               " seconds"));
    return kExitTimeout;
  }
  return PrintResult(context, response->result(), options.format);
}

struct WaitOptions {
  std::vector<std::string> ids;
  double timeout = -1;
  absl::Duration retry_for = internal::PoolClient::kDefaultRetryFor;
};

int RunWait(const Context& context, const WaitOptions& options) {
  const absl::Time deadline = DeadlineAfter(options.timeout);
  SchedulerClient scheduler(context.scheduler, context.ClientOptions());
  Reconnector reconnector(context.Reconnecting(options.retry_for));
  int exit_code = kExitOk;
  for (const std::string& id : options.ids) {
    if (!IsValidJobId(id)) {
      exit_code = context.RpcFailed(NoSuchJob(id));
      continue;
    }
    absl::StatusOr<v1::GetResponse> response = GetUntil(scheduler, reconnector, id, deadline);
    if (absl::IsNotFound(response.status())) {
      exit_code = context.RpcFailed(response.status());
      continue;
    }
    if (!response.ok()) return context.RpcFailed(response.status());
    if (!response->ready()) {
      context.Error(absl::StrCat("job ", id, " did not finish within ", options.timeout,
                                 " seconds"));
      return kExitTimeout;
    }
  }
  return exit_code;
}

// ---------------------------------------------------------------- status, cancel

using StatusRpc =
    std::function<absl::StatusOr<std::vector<v1::JobStatus>>(const std::vector<std::string>&)>;

// The lines `status -v` adds under ID<TAB>STATE: who submitted it, the
// retry limit, the jobs it waits for, and one line per attempt, oldest first.
void PrintDetails(const Context& context, const v1::JobStatus& job) {
  if (!job.owner().empty()) *context.out << "  submitted by " << job.owner() << '\n';
  if (job.max_attempts() > 0) *context.out << "  max attempts " << job.max_attempts() << '\n';
  if (!job.waiting_for().empty()) {
    *context.out << "  waiting for " << absl::StrJoin(job.waiting_for(), " ") << '\n';
  }
  for (const v1::AttemptRecord& attempt : job.attempts()) {
    *context.out << "  attempt " << attempt.attempt() << " on " << attempt.worker()
                 << " started " << LocalTime(attempt.started_unix());
    if (attempt.finished_unix() > 0) {
      *context.out << " finished " << LocalTime(attempt.finished_unix());
    } else {
      *context.out << " running";
    }
    if (attempt.has_error()) {
      *context.out << " error: " << JobErrorToStatus(attempt.error()).message();
    }
    *context.out << '\n';
  }
}

// Runs an id-taking RPC and prints `ID<TAB>STATE` per id (with `verbose`,
// followed by the job's details), NOT_FOUND for an unknown one (exit 1); or,
// with -o json or jsonl, each job's record. The scheduler fails the whole
// call when any id is unknown, so then each id is asked on its own.
int PrintStates(const Context& context, const std::vector<std::string>& ids,
                const StatusRpc& rpc, bool verbose = false,
                OutputFormat format = OutputFormat::kText) {
  std::vector<std::string> valid;
  for (const std::string& id : ids) {
    if (IsValidJobId(id)) valid.push_back(id);
  }
  absl::flat_hash_map<std::string, v1::JobStatus> jobs;
  auto record = [&](std::vector<v1::JobStatus> answered) {
    for (v1::JobStatus& job : answered) jobs[job.job_id()] = std::move(job);
  };
  if (!valid.empty()) {
    absl::StatusOr<std::vector<v1::JobStatus>> all = rpc(valid);
    if (all.ok()) {
      record(*std::move(all));
    } else if (!absl::IsNotFound(all.status())) {
      return context.RpcFailed(all.status());
    } else {
      for (const std::string& id : valid) {
        absl::StatusOr<std::vector<v1::JobStatus>> one = rpc({id});
        if (one.ok()) {
          record(*std::move(one));
        } else if (!absl::IsNotFound(one.status())) {
          return context.RpcFailed(one.status());
        }
      }
    }
  }

  int exit_code = kExitOk;
  ValueList records;
  for (const std::string& id : ids) {
    auto it = jobs.find(id);
    const bool found = it != jobs.end() && it->second.state() != v1::JOB_STATE_UNSPECIFIED;
    if (!found) exit_code = kExitFailed;
    if (format != OutputFormat::kText) {
      records.push_back(found ? JobValue(it->second) : NotFoundValue(id));
      continue;
    }
    if (!found) {
      *context.out << id << '\t' << kNotFound << '\n';
      continue;
    }
    *context.out << id << '\t' << v1::JobState_Name(it->second.state()) << '\n';
    if (verbose) PrintDetails(context, it->second);
  }
  if (format != OutputFormat::kText) PrintRecords(*context.out, format, records);
  return exit_code;
}

template <typename Response>
absl::StatusOr<std::vector<v1::JobStatus>> JobsOf(absl::StatusOr<Response> response) {
  if (!response.ok()) return response.status();
  return std::vector<v1::JobStatus>(response->jobs().begin(), response->jobs().end());
}

struct StatusOptions {
  std::vector<std::string> ids;
  bool verbose = false;
  OutputFormat format = OutputFormat::kText;
};

int RunStatus(const Context& context, const StatusOptions& options) {
  SchedulerClient scheduler(context.scheduler, context.ClientOptions());
  return PrintStates(
      context, options.ids,
      [&](const std::vector<std::string>& batch) {
        v1::GetStatusRequest request;
        request.mutable_job_ids()->Add(batch.begin(), batch.end());
        return JobsOf(scheduler.GetStatus(request));
      },
      options.verbose, options.format);
}

int RunCancel(const Context& context, const std::vector<std::string>& ids) {
  SchedulerClient scheduler(context.scheduler, context.ClientOptions());
  return PrintStates(context, ids, [&](const std::vector<std::string>& batch) {
    v1::CancelRequest request;
    request.mutable_job_ids()->Add(batch.begin(), batch.end());
    return JobsOf(scheduler.Cancel(request));
  });
}

}  // namespace

void AddJobCommands(CLI::App& app, Command* run) {
  auto submit_options = std::make_shared<SubmitOptions>();
  CLI::App* submit = app.add_subcommand("submit", "Submits one job and prints its id");
  KeepWordsWhole(submit->add_option("FN", submit_options->function, "Function to run"))
      ->required();
  KeepWordsWhole(submit->add_option(
      "ARG", submit_options->args,
      "Arguments: each a JSON value; a word that is not JSON, and does not start with { [ or \", "
      "is a string"));
  AddJobOptions(submit, &submit_options->job,
                "The job fails with DEADLINE_EXCEEDED past this run time (e.g. 30s, 5m; "
                "default: no limit)");
  submit->callback([run, submit_options] {
    *run = [submit_options](const Context& context) {
      return RunSubmit(context, *submit_options);
    };
  });

  auto get_options = std::make_shared<GetOptions>();
  CLI::App* get = app.add_subcommand(
      "get", "Waits for a job and prints its result as JSON (exit 1 if it failed, 2 on timeout)");
  KeepWordsWhole(get->add_option("ID", get_options->id, "Job id"))->required();
  get->add_option("--timeout", get_options->timeout, "Seconds to wait (default: no limit)")
      ->check(NumberIn(0));
  AddRetryFor(get, &get_options->retry_for);
  AddOutputOption(get, &get_options->format);
  get->callback([run, get_options] {
    *run = [get_options](const Context& context) { return RunGet(context, *get_options); };
  });

  auto wait_options = std::make_shared<WaitOptions>();
  CLI::App* wait = app.add_subcommand(
      "wait", "Waits until jobs are finished, in any state (exit 2 on timeout)");
  KeepWordsWhole(wait->add_option("ID", wait_options->ids, "Job ids"))->required();
  wait->add_option("--timeout", wait_options->timeout,
                   "Seconds to wait for all of them (default: no limit)")
      ->check(NumberIn(0));
  AddRetryFor(wait, &wait_options->retry_for);
  wait->callback([run, wait_options] {
    *run = [wait_options](const Context& context) { return RunWait(context, *wait_options); };
  });

  auto status_options = std::make_shared<StatusOptions>();
  CLI::App* status = app.add_subcommand(
      "status", "Prints ID<TAB>STATE per job (PENDING RUNNING SUCCEEDED FAILED CANCELLED)");
  KeepWordsWhole(status->add_option("ID", status_options->ids, "Job ids"))->required();
  status->add_flag("-v,--verbose", status_options->verbose,
                   "Also print each job's attempts (worker, start, end, error), its attempt "
                   "limit and the jobs it waits for");
  AddOutputOption(status, &status_options->format);
  status->callback([run, status_options] {
    *run = [status_options](const Context& context) {
      return RunStatus(context, *status_options);
    };
  });

  auto cancel_ids = std::make_shared<std::vector<std::string>>();
  CLI::App* cancel =
      app.add_subcommand("cancel", "Cancels jobs; prints ID<TAB>STATE per job after the cancel");
  KeepWordsWhole(cancel->add_option("ID", *cancel_ids, "Job ids"))->required();
  cancel->callback([run, cancel_ids] {
    *run = [cancel_ids](const Context& context) { return RunCancel(context, *cancel_ids); };
  });
}

}  // namespace cli
}  // namespace netpool
