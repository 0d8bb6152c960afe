// netpoold: the netpool scheduler daemon. Wires the command line to a
// SchedulerRuntime (the scheduling core and its store), the authenticator
// and the two gRPC services, prints the address it listens on, rereads its
// token file on SIGHUP, and stops on SIGTERM/SIGINT: it stops accepting
// calls, then commits everything the store has queued and exits 0.
//
// Every call needs a token. The scheduler's own admin token is made on
// first start and kept in the data directory; on loopback a copy is left for
// the same user (local_token.h), so that its owner needs no set-up. Beyond
// loopback it needs TLS and a token file, or --insecure.
#include <sys/stat.h>
#include <unistd.h>

#include <cmath>
#include <csignal>
#include <cstdio>
#include <memory>
#include <string>
#include <utility>

#include "CLI/CLI.hpp"
#include "absl/strings/str_cat.h"
#include "common/host_address.h"
#include "common/local_token.h"
#include "common/private_file.h"
#include "common/program_flags.h"
#include "common/shutdown_signal.h"
#include "common/transport.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/health_check_service_interface.h"
#include "grpcpp/server_builder.h"
#include "server/auth/authenticator.h"
#include "server/core/clock.h"
#include "server/http/http_endpoint.h"
#include "server/http/scheduler_metrics.h"
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
  std::string http = "127.0.0.1:7341";
  bool http_given = false;  // --http was on the command line
  ServerTls tls;
  std::string token_file;
  bool insecure = false;
  int64_t max_pending_per_client = 0;
  ClientLimits client_limits;
  netpool::ProgramFlags program;
  int default_max_attempts = 3;
  double lease_timeout_seconds = 15;
  double result_ttl_seconds = 86400;
  double retry_backoff_seconds = 1;
  double heartbeat_interval_seconds = 5;
  double restart_grace_seconds = 5;
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

// The rule of both ports: one that is not on loopback needs TLS and a token
// file, or --insecure. Otherwise prints why `host` is refused ("refusing to
// `verb` HOST..., `risk`") and returns false.
bool MayServe(const Flags& flags, const std::string& host, const char* verb, const char* risk) {
  if (IsLoopbackHost(host) || (flags.tls.enabled() && !flags.token_file.empty()) ||
      flags.insecure) {
    return true;
  }
  std::fprintf(stderr,
               "netpoold: refusing to %s %s, which is not loopback, without both TLS "
               "(--tls-cert, --tls-key) and a token file (--token-file)%s. Pass --insecure to "
               "do it anyway\n",
               verb, host.c_str(), risk);
  return false;
}

absl::StatusOr<std::unique_ptr<Store>> OpenStore(const Flags& flags) {
  if (flags.store == "memory") return std::make_unique<MemoryStore>();
  absl::StatusOr<std::unique_ptr<SqliteStore>> store = SqliteStore::Open(flags.data_dir);
  if (!store.ok()) return store.status();
  return std::unique_ptr<Store>(*std::move(store));
}

constexpr char kOwnerTokenFile[] = "admin.token";

// The scheduler's own admin token: the data directory's, made on first
// start. A volatile scheduler on a fixed loopback port keeps the one its
// user already has for that port, so that clients outlive its restarts.
absl::StatusOr<std::string> OwnerToken(const Flags& flags, int port, bool loopback) {
  if (flags.store == "sqlite") {
    const std::string path = absl::StrCat(flags.data_dir, "/", kOwnerTokenFile);
    absl::StatusOr<std::string> content = ReadPrivateFile(path);
    if (content.ok()) {
      std::string token = TokenFromFileContent(*content);
      if (!token.empty()) return token;
    } else if (!absl::IsNotFound(content.status())) {
      return content.status();
    }
    std::string token = NewToken();
    if (absl::Status s = WritePrivateFile(path, token + "\n"); !s.ok()) return s;
    return token;
  }
  if (loopback && port != 0) {
    if (std::optional<std::string> token = ReadLocalToken(port)) return *token;
  }
  return NewToken();
}

