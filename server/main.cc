// netpoold: the netpool scheduler daemon. Wires the command line to a
// SchedulerRuntime (the scheduling core and its store) and the two gRPC
// services, prints the address it listens on, and stops on SIGTERM/SIGINT:
// it stops accepting calls, then commits everything the store has queued
// and exits 0.
#include <cmath>
#include <cstdio>
#include <memory>
#include <string>
#include <utility>

#include "CLI/CLI.hpp"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/process_setup.h"
#include "common/shutdown_signal.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/health_check_service_interface.h"
#include "grpcpp/server_builder.h"
#include "server/core/clock.h"
#include "server/scheduler_runtime.h"
#include "server/scheduler_service.h"
#include "server/server_setup.h"
#include "server/store/memory_store.h"
#include "server/store/sqlite_store.h"
#include "server/worker_hub_service.h"
#include "spdlog/spdlog.h"

namespace netpool {
namespace {

constexpr int kExitUsage = 64;
constexpr int kExitUnavailable = 69;

struct Flags {
  std::string listen = "127.0.0.1:7340";
  std::string store = "sqlite";
  std::string data_dir = "./netpool-data";
  std::string http;
  bool insecure = false;
  std::string log_level;
  int default_max_attempts = 3;
  double lease_timeout_seconds = 15;
  double result_ttl_seconds = 86400;
  double retry_backoff_seconds = 1;
  double heartbeat_interval_seconds = 5;
};

// The flags given in seconds; each must be positive and finite.
bool ValidSeconds(const Flags& flags) {
  const std::pair<const char*, double> durations[] = {
      {"--lease-timeout", flags.lease_timeout_seconds},
      {"--result-ttl", flags.result_ttl_seconds},
      {"--retry-backoff", flags.retry_backoff_seconds},
      {"--heartbeat-interval", flags.heartbeat_interval_seconds},
  };
  for (const auto& [flag, seconds] : durations) {
    if (!std::isfinite(seconds) || seconds <= 0) {
      std::fprintf(stderr, "netpoold: %s must be a positive number of seconds, got %g\n", flag,
                   seconds);
      return false;
    }
  }
  return true;
}

absl::StatusOr<std::unique_ptr<Store>> OpenStore(const Flags& flags) {
  if (flags.store == "memory") return std::make_unique<MemoryStore>();
  absl::StatusOr<std::unique_ptr<SqliteStore>> store = SqliteStore::Open(flags.data_dir);
  if (!store.ok()) return store.status();
  return std::unique_ptr<Store>(*std::move(store));
}

// Splits "HOST:PORT" (HOST may be "[v6]"); false when malformed.
bool SplitHostPort(const std::string& address, std::string* host, int* port) {
  const size_t colon = address.rfind(':');
  if (colon == std::string::npos || colon == 0) return false;
  *host = address.substr(0, colon);
  return absl::SimpleAtoi(address.substr(colon + 1), port) && *port >= 0 && *port <= 65535;
}

bool IsLoopback(const std::string& host) {
  return host == "localhost" || host == "[::1]" || absl::StartsWith(host, "127.");
}

// Serves until SIGTERM/SIGINT. Returning destroys the runtime and with it
// the store, which commits what it has queued.
int Serve(const Flags& flags, const std::string& host, std::unique_ptr<Store> store,
          ShutdownSignal& shutdown) {
  RealClock clock;
  SchedulerRuntime::Options options;
  options.scheduler.default_max_attempts = flags.default_max_attempts;
  options.scheduler.lease_timeout = absl::Seconds(flags.lease_timeout_seconds);
  options.scheduler.result_ttl = absl::Seconds(flags.result_ttl_seconds);
  options.scheduler.default_retry_backoff = absl::Seconds(flags.retry_backoff_seconds);
  options.heartbeat_interval = absl::Seconds(flags.heartbeat_interval_seconds);
  SchedulerRuntime runtime(&clock, std::move(store), options);
  SchedulerService scheduler_service(&runtime);
  WorkerHubService worker_hub_service(&runtime);

  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  int bound_port = 0;
  builder.AddListeningPort(flags.listen, grpc::InsecureServerCredentials(), &bound_port);
  ConfigureSchedulerServer(builder, &scheduler_service, &worker_hub_service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || bound_port == 0) {
    std::fprintf(stderr, "netpoold: cannot listen on %s\n", flags.listen.c_str());
    return kExitUnavailable;
  }
  std::printf("listening on %s:%d\n", host.c_str(), bound_port);
  std::fflush(stdout);
  spdlog::info("netpoold listening on {}:{}", host, bound_port);

  const int signal = shutdown.Wait();
  spdlog::info("signal {} received; shutting down", signal);
  runtime.BeginShutdown();
  // Streams (workers, watchers) never end by themselves: give unary calls a
  // moment, then cancel what is left.
  server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(1));
  server->Wait();
  return 0;
}

int Run(const Flags& flags, ShutdownSignal& shutdown) {
  std::string host;
  int port = 0;
  if (!SplitHostPort(flags.listen, &host, &port)) {
    std::fprintf(stderr, "netpoold: --listen must be HOST:PORT, got \"%s\"\n", flags.listen.c_str());
    return kExitUsage;
  }
  if (!IsLoopback(host) && !flags.insecure) {
    std::fprintf(stderr,
                 "netpoold: refusing to listen on non-loopback address %s without auth; "
                 "pass --insecure to do it anyway\n",
                 host.c_str());
    return kExitUsage;
  }
  if (!flags.http.empty()) {
    std::fprintf(stderr, "netpoold: --http (metrics and dashboard) is not in this version yet\n");
    return kExitUsage;
  }
  if (!ValidSeconds(flags)) return kExitUsage;
  if (flags.store == "sqlite" && flags.data_dir.empty()) {
    std::fprintf(stderr, "netpoold: --data must name a directory\n");
    return kExitUsage;
  }

  absl::StatusOr<std::unique_ptr<Store>> store = OpenStore(flags);
  if (!store.ok()) {
    // The store's messages start with the database's path.
    std::fprintf(stderr, "netpoold: cannot open store %s\n",
                 std::string(store.status().message()).c_str());
    return 1;
  }
  if (flags.store == "sqlite") spdlog::info("job store: {}", flags.data_dir);
  const int exit_code = Serve(flags, host, *std::move(store), shutdown);
  if (exit_code == 0) spdlog::info("store flushed");
  return exit_code;
}

}  // namespace
}  // namespace netpool

