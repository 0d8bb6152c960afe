// netpool exec: runs one command on a worker as if it ran here.
#include <algorithm>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "client/cli/command.h"
#include "client/cli/exec_job.h"
#include "client/cli/job_options.h"
#include "client/result_state.h"
#include "client/scheduler_client.h"

namespace netpool {
namespace cli {
namespace {

struct ExecOptions {
  bool detach = false;
  JobOptions job;
  std::vector<std::string> argv;
  // Words that look like options but are not exec's: the command's own,
  // given without "--" before it.
  std::vector<std::string> stray_options;
};

// The error for words that look like options but are not exec's: without
// "--", they are the command's own (`netpool exec sh -c ...`), so it says
// what to type instead; after "--" they can only be misspelt exec options.
void StrayOptionsError(const Context& context, const ExecOptions& options) {
  const bool dashes = std::find(context.args.begin(), context.args.end(), "--") !=
                      context.args.end();
  context.Error(dashes || options.argv.empty()
                    ? absl::StrCat("exec has no option ", options.stray_options[0],
                                   " (see --help)")
                    : absl::StrCat("put -- before the command: netpool exec [OPTIONS] -- ",
                                   options.argv[0], " ", options.stray_options[0], " ..."));
}

// The worker node keeps only so much of each stream (netpool-worker
// --max-output) and says so in the report: a cut output must not pass for
// the whole.
void WarnOfTruncation(const Context& context, const internal::Outcome& outcome,
                      const CommandReport& report) {
  const Value& map = outcome.value.ok() ? *outcome.value : outcome.error_detail;
  if (!map.is_map()) return;
  const std::pair<const char*, size_t> streams[] = {{"stdout", report.stdout_data.size()},
                                                    {"stderr", report.stderr_data.size()}};
  for (const auto& [stream, kept] : streams) {
    auto flag = map.AsMap().find(absl::StrCat(stream, "_truncated"));
    if (flag != map.AsMap().end() && flag->second.is_bool() && flag->second.AsBool()) {
      context.Error(absl::StrCat(stream, " truncated at ", kept,
                                 " bytes by the worker node (--max-output)"));
    }
  }
}

int RunExec(const Context& context, const ExecOptions& options) {
  if (!options.stray_options.empty()) {
    StrayOptionsError(context, options);
    return kExitUsage;
  }
  SchedulerClient scheduler(context.scheduler, context.ClientOptions());
  v1::JobSpec spec = ExecJob(options.argv, options.job.timeout);
  ApplyJobOptions(options.job, &spec);
  absl::StatusOr<std::string> submitted = scheduler.SubmitOne(std::move(spec));
  if (!submitted.ok()) return context.RpcFailed(submitted.status());
  const std::string& id = *submitted;
  if (options.detach) {
    *context.out << id << '\n';
    return kExitOk;
  }

  v1::GetRequest get;
  get.set_job_id(id);
  get.set_timeout_seconds(-1);  // the job's own timeout bounds the wait
  absl::StatusOr<v1::GetResponse> finished = scheduler.Get(get);
  if (!finished.ok()) return context.RpcFailed(finished.status());

  const internal::Outcome outcome = internal::OutcomeFromProto(finished->result());
  const std::optional<CommandReport> report = ReportOf(outcome);
  if (report.has_value()) {
    context.out->write(report->stdout_data.data(), report->stdout_data.size());
    context.err->write(report->stderr_data.data(), report->stderr_data.size());
    WarnOfTruncation(context, outcome, *report);
  }
  if (NeedsErrorMessage(outcome, report)) {
    context.Error(absl::StrCat("job ", id, " failed: ", outcome.value.status().message()));
  }
  return ExitStatusOf(outcome, report);
}

}  // namespace

void AddExecCommand(CLI::App& app, Command* run) {
  auto options = std::make_shared<ExecOptions>();
  CLI::App* exec = app.add_subcommand(
      "exec",
      "Runs a command on a worker: prints its output and exits with its exit code");
  exec->add_flag("--detach", options->detach, "Print the job id instead of waiting");
  AddJobOptions(exec, &options->job,
                "How long the command may run (e.g. 90s, 5m; a bare number is seconds; default: "
                "no limit); past it, exit 124 as timeout(1) does");
  KeepWordsWhole(
      exec->add_option("CMD", options->argv, "The command and its arguments (after --)"))
      ->required();
  exec->footer("Example: netpool exec --timeout 60 -- gzip -9 /data/sub-01.nii");
  // Taken rather than refused, so that the error can say what to do.
  exec->allow_extras();
  exec->callback([run, options, exec] {
    // CLI11 keeps the "--" it has seen among the words it did not take.
    options->stray_options = exec->remaining();
    options->stray_options.erase(
        std::remove(options->stray_options.begin(), options->stray_options.end(), "--"),
        options->stray_options.end());
    *run = [options](const Context& context) { return RunExec(context, *options); };
  });
}

}  // namespace cli
}  // namespace netpool