// Serves until SIGTERM/SIGINT. Returning destroys the runtime and with it
// the store, which commits what it has queued.
// `host` and `port` are those of --listen; `loopback` whether host is.
int Serve(const Flags& flags, const std::string& host, int port, bool loopback,
          std::unique_ptr<Store> store, ShutdownSignal& shutdown) {
  absl::StatusOr<std::string> owner_token = OwnerToken(flags, port, loopback);
  if (!owner_token.ok()) {
    std::fprintf(stderr, "netpoold: the scheduler's admin token: %s\n",
                 std::string(owner_token.status().message()).c_str());
    return 1;
  }
  Authenticator::Options auth_options;
  auth_options.token_file = flags.token_file;
  auth_options.owner_token = *owner_token;
  auth_options.require_node_certificate = !flags.tls.client_ca_file.empty();
  absl::StatusOr<std::unique_ptr<Authenticator>> authenticator =
      Authenticator::Create(auth_options);
  if (!authenticator.ok()) {
    std::fprintf(stderr, "netpoold: %s\n", std::string(authenticator.status().message()).c_str());
    return kExitUsage;
  }
  absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> credentials =
      MakeServerCredentials(flags.tls);
  if (!credentials.ok()) {
    std::fprintf(stderr, "netpoold: %s\n", std::string(credentials.status().message()).c_str());
    return kExitUsage;
  }

  RealClock clock;
  SchedulerMetrics metrics(&clock);
  SchedulerRuntime::Options options;
  // Without --http nobody reads the counts: no counting on the hot path.
  const bool counting = flags.http != "off";
  options.events = counting ? &metrics : nullptr;
  options.scheduler.default_max_attempts = flags.default_max_attempts;
  options.scheduler.lease_timeout = absl::Seconds(flags.lease_timeout_seconds);
  options.scheduler.result_ttl = absl::Seconds(flags.result_ttl_seconds);
  options.scheduler.default_retry_backoff = absl::Seconds(flags.retry_backoff_seconds);
  options.heartbeat_interval = absl::Seconds(flags.heartbeat_interval_seconds);
  options.scheduler.restart_grace = absl::Seconds(flags.restart_grace_seconds);
  options.scheduler.max_unfinished_per_owner = flags.max_pending_per_client;
  if (counting) {
    store->SetCommitObserver([&metrics](absl::Duration took) { metrics.OnStoreCommit(took); });
  }
  SchedulerRuntime runtime(&clock, std::move(store), options);
  SchedulerService scheduler_service(&runtime, authenticator->get(), flags.client_limits);
  WorkerHubService worker_hub_service(&runtime, authenticator->get());

  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  int bound_port = 0;
  builder.AddListeningPort(flags.listen, *credentials, &bound_port);
  ConfigureSchedulerServer(builder, &scheduler_service, &worker_hub_service,
                           counting ? &metrics : nullptr);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || bound_port == 0) {
    std::fprintf(stderr, "netpoold: cannot listen on %s\n", flags.listen.c_str());
    return kExitUnavailable;
  }
  // Before "listening on": a client started once that is printed finds it.
  if (loopback) {
    if (absl::Status s = WriteLocalToken(bound_port, *owner_token); !s.ok()) {
      spdlog::warn("cannot leave the admin token for this user ({}); give clients --token-file {}",
                   std::string(s.message()),
                   flags.store == "sqlite" ? absl::StrCat(flags.data_dir, "/", kOwnerTokenFile)
                                           : std::string("(none: use --token-file)"));
    }
  }
  std::printf("listening on %s:%d\n", host.c_str(), bound_port);
  spdlog::info("netpoold listening on {}:{} ({}, {} tokens)", host, bound_port,
               flags.tls.enabled() ? "TLS" : "plaintext", (*authenticator)->token_count());
  std::unique_ptr<HttpEndpoint> http;
  if (flags.http != "off") {
    HttpEndpoint::Options http_options;
    SplitHostPort(flags.http, &http_options.host, &http_options.port);  // checked in Run
    http_options.tls = flags.tls;
    absl::StatusOr<std::unique_ptr<HttpEndpoint>> started =
        HttpEndpoint::Start(http_options, &runtime, &metrics, authenticator->get());
    if (started.ok()) {
      http = *std::move(started);
      std::printf("http on %s:%d\n", http_options.host.c_str(), http->port());
    } else if (flags.http_given) {
      std::fprintf(stderr, "netpoold: %s\n", std::string(started.status().message()).c_str());
      if (loopback) RemoveLocalToken(bound_port, *owner_token);
      server->Shutdown();
      return absl::IsUnavailable(started.status()) ? kExitUnavailable : kExitUsage;
    } else {
      // The default address is taken (another netpoold on this machine):
      // this one runs without metrics rather than not at all.
      spdlog::warn("{}; serving without HTTP (give --http HOST:PORT or --http off)",
                   std::string(started.status().message()));
    }
  }
  std::fflush(stdout);

  int signal = shutdown.Wait();
  for (; signal == SIGHUP; signal = shutdown.Wait()) {
    if (absl::Status s = (*authenticator)->Reload(); !s.ok()) {
      spdlog::error("SIGHUP: keeping the tokens in use: {}", std::string(s.message()));
    } else {
      spdlog::info("SIGHUP: token file reloaded, {} tokens", (*authenticator)->token_count());
      runtime.EndRevokedWorkerStreams(
          [&](const Identity& node) { return (*authenticator)->StillValid(node); });
    }
  }
  spdlog::info("signal {} received; shutting down", signal);
  if (loopback) RemoveLocalToken(bound_port, *owner_token);
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
  const bool loopback = IsLoopbackHost(host);
  if (!MayServe(flags, host, "listen on",
                ": anyone who reaches it could run commands as the workers' users")) {
    return kExitUsage;
  }
  if (!loopback && !(flags.tls.enabled() && !flags.token_file.empty())) {
    // Every start, so that it cannot go unnoticed in the log.
    spdlog::warn("--insecure: listening on {}, which is not loopback, without {}", host,
                 flags.tls.enabled()
                     ? "a token file (only the admin token in the data directory admits callers)"
                     : "TLS: anyone on the network can read and alter what is sent, tokens too");
  }
  if (flags.http != "off") {
    std::string http_host;
    int http_port = 0;
    if (!SplitHostPort(flags.http, &http_host, &http_port)) {
      std::fprintf(stderr, "netpoold: --http must be HOST:PORT or off, got \"%s\"\n",
                   flags.http.c_str());
      return kExitUsage;
    }
    if (!MayServe(flags, http_host, "serve HTTP on", "")) return kExitUsage;
    if (!IsLoopbackHost(http_host) && !flags.tls.enabled()) {
      spdlog::warn("--insecure: serving HTTP on {}, which is not loopback, without TLS: anyone "
                   "on the network can read the tokens sent to it",
                   http_host);
    }
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
  const int exit_code = Serve(flags, host, port, loopback, *std::move(store), shutdown);
  if (exit_code == 0) spdlog::info("store flushed");
  return exit_code;
}

}  // namespace
}  // namespace netpool

