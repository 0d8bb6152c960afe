// netpool map / starmap: many jobs at once, results streamed back one line
// per item, in input order or (--unordered) as they finish. Input of any
// length is read and submitted as it goes (see JobWindow); with --local the
// jobs run in worker processes of this very program, with no daemon.
#include <algorithm>
#include <atomic>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "client/chunk_plan.h"
#include "client/cli/arguments.h"
#include "client/cli/command.h"
#include "client/cli/exec_job.h"
#include "client/cli/halt_policy.h"
#include "client/cli/job_log.h"
#include "client/cli/job_options.h"
#include "client/cli/job_window.h"
#include "client/cli/map_output.h"
#include "client/cli/output_format.h"
#include "common/records.h"
#include "client/cli/results_dir.h"
#include "client/cli/stop_on_signal.h"
#include "client/local_pool.h"
#include "client/pool_client.h"
#include "client/result_state.h"
#include "worker/node_agent.h"

namespace netpool {
namespace cli {
namespace {

// Jobs submitted and unfinished at a time (and as many read ahead).
constexpr size_t kWindowJobs = 4096;

// The options map and starmap share.
struct RunOptions {
  int chunksize = 1;
  bool unordered = false;
  bool local = false;
  int processes = 0;  // -j: local worker processes; 0 = one per core
  std::string jobs_file;
  absl::Duration retry_for = internal::PoolClient::kDefaultRetryFor;
  JobOptions job;
  OutputFormat format = OutputFormat::kText;
};

// The options of map -- CMD that GNU parallel has.
struct ParallelOptions {
  std::string joblog;
  HaltPolicy halt;
  int retries = 0;  // 0 = unset
  std::string results;

  bool any() const {
    return !joblog.empty() || halt.when() != HaltPolicy::When::kNever || retries != 0 ||
           !results.empty();
  }
};

struct MapCliOptions {
  RunOptions run;
  ParallelOptions parallel;
  // The first positional word (the function, or the command after --) and
  // the rest. Two positionals, so that `map FN -- -1 -2` works: CLI11 ends a
  // positional list at "--".
  std::string first;
  std::vector<std::string> rest;
};

struct StarmapCliOptions {
  RunOptions run;
  std::string function;
};

// The exit code a failed job adds: a failed submission counts as the
// scheduler call it was (unavailable: 69), anything else as a failed job.
int FailureExitCode(const internal::Outcome& outcome) {
  const bool never_submitted = outcome.state == v1::JOB_STATE_UNSPECIFIED &&
                               !absl::IsNotFound(outcome.value.status());
  return never_submitted ? ExitCodeOf(outcome.value.status()) : kExitFailed;
}

// `item` is the item's index in the input, counting from 0.
std::string ItemError(size_t item, const absl::Status& status) {
  return absl::StrCat("item ", item, ": ", status.message(), "\n");
}

// Where the items come from, once the command line has been checked.
class Input {
 public:
  // Items given as words on the command line. They are all read first, so
  // that a word that is bad JSON is refused before any job is submitted.
  static absl::StatusOr<Input> Words(std::vector<std::string> words, ItemFormat format) {
    ItemReader check = ItemReader::FromWords(words, format);
    for (;;) {
      absl::StatusOr<std::optional<ValueList>> item = check.Next();
      if (!item.ok()) return item.status();
      if (!item->has_value()) break;
    }
    const size_t count = words.size();
    return Input(ItemReader::FromWords(std::move(words), format), format, count, "");
  }
  // Items as lines of --jobs-file, or of stdin when `jobs_file` is empty.
  // Counts the file's items first when `count_items` (for the progress line).
  static absl::StatusOr<Input> Lines(const Context& context, const std::string& jobs_file,
                                     ItemFormat format, bool count_items) {
    if (jobs_file.empty()) {
      return Input(ItemReader::FromLines(context.in, format), format, std::nullopt,
                   "standard input");
    }
    auto file = std::make_unique<std::ifstream>(jobs_file);
    if (!*file) return absl::InvalidArgumentError(absl::StrCat("cannot read ", jobs_file));
    std::optional<size_t> count;
    if (count_items) {
      absl::StatusOr<size_t> counted = CountItemLines(jobs_file);
      if (counted.ok()) count = *counted;
    }
    Input input(ItemReader::FromLines(file.get(), format), format, count, jobs_file);
    input.file_ = std::move(file);
    return input;
  }

