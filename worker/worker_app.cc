// netpool::Init and WorkerApp::Main: the entry points of a worker
// executable, which runs either as a node agent or, when spawned by one, as
// a worker process.
#include <pthread.h>
#include <signal.h>

#include <atomic>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <tuple>

#include "CLI/CLI.hpp"
#include "common/host_address.h"
#include "common/program_flags.h"
#include "common/shutdown_signal.h"
#include "netpool/worker.h"
#include "spdlog/spdlog.h"
#include "worker/builtins.h"
#include "worker/node_agent.h"
#include "worker/node_http_hook.h"
#include "worker/process_policy.h"
#include "worker/worker_process.h"

namespace netpool {
namespace {

constexpr int kUsageExitCode = 64;        // EX_USAGE
constexpr int kUnavailableExitCode = 69;  // EX_UNAVAILABLE

std::atomic<NodeHttpFactory> node_http_factory{nullptr};

std::string DefaultScheduler() {
  const char* env = std::getenv("NETPOOL_SCHEDULER");
  return env != nullptr && *env != '\0' ? env : "127.0.0.1:7340";
}

// Hands every SIGINT/SIGTERM to the node agent from a thread of its own,
// while the main thread waits on the agent: the first starts the drain, a
// second one cuts it short.
class SignalForwarder {
 public:
  SignalForwarder(ShutdownSignal* signal, NodeAgent* agent)
      : thread_([this, signal, agent] {
          while (true) {
            int signo = signal->Wait();
            if (done_) return;
            spdlog::info("received {}", strsignal(signo));
            agent->RequestShutdown();
          }
        }) {}
  SignalForwarder(const SignalForwarder&) = delete;
  SignalForwarder& operator=(const SignalForwarder&) = delete;

  ~SignalForwarder() {
    done_ = true;
    // Every thread blocks the signal, so one aimed at this thread ends its
    // sigwait (now, or at once if it is not waiting yet).
    pthread_kill(thread_.native_handle(), SIGTERM);
    thread_.join();
  }

 private:
  std::atomic<bool> done_{false};  // before thread_, which reads it
  std::thread thread_;
};

// --init-args: a JSON list.
absl::StatusOr<std::vector<Value>> ParseInitArgs(const std::string& json) {
  absl::StatusOr<Value> args = Value::FromJson(json);
  if (!args.ok()) return args.status();
  if (!args->is_list()) return absl::InvalidArgumentError("expected a JSON list");
  return args->AsList();
}

// --http HOST:PORT as NodeHttpSide::Start takes it; nullopt (after saying
// why on stderr) when the node must not serve it.
struct HttpAddress {
  std::string host;
  int port = 0;
};
std::optional<HttpAddress> CheckHttpFlag(const std::string& flag, const ServerTls& tls) {
  HttpAddress address;
  if (!SplitHostPort(flag, &address.host, &address.port)) {
    std::cerr << "netpool-worker: --http must be HOST:PORT or off, got \"" << flag << "\"\n";
    return std::nullopt;
  }
  if (GetNodeHttpFactory() == nullptr) {
    std::cerr << "netpool-worker: --http: this worker program was built without the HTTP side "
                 "(netpool_node_http, EnableNodeHttp())\n";
    return std::nullopt;
  }
  if (!IsLoopbackHost(address.host) && !tls.enabled()) {
    std::cerr << "netpool-worker: refusing to serve HTTP on " << address.host
              << ", which is not loopback, without TLS (anyone on the network could read the "
                 "node's token): give --tls-cert and --tls-key\n";
    return std::nullopt;
  }
  return address;
}

}  // namespace

void SetNodeHttpFactory(NodeHttpFactory factory) { node_http_factory.store(factory); }

NodeHttpFactory GetNodeHttpFactory() { return node_http_factory.load(); }

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
  std::vector<std::string> labels;
  ProgramFlags program;
  double grace_seconds = 30;
  std::string init_args = "[]";
  std::string max_memory;
  std::string max_output;
  std::string http = "off";

