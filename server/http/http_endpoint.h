// HttpEndpoint is netpoold's HTTP side (--http): the probes /healthz (the
// process answers) and /readyz (it accepts jobs and dispatches), and
// /metrics in the Prometheus text format, the JSON API under /api/v1/
// (api_v1.h), and the dashboard at / (dashboard.h). It follows the gRPC
// port's rules: beyond loopback it serves only HTTPS with the same
// certificate (main.cc checks), and everything but the two probes and the
// dashboard's files (which hold no data) needs a token, given as a gRPC call
// gives it: "Authorization: Bearer TOKEN".
//
// It serves as common/http_server.h says: a small fixed pool of threads
// with short read and write timeouts.
#ifndef NETPOOL_SERVER_HTTP_HTTP_ENDPOINT_H_
#define NETPOOL_SERVER_HTTP_HTTP_ENDPOINT_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "common/http_server.h"
#include "common/transport.h"

namespace netpool {

class Authenticator;
class SchedulerMetrics;
class SchedulerRuntime;

class HttpEndpoint {
 public:
  struct Options {
    std::string host;
    int port = 0;  // 0: the system picks one (see port())
    ServerTls tls;  // HTTPS when enabled
  };

  // Binds and starts serving. kUnavailable when the address cannot be bound;
  // kInvalidArgument for a certificate or key HTTPS cannot use.
  // REQUIRES: the pointers outlive the endpoint.
  static absl::StatusOr<std::unique_ptr<HttpEndpoint>> Start(const Options& options,
                                                             SchedulerRuntime* runtime,
                                                             const SchedulerMetrics* metrics,
                                                             const Authenticator* authenticator);
  // Stops serving; requests in progress finish first.
  ~HttpEndpoint() = default;
  HttpEndpoint(const HttpEndpoint&) = delete;
  HttpEndpoint& operator=(const HttpEndpoint&) = delete;

  int port() const { return server_->port(); }

 private:
  explicit HttpEndpoint(std::unique_ptr<HttpServer> server) : server_(std::move(server)) {}

  std::unique_ptr<HttpServer> server_;
};

}  // namespace netpool

#endif  // NETPOOL_SERVER_HTTP_HTTP_ENDPOINT_H_