int main(int argc, char** argv) {
  netpool::ShutdownSignal shutdown;  // first: every thread inherits the blocked mask
  netpool::Flags flags;
  CLI::App app{"netpoold: the netpool scheduler daemon"};
  app.add_option("--listen", flags.listen, "HOST:PORT to serve on; port 0 picks a free port")
      ->capture_default_str();
  app.add_option("--store", flags.store,
                 "job store: sqlite (durable, in --data) or memory (volatile; ignores --data)")
      ->check(CLI::IsMember({"sqlite", "memory"}))
      ->capture_default_str();
  app.add_option("--data", flags.data_dir, "directory of the durable store")
      ->capture_default_str();
  app.add_option("--http", flags.http, "HOST:PORT for metrics and dashboard (not in this version)");
  app.add_flag("--insecure", flags.insecure, "allow a non-loopback --listen without auth");
  app.add_option("--default-max-attempts", flags.default_max_attempts,
                 "attempts for jobs that do not set max_attempts")
      ->check(CLI::Range(1, 100))
      ->capture_default_str();
  app.add_option("--lease-timeout", flags.lease_timeout_seconds,
                 "seconds without a word from a worker node before its jobs go elsewhere")
      ->capture_default_str();
  app.add_option("--result-ttl", flags.result_ttl_seconds,
                 "seconds a fetched result is kept after its job finished")
      ->capture_default_str();
  app.add_option("--retry-backoff", flags.retry_backoff_seconds,
                 "seconds before a job's first retry when the job sets none (doubles per attempt)")
      ->capture_default_str();
  app.add_option("--heartbeat-interval", flags.heartbeat_interval_seconds,
                 "seconds between the heartbeats worker nodes are asked to send")
      ->capture_default_str();
  app.add_option("--log-level", flags.log_level, "trace|debug|info|warn|error|off (env NETPOOL_LOG)");
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "netpoold: %s\n", e.what());
    return netpool::kExitUsage;
  }
  netpool::SetUpProcess(flags.log_level);
  return netpool::Run(flags, shutdown);
}
