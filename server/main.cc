// netpoold: the netpool scheduler daemon. Wires the command line to a
// SchedulerRuntime (the scheduling core and its store) and the two gRPC
// services, prints the address it listens on, and stops on SIGTERM/SIGINT.
#include <cstdio>
#include <memory>
#include <string>

#include "CLI/CLI.hpp"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/logging.h"
#include "common/shutdown_signal.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/health_check_service_interface.h"
#include "grpcpp/resource_quota.h"
#include "grpcpp/server_builder.h"
#include "server/core/clock.h"
#include "server/scheduler_runtime.h"
#include "server/scheduler_service.h"
#include "server/store/memory_store.h"
#include "server/worker_hub_service.h"
#include "spdlog/spdlog.h"

namespace netpool {
namespace {

constexpr int kExitUsage = 64;
constexpr int kExitUnavailable = 69;

struct Flags {
  std::string listen = "127.0.0.1:7340";
  std::string store = "memory";
  std::string data_dir;
  std::string http;
  bool insecure = false;
  std::string log_level;
  int default_max_attempts = 3;
};

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
  if (flags.store != "memory" || !flags.data_dir.empty()) {
    std::fprintf(stderr,
                 "netpoold: the durable store is not in this version yet; "
                 "use --store memory (the default)\n");
    return kExitUsage;
  }
  if (!flags.http.empty()) {
    std::fprintf(stderr, "netpoold: --http (metrics and dashboard) is not in this version yet\n");
    return kExitUsage;
  }

  RealClock clock;
  SchedulerRuntime::Options options;
  options.scheduler.default_max_attempts = flags.default_max_attempts;
  SchedulerRuntime runtime(&clock, std::make_unique<MemoryStore>(), options);
  SchedulerService scheduler_service(&runtime);
  WorkerHubService worker_hub_service(&runtime);

  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  int bound_port = 0;
  builder.AddListeningPort(flags.listen, grpc::InsecureServerCredentials(), &bound_port);
  builder.SetMaxReceiveMessageSize(64 << 20);
  // Every stream holds a thread: past this, new calls get RESOURCE_EXHAUSTED.
  grpc::ResourceQuota quota("netpoold");
  quota.SetMaxThreads(4096);
  builder.SetResourceQuota(quota);
  // Notice a dead peer on an idle stream within ~30 s.
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIME_MS, 20'000);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 10'000);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS, 5'000);
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MAX_PING_STRIKES, 0);
  builder.RegisterService(&scheduler_service);
  builder.RegisterService(&worker_hub_service);
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
  // Streams (workers, watchers) never end by themselves: give unary calls a
  // moment, then cancel what is left.
  server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(1));
  server->Wait();
  return 0;
}

}  // namespace
}  // namespace netpool

int main(int argc, char** argv) {
  netpool::ShutdownSignal shutdown;  // first: every thread inherits the blocked mask
  netpool::Flags flags;
  CLI::App app{"netpoold: the netpool scheduler daemon"};
  app.add_option("--listen", flags.listen, "HOST:PORT to serve on; port 0 picks a free port")
      ->capture_default_str();
  app.add_option("--store", flags.store, "job store: memory (volatile)")->capture_default_str();
  app.add_option("--data", flags.data_dir, "directory of the durable store (not in this version)");
  app.add_option("--http", flags.http, "HOST:PORT for metrics and dashboard (not in this version)");
  app.add_flag("--insecure", flags.insecure, "allow a non-loopback --listen without auth");
  app.add_option("--default-max-attempts", flags.default_max_attempts,
                 "attempts for jobs that do not set max_attempts")
      ->check(CLI::Range(1, 100))
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
  netpool::InitLogging(flags.log_level);
  return netpool::Run(flags, shutdown);
}
