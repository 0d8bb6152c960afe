#include "worker/http/node_http.h"

#include <memory>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/http_server.h"
#include "httplib.h"
#include "worker/http/node_metrics.h"
#include "worker/node_http_hook.h"

namespace netpool {
namespace {

class NodeHttp final : public NodeHttpSide {
 public:
  NodeHttp(std::unique_ptr<HttpServer> server, std::string token)
      : token_(std::move(token)), server_(std::move(server)) {
    server_->routes().Get("/healthz", [](const httplib::Request&, httplib::Response& response) {
      ReplyText(response, 200, "ok\n");
    });
    server_->routes().Get("/metrics", [this](const httplib::Request& request,
                                             httplib::Response& response) {
      if (absl::Status admitted = CheckBearerToken(request, token_); !admitted.ok()) {
        ReplyText(response, HttpStatusFor(admitted, response),
                  absl::StrCat(admitted.message(), "\n"));
        return;
      }
      response.set_content(metrics_.Render(), "text/plain; version=0.0.4");
    });
  }

  PoolObserver* observer() override { return &metrics_; }

  absl::StatusOr<int> Start(const std::string& host, int port) override {
    if (absl::Status started = server_->Start(host, port); !started.ok()) return started;
    return server_->port();
  }

 private:
  // Before server_, whose threads read them until it stops.
  NodeMetrics metrics_;
  const std::string token_;
  const std::unique_ptr<HttpServer> server_;
};

absl::StatusOr<std::unique_ptr<NodeHttpSide>> MakeNodeHttp(const ServerTls& tls,
                                                           std::string token) {
  absl::StatusOr<std::unique_ptr<HttpServer>> server = HttpServer::Create(tls, "--http");
  if (!server.ok()) return server.status();
  return std::make_unique<NodeHttp>(*std::move(server), std::move(token));
}

}  // namespace

void EnableNodeHttp() { SetNodeHttpFactory(&MakeNodeHttp); }

}  // namespace netpool
