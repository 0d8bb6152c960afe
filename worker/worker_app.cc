// netpool::Init and WorkerApp::Main: the entry points of a worker
// executable, which runs either as a node agent or, when spawned by one, as
// a worker process.
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <iostream>
#include <limits>
#include <thread>

#include "CLI/CLI.hpp"
#include "absl/strings/str_cat.h"
#include "common/logging.h"
#include "common/shutdown_signal.h"
#include "netpool/worker.h"
#include "spdlog/spdlog.h"
#include "worker/builtins.h"
#include "worker/node_agent.h"
#include "worker/worker_process.h"

namespace netpool {
namespace {

constexpr int kUsageExitCode = 64;  // EX_USAGE

std::string DefaultName() {
  char host[256] = {};
  ::gethostname(host, sizeof(host) - 1);
  return absl::StrCat(host, "-", ::getpid());
}

std::string DefaultScheduler() {
  const char* env = std::getenv("NETPOOL_SCHEDULER");
  return env != nullptr && *env != '\0' ? env : "127.0.0.1:7340";
}

}  // namespace

void Init(int argc, char** argv) {
  RegisterBuiltins();
  if (IsWorkerProcess(argc, argv)) RunWorkerProcess(argc, argv);
}

int WorkerApp::Main(int argc, char** argv) {
  Init(argc, argv);
  // Before any thread starts, so that all of them keep SIGINT/SIGTERM blocked.
  ShutdownSignal shutdown_signal;

  NodeAgent::Options options;
  options.scheduler = DefaultScheduler();
  options.name = DefaultName();
  options.processes = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  std::vector<std::string> labels;
  std::string log_level;

  CLI::App app("netpool worker node: runs jobs from a netpool scheduler in worker processes",
               "netpool-worker");
  app.add_option("--scheduler", options.scheduler,
                 "scheduler address HOST:PORT (default: $NETPOOL_SCHEDULER or 127.0.0.1:7340)");
  app.add_option("--processes", options.processes, "worker processes (default: one per core)")
      ->check(CLI::Range(1, 4096));
  app.add_option("--name", options.name, "node name (default: HOSTNAME-PID)");
  app.add_option("--label", labels, "KEY=VALUE label for placement; repeatable");
  app.add_option("--max-tasks-per-child", options.max_tasks_per_child,
                 "replace a worker process after this many jobs (0: never)")
      ->check(CLI::Range(0, std::numeric_limits<int>::max()));
  app.add_option("--log-level", log_level, "trace, debug, info, warn, error or off")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "off"}));
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    std::cout << app.help();
    return 0;
  } catch (const CLI::ParseError& e) {
    std::cerr << "netpool-worker: " << e.what() << "\n";
    return kUsageExitCode;
  }
  for (const std::string& label : labels) {
    size_t eq = label.find('=');
    if (eq == 0 || eq == std::string::npos) {
      std::cerr << "netpool-worker: --label: expected KEY=VALUE, got \"" << label << "\"\n";
      return kUsageExitCode;
    }
    options.labels[label.substr(0, eq)] = label.substr(eq + 1);
  }
  InitLogging(log_level);

  NodeAgent agent(options);
  agent.Start();
  int signo = shutdown_signal.Wait();
  spdlog::info("received {}; stopping", strsignal(signo));
  agent.Stop();
  return 0;
}

}  // namespace netpool