int main(int argc, char** argv) {
  // First: every thread inherits the blocked mask.
  netpool::ShutdownSignal shutdown(/*reload_on_hangup=*/true);
  // What netpoold writes (the store, its tokens) is its user's alone.
  ::umask(077);
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
  app.add_option("--http", flags.http,
                 "HOST:PORT for /healthz, /readyz and /metrics (port 0 picks one), or off; "
                 "HTTPS with --tls-cert; if the default is taken, netpoold runs without it")
      ->capture_default_str();
  app.add_option("--tls-cert", flags.tls.cert_file, "PEM certificate to serve TLS with");
  app.add_option("--tls-key", flags.tls.key_file, "PEM private key of --tls-cert (mode 0600)");
  app.add_option("--tls-client-ca", flags.tls.client_ca_file,
                 "PEM CA whose certificate every worker node must present (mutual TLS)");
  app.add_option("--token-file", flags.token_file,
                 "tokens, one per line: ROLE NAME SECRET (ROLE client|worker|admin; SECRET the "
                 "token or sha256:HEX); mode 0600; reread on SIGHUP");
  app.add_option("--max-pending-per-client", flags.max_pending_per_client,
                 "unfinished jobs one identity may have; 0: no limit")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app.add_option("--max-client-buffer", flags.client_limits.max_client_buffer,
                 "bytes of results queued for one Watch stream; a client that stops reading "
                 "past this is cut off (RESOURCE_EXHAUSTED), its jobs unaffected")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--max-streams-per-client", flags.client_limits.max_streams_per_client,
                 "open Watch streams one identity may have; 0: no limit")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app.add_option("--max-waiting-per-client", flags.client_limits.max_waiting_per_client,
                 "Gets one identity may have waiting for a result; 0: no limit")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app.add_flag("--insecure", flags.insecure,
               "allow a non-loopback --listen without TLS and a token file");
  app.add_option("--default-max-attempts", flags.default_max_attempts,
                 "attempts for jobs that do not set max_attempts")
      ->check(CLI::Range(1, 100))
      ->capture_default_str();
  app.add_option("--restart-grace", flags.restart_grace_seconds,
                 "seconds after a restart, from the first worker node back, before queued jobs "
                 "are handed out, so that nodes return with the jobs they ran first")
      ->check(CLI::NonNegativeNumber)
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
  netpool::AddProgramFlags(app, "netpoold", &flags.program);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "netpoold: %s\n", netpool::UsageErrorText(e).c_str());
    return netpool::kExitUsage;
  }
  flags.http_given = app.count("--http") > 0;
  netpool::SetUpProgram(flags.program);
  return netpool::Run(flags, shutdown);
}
