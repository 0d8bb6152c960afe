// HttpServer is the HTTP side that netpoold (--http: probes, metrics, JSON
// API) and netpool-worker (--http: probes and metrics) both serve, with the
// same rules: HTTPS with the program's certificate when it has one, a small
// fixed pool of threads with short read and write timeouts (slow or idle
// HTTP clients cannot hold the program's threads or grow them), and no
// SO_REUSEPORT (a second program on the port fails to bind instead of
// sharing it). The caller adds its routes, then starts it.
//
//   absl::StatusOr<std::unique_ptr<HttpServer>> http = HttpServer::Create(tls);
//   (*http)->routes().Get("/healthz", ...);
//   absl::Status started = (*http)->Start("127.0.0.1", 0, "--http");
//   int port = (*http)->port();
#ifndef NETPOOL_COMMON_HTTP_SERVER_H_
#define NETPOOL_COMMON_HTTP_SERVER_H_

#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/notification.h"
#include "common/transport.h"

namespace httplib {
class Server;
struct Request;
struct Response;
}  // namespace httplib

namespace netpool {

class HttpServer {
 public:
  // HTTPS with `tls` when enabled, plain HTTP otherwise. kInvalidArgument
  // (naming `flag`) for a certificate or key HTTPS cannot use.
  static absl::StatusOr<std::unique_ptr<HttpServer>> Create(const ServerTls& tls,
                                                            absl::string_view flag);
  // Stops serving; requests in progress finish first.
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Where routes are added. REQUIRES: before Start.
  httplib::Server& routes() { return *server_; }

  // Binds HOST:PORT (port 0: the system picks one, see port()) and serves
  // on a thread of its own. kUnavailable ("FLAG: cannot listen on
  // HOST:PORT") when the address cannot be bound. REQUIRES: called once.
  absl::Status Start(const std::string& host, int port);

  int port() const { return port_; }

 private:
  HttpServer(std::unique_ptr<httplib::Server> server, std::string flag);

  const std::unique_ptr<httplib::Server> server_;
  const std::string flag_;
  int port_ = 0;
  absl::Notification stopped_;  // the server's loop returned
  std::thread thread_;
};

// Answers `code` with `text` as plain text.
void ReplyText(httplib::Response& response, int code, const std::string& text);

// The request's Authorization header, nullopt when it has none.
std::optional<std::string> AuthorizationHeader(const httplib::Request& request);

// OK when the request carries "Authorization: Bearer TOKEN" with this
// `token` (compared in constant time); kUnauthenticated when it carries no
// such header, kPermissionDenied when its token is another. An empty
// `token` admits nobody.
absl::Status CheckBearerToken(const httplib::Request& request, absl::string_view token);

// The HTTP status code for a request that failed with `status`; a 401 also
// tells `response` that a Bearer token is wanted.
int HttpStatusFor(const absl::Status& status, httplib::Response& response);

}  // namespace netpool

#endif  // NETPOOL_COMMON_HTTP_SERVER_H_