  ItemReader& reader() { return reader_; }
  // The item as a record of -o json shows it: for starmap, its argument
  // list; otherwise its one argument.
  Value ItemValue(const ValueList& arguments) const {
    return format_ == ItemFormat::kArgumentList ? Value(arguments) : arguments.front();
  }
  // The number of items, when known before reading them.
  std::optional<size_t> count() const { return count_; }
  // How an error in a line names where it is ("standard input line 3: ...").
  const std::string& name() const { return name_; }

 private:
  Input(ItemReader reader, ItemFormat format, std::optional<size_t> count, std::string name)
      : reader_(std::move(reader)), format_(format), count_(count), name_(std::move(name)) {}

  std::unique_ptr<std::ifstream> file_;  // declared first: the reader reads it
  ItemReader reader_;
  ItemFormat format_;
  std::optional<size_t> count_;
  std::string name_;
};

// Those of `jobs` the scheduler has not started, for --halt soon: the map
// submits ahead of what the workers run, and parallel would not have started
// those. (One may start before its cancel arrives; it is then cancelled.)
std::vector<std::shared_ptr<internal::ResultState>> NotStarted(
    internal::PoolClient& client, const std::vector<std::shared_ptr<internal::ResultState>>& jobs) {
  v1::GetStatusRequest request;
  for (const auto& job : jobs) request.add_job_ids(job->job_id);
  absl::StatusOr<v1::GetStatusResponse> status = client.scheduler().GetStatus(request);
  if (!status.ok()) return {};
  absl::flat_hash_set<std::string> pending;
  for (const v1::JobStatus& job : status->jobs()) {
    if (job.state() == v1::PENDING) pending.insert(job.job_id());
  }
  std::vector<std::shared_ptr<internal::ResultState>> not_started;
  for (const auto& job : jobs) {
    if (pending.contains(job->job_id)) not_started.push_back(job);
  }
  return not_started;
}

// What one run of map or starmap needs besides its jobs.
struct MapRun {
  const Context& context;
  const RunOptions& options;
  MapOutput output;
  // With -o json or jsonl, each item's record: {index, item, value|error}.
  RecordFramer records{options.format == OutputFormat::kText ? OutputFormat::kJsonLines
                                                             : options.format};
  int exit_code = kExitOk;
  // Why a job was given up on because the scheduler stayed unreachable:
  // told once, at the end, and nothing is printed after it.
  absl::Status unreachable;
  // Set with it, for the input's reader thread: read no further.
  std::atomic<bool> stop_reading{false};
  // What the client said while reconnecting (on a library thread), for the
  // next tick to write above the progress line.
  absl::Mutex notice_mutex;
  std::string notice ABSL_GUARDED_BY(notice_mutex);

  // Set while RunWindow runs, for --halt and --joblog.
  JobWindow* window = nullptr;
  std::shared_ptr<internal::PoolClient> client;
  // With --halt: the jobs so far, and whether the map stopped.
  HaltPolicy halt;
  size_t failed = 0;
  size_t succeeded = 0;
  int first_failure = 0;  // the exit status of the first failed command
  bool halted = false;
  // --joblog and --results of map -- CMD.
  std::unique_ptr<JobLog> joblog;
  std::optional<ResultsDir> results;

  bool json() const { return options.format != OutputFormat::kText; }

  // Counts a finished command for --halt (`exit_status` being the one it
  // ended with), stopping the map when the policy says so; the exit code is
  // then parallel's.
  void CountForHalt(bool job_failed, int exit_status) {
    if (job_failed) {
      if (++failed == 1) first_failure = exit_status;
    } else {
      ++succeeded;
    }
    exit_code = halt.ExitCode(failed, succeeded, first_failure);
    if (halted || !halt.ShouldHalt(failed, succeeded)) return;
    halted = true;
    stop_reading = true;
    const bool now = halt.when() == HaltPolicy::When::kNow;
    window->Stop([pool = client, now](const auto& jobs) {
      pool->Cancel(now ? jobs : NotStarted(*pool, jobs)).IgnoreError();
    });
  }

