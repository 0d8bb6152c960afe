// netpool map / starmap: many jobs at once, results streamed back one line
// per item, in input order or (--unordered) as they finish.
#include <algorithm>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "client/chunk_plan.h"
#include "client/cli/arguments.h"
#include "client/cli/command.h"
#include "client/cli/exec_job.h"
#include "client/pool_client.h"
#include "client/result_state.h"

namespace netpool {
namespace cli {
namespace {

struct MapCliOptions {
  int chunksize = 1;
  bool unordered = false;
  // The first positional word (the function, or the command after --) and
  // the rest. Two positionals, so that `map FN -- -1 -2` works: CLI11 ends a
  // positional list at "--".
  std::string first;
  std::vector<std::string> rest;
};

struct StarmapCliOptions {
  std::string function;
  int chunksize = 1;
  bool unordered = false;
};

using Emit = std::function<void(size_t job, const internal::Outcome& outcome)>;

// Submits `jobs` and calls `emit` once per job as it finishes: in the order
// of `jobs`, or in completion order when `unordered`.
void RunJobs(internal::PoolClient& client, std::vector<v1::JobSpec> jobs, bool unordered,
             const Emit& emit) {
  // Completion order comes from the result callbacks, which run before the
  // result is marked ready; the wait below covers that gap.
  struct Finished {
    absl::Mutex mutex;
    std::deque<size_t> jobs ABSL_GUARDED_BY(mutex);
  };
  auto finished = std::make_shared<Finished>();
  std::vector<std::shared_ptr<internal::ResultState>> results;
  results.reserve(jobs.size());
  for (size_t i = 0; i < jobs.size(); ++i) {
    CallOptions options;
    if (unordered) {
      auto done = [finished, i] {
        absl::MutexLock lock(&finished->mutex);
        finished->jobs.push_back(i);
      };
      options.callback = [done](const Value&) { done(); };
      options.error_callback = [done](const absl::Status&) { done(); };
    }
    results.push_back(client.Submit(std::move(jobs[i]), options));
  }
  for (size_t n = 0; n < results.size(); ++n) {
    size_t next = n;
    if (unordered) {
      absl::MutexLock lock(&finished->mutex);
      finished->mutex.Await(absl::Condition(
          +[](std::deque<size_t>* jobs) { return !jobs->empty(); }, &finished->jobs));
      next = finished->jobs.front();
      finished->jobs.pop_front();
    }
    results[next]->WaitUntil(absl::InfiniteFuture());
    emit(next, results[next]->outcome());
  }
}

// The exit code a failed job adds: a failed submission counts as the
// scheduler call it was (unavailable: 69), anything else as a failed job.
int FailureExitCode(const internal::Outcome& outcome) {
  const bool never_submitted = outcome.state == v1::JOB_STATE_UNSPECIFIED &&
                               !absl::IsNotFound(outcome.value.status());
  return never_submitted ? ExitCodeOf(outcome.value.status()) : kExitFailed;
}

// `item` is the item's index in the input, counting from 0.
void PrintItemError(const Context& context, size_t item, const absl::Status& status) {
  *context.err << "item " << item << ": " << status.message() << '\n';
}

// map FN / starmap FN: one JSON result per line.
int MapFunction(const Context& context, const std::string& function,
                std::vector<ValueList> arg_lists, int chunksize, bool unordered) {
  absl::StatusOr<std::shared_ptr<internal::PoolClient>> client = context.ConnectPool();
  if (!client.ok()) return context.RpcFailed(client.status());
  const ChunkPlan plan(arg_lists.size(), static_cast<size_t>(chunksize));
  std::vector<v1::JobSpec> jobs;
  jobs.reserve(plan.chunks().size());
  for (const ChunkPlan::Chunk& chunk : plan.chunks()) {
    jobs.push_back(plan.MakeJob(function, &arg_lists, chunk));
  }
  int exit_code = kExitOk;
  RunJobs(**client, std::move(jobs), unordered,
          [&](size_t job, const internal::Outcome& outcome) {
            const ChunkPlan::Chunk& chunk = plan.chunks()[job];
            absl::StatusOr<std::vector<Value>> results = plan.ItemResults(outcome.value, chunk);
            if (results.ok()) {
              for (const Value& result : *results) *context.out << result.ToJson() << '\n';
              context.out->flush();
              return;
            }
            for (size_t i = 0; i < chunk.count; ++i) {
              PrintItemError(context, chunk.first + i, results.status());
            }
            exit_code = std::max(exit_code, FailureExitCode(outcome));
          });
  return exit_code;
}

// map -- CMD ::: ITEMS: each command's output as it printed it.
int MapCommand(const Context& context, const std::vector<std::string>& command,
               const std::vector<std::string>& items, bool unordered) {
  absl::StatusOr<std::shared_ptr<internal::PoolClient>> client = context.ConnectPool();
  if (!client.ok()) return context.RpcFailed(client.status());
  std::vector<v1::JobSpec> jobs;
  jobs.reserve(items.size());
  for (const std::string& item : items) jobs.push_back(ExecJob(BuildCommand(command, item)));
  int exit_code = kExitOk;
  RunJobs(**client, std::move(jobs), unordered,
          [&](size_t job, const internal::Outcome& outcome) {
            const std::optional<CommandReport> report = ReportOf(outcome);
            if (report.has_value()) {
              context.out->write(report->stdout_data.data(), report->stdout_data.size());
              context.out->flush();
              context.err->write(report->stderr_data.data(), report->stderr_data.size());
            }
            if (NeedsErrorMessage(outcome, report)) {
              PrintItemError(context, job, outcome.value.status());
            }
            if (!outcome.value.ok()) {
              exit_code = std::max(exit_code, FailureExitCode(outcome));
            }
          });
  return exit_code;
}

int RunMap(const Context& context, const MapCliOptions& options) {
  std::vector<std::string> positionals = {options.first};
  positionals.insert(positionals.end(), options.rest.begin(), options.rest.end());
  const bool command_form = IsCommandForm(context.args, positionals.size());
  absl::StatusOr<MapWords> words = SplitMapWords(std::move(positionals), command_form);
  if (!words.ok()) {
    context.Error(std::string(words.status().message()));
    return kExitUsage;
  }
  if (command_form) {
    if (options.chunksize != 1) {
      context.Error("--chunksize applies to map FN, not to map -- CMD");
      return kExitUsage;
    }
    return MapCommand(context, words->command, *words->items, options.unordered);
  }
  std::vector<ValueList> arg_lists;
  if (words->items.has_value()) {
    for (const std::string& word : *words->items) arg_lists.push_back({ParseWord(word)});
  } else {
    absl::StatusOr<std::vector<Value>> items = ReadJsonLines(*context.in);
    if (!items.ok()) {
      context.Error(absl::StrCat("standard input ", items.status().message()));
      return kExitUsage;
    }
    for (Value& item : *items) arg_lists.push_back({std::move(item)});
  }
  return MapFunction(context, words->function, std::move(arg_lists), options.chunksize,
                     options.unordered);
}

int RunStarmap(const Context& context, const StarmapCliOptions& options) {
  absl::StatusOr<std::vector<ValueList>> arg_lists = ReadJsonArrayLines(*context.in);
  if (!arg_lists.ok()) {
    context.Error(absl::StrCat("standard input ", arg_lists.status().message()));
    return kExitUsage;
  }
  return MapFunction(context, options.function, *std::move(arg_lists), options.chunksize,
                     options.unordered);
}

}  // namespace

void AddMapCommands(CLI::App& app, Command* run) {
  auto map_options = std::make_shared<MapCliOptions>();
  CLI::App* map = app.add_subcommand(
      "map", "Runs a function (or, after --, a command) once per item; one result per line");
  map->add_option("--chunksize", map_options->chunksize, "Items per job (default 1)")
      ->check(CLI::PositiveNumber);
  map->add_flag("--unordered", map_options->unordered,
                "Print results as they finish instead of in input order");
  KeepWordsWhole(
      map->add_option("FN", map_options->first, "Function to run, or (after --) the command"))
      ->required();
  KeepWordsWhole(map->add_option(
      "ARGS", map_options->rest,
      "ARG... or ::: ITEM...: items are JSON values (a word that is not JSON is a string), or "
      "JSON lines on stdin when none are given; after -- CMD: the rest of the command, ::: and "
      "the items; {} in the command is replaced by each item (which is appended when there is "
      "no {})"));
  map->footer(
      "Examples:\n"
      "  netpool map square 1 2 3\n"
      "  seq 100 | netpool map square\n"
      "  netpool map square -- -1 -2\n"
      "  netpool map -- gzip -9 {} ::: a.nii b.nii\n"
      "A failed item prints `item N: error` on stderr, N being its index from 0; the exit\n"
      "code is 1 if any item failed.");
  map->callback([run, map_options] {
    *run = [map_options](const Context& context) { return RunMap(context, *map_options); };
  });

  auto starmap_options = std::make_shared<StarmapCliOptions>();
  CLI::App* starmap = app.add_subcommand(
      "starmap", "Runs a function once per line of stdin, each a JSON array of its arguments");
  KeepWordsWhole(starmap->add_option("FN", starmap_options->function, "Function to run"))
      ->required();
  starmap->add_option("--chunksize", starmap_options->chunksize, "Items per job (default 1)")
      ->check(CLI::PositiveNumber);
  starmap->add_flag("--unordered", starmap_options->unordered,
                    "Print results as they finish instead of in input order");
  starmap->callback([run, starmap_options] {
    *run = [starmap_options](const Context& context) {
      return RunStarmap(context, *starmap_options);
    };
  });
}

}  // namespace cli
}  // namespace netpool
