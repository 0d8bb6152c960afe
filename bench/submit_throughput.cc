// submit_throughput: how many jobs per second a real netpoold acknowledges
// with the durable store (SQLite, group commit) next to the memory store.
//
// Each run starts netpoold on 127.0.0.1:0 with no worker node, and THREADS
// clients send BATCH no-op jobs per Submit RPC until JOBS are acknowledged
// (with the durable store, acknowledged = committed). The table gives jobs/s
// as the median of RUNS runs, with min and max beside it.
//
//   submit_throughput [--jobs N] [--batch B] [--threads T] [--runs R] [--netpoold PATH]
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "client/scheduler_client.h"

extern char** environ;

namespace netpool {
namespace {

struct Settings {
  int jobs = 20000;
  int batch = 100;
  int threads = 4;
  int runs = 3;
  std::string netpoold = NETPOOL_BENCH_NETPOOLD;
};

// A netpoold process of its own, stopped with SIGTERM when this goes.
class Daemon {
 public:
  static absl::StatusOr<std::unique_ptr<Daemon>> Start(const std::string& path,
                                                       std::vector<std::string> store_args) {
    int out[2];
    if (pipe(out) != 0) return absl::InternalError("pipe failed");
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
    posix_spawn_file_actions_addclose(&actions, out[0]);
    std::vector<std::string> args = {path, "--listen", "127.0.0.1:0"};
    args.insert(args.end(), store_args.begin(), store_args.end());
    std::vector<char*> argv;
    for (std::string& arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);
    auto daemon = std::unique_ptr<Daemon>(new Daemon);
    const int error =
        posix_spawn(&daemon->pid_, path.c_str(), &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    close(out[1]);
    if (error != 0) {
      close(out[0]);
      return absl::UnavailableError(absl::StrCat("cannot start ", path));
    }
    std::string line;
    char c;
    while (read(out[0], &c, 1) == 1 && c != '\n') line += c;
    close(out[0]);
    constexpr std::string_view kPrefix = "listening on ";
    if (line.rfind(kPrefix, 0) != 0) {
      return absl::UnavailableError(absl::StrCat("netpoold did not start: ", line));
    }
    daemon->address_ = line.substr(kPrefix.size());
    return daemon;
  }
  ~Daemon() {
    kill(pid_, SIGTERM);
    int status;
    waitpid(pid_, &status, 0);
  }
  const std::string& address() const { return address_; }

 private:
  Daemon() = default;
  pid_t pid_ = -1;
  std::string address_;
};

// Jobs per second acknowledged in one run against `address`.
absl::StatusOr<double> OneRun(const std::string& address, const Settings& settings) {
  SchedulerClient warmup(address);
  if (absl::Status s = warmup.WaitForConnection(absl::Seconds(10),
                                                SchedulerClient::ConnectMode::kRetryUntilTimeout);
      !s.ok()) {
    return s;
  }
  std::atomic<int> next_batch{0};
  std::atomic<bool> failed{false};
  const int batches = (settings.jobs + settings.batch - 1) / settings.batch;
  const absl::Time start = absl::Now();
  std::vector<std::thread> threads;
  for (int t = 0; t < settings.threads; ++t) {
    threads.emplace_back([&] {
      SchedulerClient client(address);
      v1::SubmitRequest request;
      for (int i = 0; i < settings.batch; ++i) {
        v1::JobSpec* spec = request.add_jobs();
        spec->set_function("noop");
        spec->add_args()->set_int_value(i);
      }
      while (next_batch.fetch_add(1) < batches && !failed) {
        if (!client.Submit(request).ok()) failed = true;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  if (failed) return absl::UnavailableError("a Submit failed");
  return static_cast<double>(batches) * settings.batch / absl::ToDoubleSeconds(absl::Now() - start);
}

int Main(int argc, char** argv) {
  Settings settings;
  CLI::App app("Acknowledged Submit throughput of netpoold: durable store vs memory store");
  app.add_option("--jobs", settings.jobs, "jobs per run")->capture_default_str();
  app.add_option("--batch", settings.batch, "jobs per Submit RPC")->capture_default_str();
  app.add_option("--threads", settings.threads, "concurrent clients")->capture_default_str();
  app.add_option("--runs", settings.runs, "runs per store (median, min, max)")
      ->capture_default_str();
  app.add_option("--netpoold", settings.netpoold, "netpoold binary")->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  const std::filesystem::path data =
      std::filesystem::temp_directory_path() / absl::StrCat("netpool-bench-", getpid());
  struct Store {
    const char* name;
    std::vector<std::string> args;
  };
  const std::vector<Store> stores = {{"memory", {"--store", "memory"}},
                                     {"sqlite", {"--data", data.string()}}};
  std::printf("%-8s %8s %6s %8s %12s %12s %12s\n", "store", "jobs", "batch", "threads",
              "jobs/s p50", "min", "max");
  std::vector<double> medians;
  for (const Store& store : stores) {
    std::vector<double> rates;
    for (int run = 0; run < settings.runs; ++run) {
      std::filesystem::remove_all(data);
      absl::StatusOr<std::unique_ptr<Daemon>> daemon = Daemon::Start(settings.netpoold, store.args);
      if (!daemon.ok()) {
        std::fprintf(stderr, "submit_throughput: %s\n", daemon.status().ToString().c_str());
        return 1;
      }
      absl::StatusOr<double> rate = OneRun((*daemon)->address(), settings);
      if (!rate.ok()) {
        std::fprintf(stderr, "submit_throughput: %s\n", rate.status().ToString().c_str());
        return 1;
      }
      rates.push_back(*rate);
    }
    std::sort(rates.begin(), rates.end());
    medians.push_back(rates[rates.size() / 2]);
    std::printf("%-8s %8d %6d %8d %12.0f %12.0f %12.0f\n", store.name, settings.jobs,
                settings.batch, settings.threads, rates[rates.size() / 2], rates.front(),
                rates.back());
  }
  std::filesystem::remove_all(data);
  std::printf("sqlite/memory %.2f\n", medians[1] / medians[0]);
  return 0;
}

}  // namespace
}  // namespace netpool

int main(int argc, char** argv) { return netpool::Main(argc, argv); }