  // Prints item `index`'s record; `outcome` is its "value" or its "error".
  void Record(size_t index, Value item, const char* outcome, Value value) {
    output.Result(records.Next(
        ValueMap{{"index", index}, {"item", std::move(item)}, {outcome, std::move(value)}}));
  }

  // The id a job of this run is submitted under: with --idempotency-key KEY,
  // job N's key is KEY/N, so that the same map submitted again is the same
  // jobs.
  std::string IdempotencyKey(size_t job) const {
    if (options.job.idempotency_key.empty()) return "";
    return absl::StrCat(options.job.idempotency_key, "/", job);
  }

  // A job of this run with the scheduling options applied.
  void Schedule(size_t job, v1::JobSpec* spec) const {
    ApplyJobOptions(options.job, spec);
    spec->set_idempotency_key(IdempotencyKey(job));
  }

  // True when the run has given up on the scheduler, `outcome` being the
  // first job that tells so or one that finished after it: it prints nothing.
  bool GaveUp(const internal::Outcome& outcome) {
    if (unreachable.ok() && outcome.state == v1::JOB_STATE_UNSPECIFIED &&
        absl::IsUnavailable(outcome.value.status())) {
      unreachable = outcome.value.status();
      stop_reading = true;
    }
    return !unreachable.ok();
  }
};

// With --local, a pool inside this process; a signal stops its worker
// processes (and what they run) before it ends the CLI.
absl::StatusOr<std::shared_ptr<internal::PoolClient>> ConnectLocal(
    const RunOptions& options, StopOnSignal& stop_on_signal) {
  absl::StatusOr<std::unique_ptr<internal::LocalPool>> started =
      internal::LocalPool::Start(options.processes);
  if (!started.ok()) return started.status();
  std::shared_ptr<internal::LocalPool> local = *std::move(started);
  stop_on_signal.SetAction([pool = std::weak_ptr<internal::LocalPool>(local)] {
    if (std::shared_ptr<internal::LocalPool> alive = pool.lock()) alive->StopWorkers();
  });
  return internal::ConnectLocalPool(std::move(local));
}

// PoolClient::Submit takes the scheduling fields from the call's options,
// not from the spec: the spec's are copied over.
CallOptions WithSchedulingOf(const v1::JobSpec& spec, CallOptions options) {
  options.priority = spec.priority();
  options.labels.insert(spec.labels().begin(), spec.labels().end());
  options.timeout = absl::Seconds(spec.timeout_seconds());
  options.max_attempts = spec.max_attempts();
  options.retry_on_error = spec.retry_on_error();
  options.idempotency_key = spec.idempotency_key();
  return options;
}

// The jobs a map submits ahead. With --halt, no more than the workers run
// at a time (as parallel -j: the local processes, or the cluster's slots
// now), since what a node has taken ahead counts as started and would run
// after a halt.
size_t HaltWindow(MapRun& run) {
  if (run.halt.when() == HaltPolicy::When::kNever) return kWindowJobs;
  if (run.options.local) {
    return run.options.processes > 0 ? run.options.processes : DefaultProcessCount();
  }
  absl::StatusOr<v1::GetStatsResponse> stats = run.client->scheduler().GetStats();
  if (!stats.ok() || stats->slots() <= 0) return kWindowJobs;
  return static_cast<size_t>(stats->slots());
}

// Submits the jobs `source` reads through a window and hands them to their
// `done`; returns the exit code.
int RunWindow(MapRun& run, Input& input, JobWindow::Source source) {
  // Before the local pool starts any thread; outlives it.
  std::optional<StopOnSignal> stop_on_signal;
  if (run.options.local) stop_on_signal.emplace();
  auto say = [&run](const std::string& line) {
    absl::MutexLock lock(&run.notice_mutex);
    run.notice += line;
  };
  absl::StatusOr<std::shared_ptr<internal::PoolClient>> client =
      run.options.local ? ConnectLocal(run.options, *stop_on_signal)
                        : run.context.ConnectPool(run.options.retry_for, say);
  if (!client.ok()) return run.context.RpcFailed(client.status());
  if (input.count().has_value()) run.output.SetTotal(*input.count());
  run.client = *client;

  JobWindow window(HaltWindow(run), run.options.unordered,
                   [client = *client](v1::JobSpec spec, const CallOptions& options) {
                     CallOptions scheduled = WithSchedulingOf(spec, options);
                     return client->Submit(std::move(spec), scheduled);
                   });
  run.window = &window;
  absl::Status input_status =
      window.Run(std::move(source), [&run, &input](std::optional<size_t> total_items) {
        if (total_items.has_value() && !input.count().has_value()) {
          run.output.SetTotal(*total_items);
        }
        std::string notice;
        {
          absl::MutexLock lock(&run.notice_mutex);
          notice.swap(run.notice);
        }
        if (!notice.empty()) run.output.Message(notice);
        run.output.Tick();
      });
  run.window = nullptr;
  run.client.reset();  // the local pool goes before stop_on_signal
  if (run.json()) run.output.Result(run.records.End());
  run.output.Finish();
  if (!run.unreachable.ok()) return run.context.RpcFailed(run.unreachable);
  if (!input_status.ok()) {
    run.context.Error(absl::StrCat(input.name(), " ", input_status.message()));
    return kExitUsage;
  }
  return run.exit_code;
}

// map FN / starmap FN: one JSON result per line.
int MapFunction(MapRun& run, const std::string& function, Input& input) {
  const size_t chunksize = static_cast<size_t>(run.options.chunksize);
  size_t next_item = 0;
  size_t next_job = 0;
  std::optional<absl::Status> held_error;  // after the chunk read before it
  JobWindow::Source source = [&]() -> absl::StatusOr<std::optional<JobWindow::Job>> {
    if (run.stop_reading) return std::nullopt;
    if (held_error.has_value()) return *held_error;
    std::vector<ValueList> arg_lists;
    while (arg_lists.size() < chunksize) {
      absl::StatusOr<std::optional<ValueList>> item = input.reader().Next();
      if (!item.ok()) {
        held_error = item.status();
        break;
      }
      if (!item->has_value()) break;
      arg_lists.push_back(**std::move(item));
    }
    if (arg_lists.empty()) {
      if (held_error.has_value()) return *held_error;
      return std::nullopt;
    }
    ValueList items;  // for the records of -o json
    if (run.json()) {
      for (const ValueList& arguments : arg_lists) items.push_back(input.ItemValue(arguments));
    }
    const ChunkPlan plan(arg_lists.size(), chunksize);
    const ChunkPlan::Chunk chunk = plan.chunks().front();
    JobWindow::Job job;
    job.spec = plan.MakeJob(function, &arg_lists, chunk);
    job.spec.set_timeout_seconds(absl::ToDoubleSeconds(run.options.job.timeout));
    run.Schedule(next_job++, &job.spec);
    job.items = chunk.count;
    const size_t first_item = next_item;
    next_item += chunk.count;
    job.done = [&run, plan, chunk, first_item,
                items = std::move(items)](const internal::ResultState& finished) {
      const internal::Outcome& outcome = finished.outcome();
      if (run.GaveUp(outcome)) return;
      absl::StatusOr<std::vector<Value>> results = plan.ItemResults(outcome.value, chunk);
      if (results.ok()) {
        std::string lines;
        for (size_t i = 0; i < results->size(); ++i) {
          if (run.json()) {
            run.Record(first_item + i, items[i], "value", (*results)[i]);
          } else {
            absl::StrAppend(&lines, (*results)[i].ToJson(), "\n");
          }
        }
        run.output.Result(lines);
        run.output.ItemsDone(chunk.count, 0);
        return;
      }
      for (size_t i = 0; i < chunk.count; ++i) {
        run.output.Message(ItemError(first_item + i, results.status()));
        if (run.json()) {
          run.Record(first_item + i, items[i], "error",
                     ErrorValue(results.status(), outcome.error_detail));
        }
      }
      run.output.ItemsDone(chunk.count, chunk.count);
      run.exit_code = std::max(run.exit_code, FailureExitCode(outcome));
    };
    return job;
  };
  return RunWindow(run, input, std::move(source));
}

// map -- CMD: each command's output as it printed it.
// Where and when a finished job ran, for --joblog: the scheduler's record
// of it, with this machine's name as parallel's ":" for --local.
JobLogEntry RanAt(const MapRun& run, const std::string& job_id) {
  JobLogEntry entry;
  v1::GetStatusRequest request;
  request.add_job_ids(job_id);
  absl::StatusOr<v1::GetStatusResponse> status = run.client->scheduler().GetStatus(request);
  if (status.ok() && status->jobs_size() == 1) {
    const v1::JobStatus& job = status->jobs(0);
    entry.host = job.worker();
    entry.start_unix = job.started_unix();
    if (job.finished_unix() >= job.started_unix()) {
      entry.runtime_seconds = job.finished_unix() - job.started_unix();
    }
  }
  if (run.options.local) entry.host = ":";
  return entry;
}

int MapCommand(MapRun& run, const std::vector<std::string>& command, Input& input) {
  size_t next_item = 0;
  JobWindow::Source source = [&]() -> absl::StatusOr<std::optional<JobWindow::Job>> {
    if (run.stop_reading) return std::nullopt;
    absl::StatusOr<std::optional<ValueList>> item = input.reader().Next();
    if (!item.ok()) return item.status();
    if (!item->has_value()) return std::nullopt;
    const std::string& text = (**item).front().AsString();
    JobWindow::Job job;
    const size_t index = next_item++;
    const std::vector<std::string> argv = BuildCommand(command, text, index + 1);
    job.spec = ExecJob(argv, run.options.job.timeout);
    run.Schedule(index, &job.spec);
    job.done = [&run, index, text,
                command_line = absl::StrJoin(argv, " ")](const internal::ResultState& finished) {
      const internal::Outcome& outcome = finished.outcome();
      if (run.GaveUp(outcome)) return;
      // A job that --halt now cancelled: parallel shows nothing of it either.
      if (run.halted && absl::IsCancelled(outcome.value.status())) return;
      const std::optional<CommandReport> report = ReportOf(outcome);
      if (run.json()) {
        if (outcome.value.ok()) {
          run.Record(index, text, "value", *outcome.value);
        } else {
          run.Record(index, text, "error",
                     ErrorValue(outcome.value.status(), outcome.error_detail));
        }
      } else if (report.has_value() && !run.results.has_value()) {
        run.output.Result(report->stdout_data);
        run.output.Message(report->stderr_data);
      }
      if (run.results.has_value() && report.has_value()) {
        absl::Status written =
            run.results->Write(text, index + 1, report->stdout_data, report->stderr_data);
        if (!written.ok()) run.output.Message(ItemError(index, written));
      }
      if (NeedsErrorMessage(outcome, report)) {
        run.output.Message(ItemError(index, outcome.value.status()));
      }
      if (run.joblog != nullptr) {
        JobLogEntry entry = RanAt(run, finished.job_id);
        entry.sequence = index + 1;
        entry.received_bytes = report.has_value() ? report->stdout_data.size() : 0;
        const CommandEnd end = CommandEndOf(outcome, report);
        entry.exit_value = end.exit_value;
        entry.signal = end.signal;
        entry.command = command_line;
        run.joblog->Add(entry);
      }
      const bool failed = !outcome.value.ok();
      run.output.ItemsDone(1, failed ? 1 : 0);
      if (failed && run.halt.when() == HaltPolicy::When::kNever) {
        run.exit_code = std::max(run.exit_code, FailureExitCode(outcome));
      }
    };
    if (run.halt.when() != HaltPolicy::When::kNever) {
      job.finished = [&run](const internal::ResultState& finished) {
        const internal::Outcome& outcome = finished.outcome();
        if (run.halted && absl::IsCancelled(outcome.value.status())) return;
        run.CountForHalt(!outcome.value.ok(), ExitStatusOf(outcome, ReportOf(outcome)));
      };
    }
    return job;
  };
  return RunWindow(run, input, std::move(source));
}

// The checks map and starmap share; true when the options are usable.
bool CheckRunOptions(const Context& context, const RunOptions& options) {
  if (options.processes != 0 && !options.local) {
    context.Error("-j sets the number of local worker processes: it needs --local");
    return false;
  }
  if (options.local && !options.job.labels.empty()) {
    // No local worker has labels: the jobs would wait forever.
    context.Error("--label picks worker nodes of a cluster: it cannot go with --local");
    return false;
  }
  return true;
}

// The items, from the words or else from the lines of --jobs-file or stdin.
absl::StatusOr<Input> OpenInput(const Context& context, const RunOptions& options,
                                std::optional<std::vector<std::string>> words,
                                ItemFormat format) {
  if (words.has_value()) {
    if (!options.jobs_file.empty()) {
      return absl::InvalidArgumentError("items come either on the command line or from "
                                        "--jobs-file, not both");
    }
    return Input::Words(*std::move(words), format);
  }
  return Input::Lines(context, options.jobs_file, format, context.interactive);
}

int RunMap(const Context& context, const MapCliOptions& options) {
  RunOptions run_options = options.run;
  if (options.parallel.retries > 0) {
    // parallel's --retries N runs a failing job up to N times in all.
    run_options.job.max_attempts = options.parallel.retries;
    run_options.job.retry_on_error = true;
  }
  if (!CheckRunOptions(context, run_options)) return kExitUsage;
  std::vector<std::string> positionals = {options.first};
  positionals.insert(positionals.end(), options.rest.begin(), options.rest.end());
  const bool command_form = IsCommandForm(context.args, positionals.size());
  absl::StatusOr<MapWords> words = SplitMapWords(std::move(positionals), command_form);
  if (!words.ok()) {
    context.Error(std::string(words.status().message()));
    return kExitUsage;
  }
  if (command_form && options.run.chunksize != 1) {
    context.Error("--chunksize applies to map FN, not to map -- CMD");
    return kExitUsage;
  }
  if (!command_form && options.parallel.any()) {
    context.Error("--joblog, --halt, --retries and --results apply to map -- CMD");
    return kExitUsage;
  }
  absl::StatusOr<Input> input =
      OpenInput(context, run_options, std::move(words->items),
                command_form ? ItemFormat::kText : ItemFormat::kValue);
  if (!input.ok()) {
    context.Error(std::string(input.status().message()));
    return kExitUsage;
  }
  MapRun run{context, run_options, MapOutput(context.out, context.err, context.interactive)};
  if (!command_form) return MapFunction(run, words->function, *input);
  run.halt = options.parallel.halt;
  if (!options.parallel.results.empty()) run.results.emplace(options.parallel.results);
  if (!options.parallel.joblog.empty()) {
    absl::StatusOr<std::unique_ptr<JobLog>> joblog = JobLog::Create(options.parallel.joblog);
    if (!joblog.ok()) {
      context.Error(std::string(joblog.status().message()));
      return kExitUsage;
    }
    run.joblog = *std::move(joblog);
  }
  return MapCommand(run, words->command, *input);
}

int RunStarmap(const Context& context, const StarmapCliOptions& options) {
  if (!CheckRunOptions(context, options.run)) return kExitUsage;
  absl::StatusOr<Input> input =
      OpenInput(context, options.run, std::nullopt, ItemFormat::kArgumentList);
  if (!input.ok()) {
    context.Error(std::string(input.status().message()));
    return kExitUsage;
  }
  MapRun run{context, options.run, MapOutput(context.out, context.err, context.interactive)};
  return MapFunction(run, options.function, *input);
}

void AddRunOptions(CLI::App* command, RunOptions* options) {
  command->add_option("--chunksize", options->chunksize, "Items per job (default 1)")
      ->check(NumberIn(1));
  command->add_flag("--unordered", options->unordered,
                    "Print results as they finish instead of in input order");
  command->add_option("--jobs-file", options->jobs_file,
                      "Read the items from this file, one per line, instead of stdin");
  command->add_flag("--local", options->local,
                    "Run here, in worker processes of this program: no scheduler needed");
  command->add_option("-j,--jobs", options->processes,
                      "With --local: worker processes (default: one per core)")
      ->check(NumberIn(1, 4096));
  AddRetryFor(command, &options->retry_for);
  AddJobOptions(command, &options->job,
                "How long each job may run (e.g. 30s, 5m; default: no limit); past it, the "
                "item fails (map -- CMD: as timeout(1), with exit code 124)");
  AddOutputOption(command, &options->format);
}

// map -- CMD's options from GNU parallel, with parallel's meaning.
void AddParallelOptions(CLI::App* command, ParallelOptions* options) {
  command
      ->add_option("--joblog", options->joblog,
                   "map -- CMD: log each finished job to FILE as GNU parallel --joblog does "
                   "(Host is the worker node, ':' with --local)")
      ->type_name("FILE");
  command
      ->add_option_function<std::string>(
          "--halt",
          [options](const std::string& text) {
            absl::StatusOr<HaltPolicy> halt = HaltPolicy::Parse(text);
            if (!halt.ok()) {
              throw CLI::ValidationError("--halt", std::string(halt.status().message()));
            }
            options->halt = *halt;
          },
          "map -- CMD: as GNU parallel --halt: now,fail=N (cancel the running jobs) or "
          "soon,fail=N (let them finish) stops after N failed jobs; success=N after N "
          "succeeded. The exit code is then parallel's: with fail=1 the failed command's, "
          "else the number of failed jobs (101 for more than 100)")
      ->type_name("WHEN,fail=N");
  command
      ->add_option("--retries", options->retries,
                   "map -- CMD: run a failing command up to N times in all (GNU parallel "
                   "--retries)")
      ->check(NumberIn(1, 100));
  command
      ->add_option("--results", options->results,
                   "map -- CMD: write each command's output to DIR/1/ITEM/stdout and stderr "
                   "instead of printing it, as GNU parallel --results")
      ->type_name("DIR");
}

}  // namespace

void AddMapCommands(CLI::App& app, Command* run) {
  auto map_options = std::make_shared<MapCliOptions>();
  CLI::App* map = app.add_subcommand(
      "map", "Runs a function (or, after --, a command) once per item; one result per line");
  AddRunOptions(map, &map_options->run);
  AddParallelOptions(map, &map_options->parallel);
  KeepWordsWhole(
      map->add_option("FN", map_options->first, "Function to run, or (after --) the command"))
      ->required();
  KeepWordsWhole(map->add_option(
      "ARGS", map_options->rest,
      "ARG... or ::: ITEM...: items are JSON values (a word that is not JSON, and does not "
      "start with { [ or \", is a string), or "
      "JSON lines on stdin (or --jobs-file) when none are given; after -- CMD: the rest of the "
      "command, then ::: and the items, or none to read one item per line; {} in the command "
      "is replaced by each item (which is appended when there is no {})"));
  map->footer(
      "Examples:\n"
      "  netpool map echo 1 2 3\n"
      "  seq 100 | netpool map echo\n"
      "  netpool map echo -- -1 -2\n"
      "  netpool map -- gzip -9 {} ::: \"$PWD\"/*.nii   # on nodes: paths they see\n"
      "  netpool map --local -j 8 -- gzip -9 {} ::: *.nii     # no daemon, like GNU parallel\n"
      "  ls *.nii | netpool map --local -- gzip -9\n"
      "A failed item prints `item N: error` on stderr, N being its index from 0; the exit\n"
      "code is 1 if any item failed. On a terminal, a progress line shows on stderr.");
  map->callback([run, map_options] {
    *run = [map_options](const Context& context) { return RunMap(context, *map_options); };
  });

  auto starmap_options = std::make_shared<StarmapCliOptions>();
  CLI::App* starmap = app.add_subcommand(
      "starmap",
      "Runs a function once per line of stdin (or --jobs-file), each a JSON array of its "
      "arguments");
  KeepWordsWhole(starmap->add_option("FN", starmap_options->function, "Function to run"))
      ->required();
  AddRunOptions(starmap, &starmap_options->run);
  starmap->footer("Example: printf '[1,2]\\n[3,4]\\n' | netpool starmap --local echo");
  starmap->callback([run, starmap_options] {
    *run = [starmap_options](const Context& context) {
      return RunStarmap(context, *starmap_options);
    };
  });
}

}  // namespace cli
}  // namespace netpool