  CLI::App app("netpool worker node: runs jobs from a netpool scheduler in worker processes",
               "netpool-worker");
  app.add_option("--scheduler", options.scheduler,
                 "scheduler address HOST:PORT (default: $NETPOOL_SCHEDULER or 127.0.0.1:7340)");
  app.add_option("--tls-ca", options.security.tls_ca_file,
                 "use TLS, trusting this CA certificate (PEM; env NETPOOL_TLS_CA)");
  app.add_option("--tls-cert", options.security.tls_cert_file,
                 "this node's certificate (PEM), for a scheduler with --tls-client-ca, and for "
                 "HTTPS on --http");
  app.add_option("--tls-key", options.security.tls_key_file,
                 "the private key of --tls-cert (PEM, mode 0600)");
  app.add_option("--token-file", options.security.token_file,
                 "file holding the node's token, a worker token (mode 0600; else env "
                 "NETPOOL_TOKEN, or on loopback the token netpoold left for its own user)");
  app.add_option("--processes", options.processes, "worker processes (default: one per core)")
      ->check(CLI::Range(1, 4096));
  app.add_option("--name", options.name, "node name (default: HOSTNAME-PID)");
  app.add_option("--label", labels, "KEY=VALUE label for placement; repeatable");
  app.add_option("--max-tasks-per-child", options.max_tasks_per_child,
                 "replace a worker process after this many jobs (0: never)")
      ->check(CLI::Range(0, std::numeric_limits<int>::max()));
  app.add_option("--prefetch", options.prefetch,
                 "jobs the node may hold queued beyond its processes while its jobs are short "
                 "(under ~10 ms of queued work per process), so that processes do not idle "
                 "waiting for the scheduler; 0: none (default: 64)")
      ->check(CLI::Range(0, 100'000));
  // Given twice (e.g. by a wrapper and by the user) it is still one yes.
  CLI::Option* allow_exec =
      app.add_flag("--allow-exec", options.policy.allow_exec,
                   "let jobs run commands on this host with the exec built-in (default: off; "
                   "the node then does not offer exec)")
          ->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  app.add_option("--exec-allow", options.policy.exec_allow,
                 "with --allow-exec: exec runs only a command whose argv[0] matches this "
                 "fnmatch(3) glob, e.g. '/usr/bin/*' or sh ('*' does not match '/'); repeatable")
      ->needs(allow_exec);
  app.add_option("--max-memory", max_memory,
                 "address space limit of each worker process and the commands it runs "
                 "(RLIMIT_AS), in bytes or with K, M or G, e.g. 512M (default: none)");
  app.add_option("--max-output", max_output,
                 "bytes of each of stdout and stderr that exec keeps of a command, with K or M, "
                 "e.g. 1M; a result with more is cut there and marked stdout_truncated / "
                 "stderr_truncated (default: 16M, at most 30M)");
  app.add_option("--max-open-files", options.policy.max_open_files,
                 "open file limit of each worker process and the commands it runs "
                 "(RLIMIT_NOFILE; default: the node's own)")
      ->check(CLI::Range(16, 1 << 30));
  app.add_option("--run-as", options.policy.run_as,
                 "user that the worker processes run as; the node itself must run as root");
  app.add_option("--grace", grace_seconds,
                 "on SIGTERM/SIGINT, seconds that running jobs get to finish before they are "
                 "killed and requeued; a second signal ends them at once (default: 30)");
  CLI::Option* init = app.add_option(
      "--init", options.initializer.function,
      "registered function that each worker process runs once before its first job");
  app.add_option("--init-args", init_args, "the --init function's arguments, a JSON list")
      ->needs(init);
  app.add_option("--http", http,
                 "HOST:PORT for /healthz and /metrics (port 0 picks one; printed as \"http on "
                 "HOST:PORT\"), or off; /metrics needs the node's token (Authorization: Bearer "
                 "TOKEN); beyond loopback only HTTPS, with --tls-cert and --tls-key")
      ->capture_default_str();
  AddProgramFlags(app, "netpool-worker", &program);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    std::cout << app.help();
    return 0;
  } catch (const CLI::CallForVersion& e) {
    std::cout << e.what() << "\n";
    return 0;
  } catch (const CLI::ParseError& e) {
    std::cerr << "netpool-worker: " << UsageErrorText(e) << "\n";
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
  if (!std::isfinite(grace_seconds) || grace_seconds < 0) {
    std::cerr << "netpool-worker: --grace: expected a number of seconds >= 0\n";
    return kUsageExitCode;
  }
  absl::StatusOr<std::vector<Value>> parsed_init_args = ParseInitArgs(init_args);
  if (!parsed_init_args.ok()) {
    std::cerr << "netpool-worker: --init-args: " << parsed_init_args.status().message() << "\n";
    return kUsageExitCode;
  }
  options.initializer.args = *std::move(parsed_init_args);
  if (absl::Status s = CheckInitializer(options.initializer); !s.ok()) {
    std::cerr << "netpool-worker: --init: " << s.message() << "\n";
    return kUsageExitCode;
  }
  for (auto [flag, text, bytes] : {std::make_tuple("--max-memory", &max_memory,
                                                    &options.policy.max_memory_bytes),
                                    std::make_tuple("--max-output", &max_output,
                                                    &options.policy.max_output_bytes)}) {
    if (text->empty()) continue;
    absl::StatusOr<uint64_t> parsed = ParseByteSize(*text);
    if (!parsed.ok()) {
      std::cerr << "netpool-worker: " << flag << ": " << parsed.status().message() << "\n";
      return kUsageExitCode;
    }
    *bytes = *parsed;
  }
  if (absl::Status s = CheckProcessPolicy(options.policy); !s.ok()) {
    std::cerr << "netpool-worker: " << s.message() << "\n";
    return kUsageExitCode;
  }
  const ServerTls http_tls = {.cert_file = options.security.tls_cert_file,
                              .key_file = options.security.tls_key_file};
  std::optional<HttpAddress> http_address;
  if (http != "off") {
    http_address = CheckHttpFlag(http, http_tls);
    if (!http_address.has_value()) return kUsageExitCode;
  }
  SetUpProgram(program);
  // A bad token or key file is a usage error now, not a retry loop later.
  absl::StatusOr<ClientTransport> transport =
      ClientTransport::Create(options.scheduler, options.security);
  if (!transport.ok()) {
    std::cerr << "netpool-worker: " << transport.status().message() << "\n";
    return kUsageExitCode;
  }

  // Before the agent, which reports to it, and gone after it.
  std::unique_ptr<NodeHttpSide> http_side;
  if (http_address.has_value()) {
    if (!transport->has_token()) {
      spdlog::warn("--http: this node has no token, so /metrics admits nobody");
    }
    absl::StatusOr<std::unique_ptr<NodeHttpSide>> made =
        GetNodeHttpFactory()(http_tls, transport->token());
    if (!made.ok()) {
      std::cerr << "netpool-worker: " << made.status().message() << "\n";
      return kUsageExitCode;
    }
    http_side = *std::move(made);
    absl::StatusOr<int> port = http_side->Start(http_address->host, http_address->port);
    if (!port.ok()) {
      std::cerr << "netpool-worker: " << port.status().message() << "\n";
      return absl::IsUnavailable(port.status()) ? kUnavailableExitCode : kUsageExitCode;
    }
    std::cout << "http on " << http_address->host << ":" << *port << std::endl;
    options.observer = http_side->observer();
  }
  NodeAgent agent(options);
  agent.Start();
  absl::Status failure;
  {
    SignalForwarder signals(&shutdown_signal, &agent);
    failure = agent.WaitForShutdownRequest();
    if (failure.ok()) agent.Drain(absl::Seconds(grace_seconds));
  }
  agent.Stop();
  if (!failure.ok()) {
    std::cerr << "netpool-worker: " << failure.message() << "\n";
    return 1;
  }
  spdlog::info("stopped");
  return 0;
}

}  // namespace netpool
