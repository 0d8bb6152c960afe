#include "server/http/http_endpoint.h"

#include <sys/socket.h>

#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "httplib.h"
#include "server/http/api_v1.h"
#include "server/http/dashboard.h"
#include "server/http/http_access.h"
#include "server/http/scheduler_metrics.h"
#include "server/scheduler_runtime.h"
#include "spdlog/spdlog.h"

namespace netpool {
namespace {

// Probes and scrapes are small and rare: a few threads serve them, and a
// client that sends or reads slowly is dropped after a few seconds.
constexpr int kThreads = 4;
constexpr time_t kIoTimeoutSeconds = 5;
constexpr size_t kMaxRequestBody = 64 * 1024;

void Reply(httplib::Response& response, int code, const std::string& text) {
  response.status = code;
  response.set_content(text, "text/plain; charset=utf-8");
}

// Whether the caller's token admits it to `what`; otherwise fills in the
// refusal (401 or 403, saying why).
bool Admitted(const Authenticator& authenticator, const httplib::Request& request,
              httplib::Response& response, absl::string_view what) {
  absl::StatusOr<Identity> caller =
      AuthenticateRequest(authenticator, request, what, {Role::kClient, Role::kAdmin});
  if (caller.ok()) return true;
  Reply(response, HttpStatusFor(caller.status(), response),
        absl::StrCat(caller.status().message(), "\n"));
  return false;
}

}  // namespace

HttpEndpoint::HttpEndpoint(std::unique_ptr<httplib::Server> server, int port)
    : server_(std::move(server)), port_(port) {
  thread_ = std::thread([this] {
    server_->listen_after_bind();
    stopped_.Notify();
  });
}

HttpEndpoint::~HttpEndpoint() {
  // stop() does nothing until the server runs, which it may not do yet
  // when netpoold stops right after it started.
  do {
    server_->stop();
  } while (!stopped_.WaitForNotificationWithTimeout(absl::Milliseconds(20)));
  thread_.join();
}

absl::StatusOr<std::unique_ptr<HttpEndpoint>> HttpEndpoint::Start(
    const Options& options, SchedulerRuntime* runtime, const SchedulerMetrics* metrics,
    const Authenticator* authenticator) {
  std::unique_ptr<httplib::Server> server;
  if (options.tls.enabled()) {
    auto https = std::make_unique<httplib::SSLServer>(options.tls.cert_file.c_str(),
                                                      options.tls.key_file.c_str());
    if (!https->is_valid()) {
      return absl::InvalidArgumentError(absl::StrCat("--http: cannot serve HTTPS with ",
                                                     options.tls.cert_file, " and ",
                                                     options.tls.key_file));
    }
    server = std::move(https);
  } else {
    server = std::make_unique<httplib::Server>();
  }
  server->new_task_queue = [] { return new httplib::ThreadPool(kThreads); };
  // cpp-httplib's default also sets SO_REUSEPORT, with which a second
  // netpoold of the same user would share the port, each answering some of
  // the requests, instead of failing to bind.
  server->set_socket_options([](socket_t socket) {
    int yes = 1;
    ::setsockopt(socket, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  });
  server->set_read_timeout(kIoTimeoutSeconds, 0);
  server->set_write_timeout(kIoTimeoutSeconds, 0);
  server->set_keep_alive_timeout(kIoTimeoutSeconds);
  server->set_payload_max_length(kMaxRequestBody);

  server->Get("/healthz", [](const httplib::Request&, httplib::Response& response) {
    Reply(response, 200, "ok\n");
  });
  server->Get("/readyz", [runtime](const httplib::Request&, httplib::Response& response) {
    const v1::GetStatsResponse stats = runtime->Stats();
    if (stats.ready()) {
      Reply(response, 200, "ready\n");
    } else {
      Reply(response, 503, absl::StrCat("not ready: ", stats.not_ready_reason(), "\n"));
    }
  });
  server->Get("/metrics", [runtime, metrics, authenticator](const httplib::Request& request,
                                                           httplib::Response& response) {
    if (!Admitted(*authenticator, request, response, "GET /metrics")) return;
    const v1::GetStatsResponse stats = runtime->Stats();
    const std::vector<v1::WorkerStatus> workers = runtime->ListWorkers();
    response.set_content(metrics->Render(stats, workers, runtime->QueueDepths()),
                         "text/plain; version=0.0.4");
  });

  ServeApiV1(*server, runtime, &metrics->history(), authenticator);
  ServeDashboard(*server);

  int port = options.port;
  if (port == 0) {
    port = server->bind_to_any_port(options.host);
  } else if (!server->bind_to_port(options.host, port)) {
    port = -1;
  }
  if (port <= 0) {
    return absl::UnavailableError(
        absl::StrCat("--http: cannot listen on ", options.host, ":", options.port));
  }
  return std::unique_ptr<HttpEndpoint>(new HttpEndpoint(std::move(server), port));
}

}  // namespace netpool
