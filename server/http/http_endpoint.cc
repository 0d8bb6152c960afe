#include "server/http/http_endpoint.h"

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

// Whether the caller's token admits it to `what`; otherwise fills in the
// refusal (401 or 403, saying why).
bool Admitted(const Authenticator& authenticator, const httplib::Request& request,
              httplib::Response& response, absl::string_view what) {
  absl::StatusOr<Identity> caller =
      AuthenticateRequest(authenticator, request, what, {Role::kClient, Role::kAdmin});
  if (caller.ok()) return true;
  ReplyText(response, HttpStatusFor(caller.status(), response),
        absl::StrCat(caller.status().message(), "\n"));
  return false;
}

}  // namespace

absl::StatusOr<std::unique_ptr<HttpEndpoint>> HttpEndpoint::Start(
    const Options& options, SchedulerRuntime* runtime, const SchedulerMetrics* metrics,
    const Authenticator* authenticator) {
  absl::StatusOr<std::unique_ptr<HttpServer>> http = HttpServer::Create(options.tls, "--http");
  if (!http.ok()) return http.status();
  httplib::Server* server = &(*http)->routes();
  server->Get("/healthz", [](const httplib::Request&, httplib::Response& response) {
    ReplyText(response, 200, "ok\n");
  });
  server->Get("/readyz", [runtime](const httplib::Request&, httplib::Response& response) {
    const v1::GetStatsResponse stats = runtime->Stats();
    if (stats.ready()) {
      ReplyText(response, 200, "ready\n");
    } else {
      ReplyText(response, 503, absl::StrCat("not ready: ", stats.not_ready_reason(), "\n"));
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

  if (absl::Status started = (*http)->Start(options.host, options.port); !started.ok()) {
    return started;
  }
  return std::unique_ptr<HttpEndpoint>(new HttpEndpoint(*std::move(http)));
}

}  // namespace netpool
