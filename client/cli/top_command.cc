// netpool top: a live view of the cluster, redrawn in place every
// --interval on a terminal: the scheduler's totals, its worker nodes, and
// the queues of jobs waiting for one. Printed once when standard output is
// no terminal (or with --once), so that it also serves scripts and logs.
#include <signal.h>
#include <time.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "client/cli/command.h"
#include "client/cli/output_format.h"
#include "client/cli/table.h"
#include "client/scheduler_client.h"
#include "common/records.h"

namespace netpool {
namespace cli {
namespace {

// Moves the cursor home; clears to the end of a line, and of the screen.
constexpr char kHome[] = "\x1b[H";
constexpr char kClearLine[] = "\x1b[K";
constexpr char kClearBelow[] = "\x1b[J";

struct TopOptions {
  absl::Duration interval = absl::Seconds(1);
  bool once = false;
  OutputFormat format = OutputFormat::kText;
};

// What one refresh shows.
struct Snapshot {
  v1::GetStatsResponse stats;  // with the queues
  v1::ListWorkersResponse workers;
};

absl::StatusOr<Snapshot> Fetch(SchedulerClient& scheduler) {
  Snapshot snapshot;
  v1::GetStatsRequest request;
  request.set_with_queues(true);
  absl::StatusOr<v1::GetStatsResponse> stats = scheduler.GetStats(request);
  if (!stats.ok()) return stats.status();
  snapshot.stats = *std::move(stats);
  absl::StatusOr<v1::ListWorkersResponse> workers = scheduler.ListWorkers();
  if (!workers.ok()) return workers.status();
  snapshot.workers = *std::move(workers);
  return snapshot;
}

// {stats, workers, queues, queues_left_out}, the fields of stats, workers
// and the queue records (common/records.h).
Value SnapshotValue(const Snapshot& snapshot) {
  ValueList workers;
  for (const v1::WorkerStatus& worker : snapshot.workers.workers()) {
    workers.push_back(WorkerValue(worker));
  }
  ValueList queues;
  for (const v1::QueueStatus& queue : snapshot.stats.queues()) queues.push_back(QueueValue(queue));
  return ValueMap{{"stats", StatsValue(snapshot.stats)},
                  {"workers", std::move(workers)},
                  {"queues", std::move(queues)},
                  {"queues_left_out", snapshot.stats.queues_left_out()}};
}

std::string Labels(const google::protobuf::Map<std::string, std::string>& labels) {
  std::vector<std::string> pairs;
  for (const auto& [key, value] : labels) pairs.push_back(absl::StrCat(key, "=", value));
  std::sort(pairs.begin(), pairs.end());
  return pairs.empty() ? "-" : absl::StrJoin(pairs, ",");
}

// For how long a node has been connected, to the second (1h2m3s).
std::string ConnectedFor(double connected_unix, absl::Time now) {
  if (connected_unix <= 0) return "-";
  const absl::Duration connected =
      now - (absl::UnixEpoch() + absl::Seconds(connected_unix));
  return absl::FormatDuration(absl::Trunc(std::max(connected, absl::ZeroDuration()),
                                          absl::Seconds(1)));
}

// The text of one refresh: the totals line, the nodes and the queues.
std::string Screen(const Snapshot& snapshot, absl::Time now) {
  const v1::GetStatsResponse& stats = snapshot.stats;
  std::string text = absl::StrCat(
      "pending ", stats.pending(), "  running ", stats.running(), "  succeeded ",
      stats.succeeded(), "  failed ", stats.failed(), "  cancelled ", stats.cancelled(),
      "  workers ", stats.workers(), "  slots ", stats.slots(), "  ready ",
      stats.ready() ? "yes" : absl::StrCat("no (", stats.not_ready_reason(), ")"), "\n\n");
  std::vector<std::vector<std::string>> workers = {
      {"WORKER", "SLOTS", "RUNNING", "JOBS DONE", "CONNECTED"}};
  for (const v1::WorkerStatus& worker : snapshot.workers.workers()) {
    workers.push_back({worker.name(), absl::StrCat(worker.slots()), absl::StrCat(worker.running()),
                       absl::StrCat(worker.jobs_done()),
                       ConnectedFor(worker.connected_unix(), now)});
  }
  absl::StrAppend(&text, FormatTable(workers), "\n");
  std::vector<std::vector<std::string>> queues = {{"QUEUE", "LABELS", "JOBS"}};
  for (const v1::QueueStatus& queue : stats.queues()) {
    queues.push_back({queue.function(), Labels(queue.labels()), absl::StrCat(queue.jobs())});
  }
  absl::StrAppend(&text, FormatTable(queues));
  if (stats.queues().empty()) absl::StrAppend(&text, "(no jobs waiting)\n");
  if (stats.queues_left_out() > 0) {
    absl::StrAppend(&text, "(", stats.queues_left_out(), " shorter queues not shown)\n");
  }
  return text;
}

// `text` drawn over the previous frame: each line clears what is left of
// the old one, and what the old frame had below goes.
std::string Redraw(const std::string& text) {
  std::string frame = kHome;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    absl::StrAppend(&frame, line, kClearLine, "\n");
  }
  frame.pop_back();
  return absl::StrCat(frame, kClearBelow);
}

// Blocks SIGINT and SIGTERM while it lives, so that Ctrl-C ends the view's
// wait (WaitUnlessStopped) instead of the process: top then exits 0, with
// the cursor below its last frame.
class StopKeys {
 public:
  StopKeys() {
    sigemptyset(&signals_);
    sigaddset(&signals_, SIGINT);
    sigaddset(&signals_, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &signals_, &previous_);
  }
  ~StopKeys() { pthread_sigmask(SIG_SETMASK, &previous_, nullptr); }
  StopKeys(const StopKeys&) = delete;
  StopKeys& operator=(const StopKeys&) = delete;

  // Waits `wait`; false when a signal came.
  bool WaitUnlessStopped(absl::Duration wait) {
    const timespec timeout = absl::ToTimespec(wait);
    const int got = sigtimedwait(&signals_, nullptr, &timeout);
    return got != SIGINT && got != SIGTERM;
  }

 private:
  sigset_t signals_;
  sigset_t previous_;
};

int RunTop(const Context& context, const TopOptions& options) {
  const bool live = context.interactive && !options.once;
  // Before the client starts gRPC's threads, which inherit the mask.
  std::unique_ptr<StopKeys> stop_keys;
  if (live) stop_keys = std::make_unique<StopKeys>();
  SchedulerClient scheduler(context.scheduler, context.ClientOptions());
  do {
    absl::StatusOr<Snapshot> snapshot = Fetch(scheduler);
    if (!live) {
      if (!snapshot.ok()) return context.RpcFailed(snapshot.status());
      if (options.format == OutputFormat::kText) {
        *context.out << Screen(*snapshot, absl::Now());
      } else {
        PrintRecord(*context.out, SnapshotValue(*snapshot));
      }
      return kExitOk;
    }
    if (options.format != OutputFormat::kText) {
      // A record per refresh, one per line; an outage is on standard error.
      if (snapshot.ok()) {
        PrintRecord(*context.out, SnapshotValue(*snapshot));
      } else {
        context.Error(std::string(snapshot.status().message()));
      }
    } else {
      const absl::Time now = absl::Now();
      std::string text = absl::StrCat("netpool top  ", context.scheduler, "  ",
                                      absl::FormatTime("%H:%M:%S", now, absl::LocalTimeZone()),
                                      "  (every ", absl::FormatDuration(options.interval),
                                      "; Ctrl-C quits)\n\n");
      absl::StrAppend(&text, snapshot.ok() ? Screen(*snapshot, now)
                                           : absl::StrCat("cannot reach the scheduler: ",
                                                          snapshot.status().message(), "\n"));
      *context.out << Redraw(text);
    }
    context.out->flush();
  } while (stop_keys->WaitUnlessStopped(options.interval));
  return kExitOk;
}

}  // namespace

void AddTopCommand(CLI::App& app, Command* run) {
  auto options = std::make_shared<TopOptions>();
  CLI::App* top = app.add_subcommand(
      "top",
      "Shows the cluster live: totals, worker nodes (WORKER SLOTS RUNNING JOBS DONE CONNECTED) "
      "and the queues of waiting jobs (QUEUE LABELS JOBS), refreshed in place on a terminal; "
      "printed once when the output is no terminal");
  AddDurationOption(
      top, "--interval",
      [options](absl::Duration interval) {
        // Faster would only load the scheduler; the terminal cannot show it.
        if (interval < absl::Milliseconds(100)) {
          throw CLI::ValidationError("--interval", "must be at least 100ms");
        }
        options->interval = interval;
      },
      "Time between refreshes (e.g. 1s, 500ms; at least 100ms; default 1s)");
  top->add_flag("--once", options->once, "Print one snapshot and exit, even on a terminal");
  AddOutputOption(top, &options->format);
  top->footer(
      "Examples:\n"
      "  netpool top --once\n"
      "  netpool top -o json --once\n");
  top->callback([run, options] {
    *run = [options](const Context& context) { return RunTop(context, *options); };
  });
}

}  // namespace cli
}  // namespace netpool
