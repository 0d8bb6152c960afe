#include "common/http_server.h"

#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <sys/socket.h>

#include <utility>

#include "absl/strings/strip.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "httplib.h"

namespace netpool {
namespace {

// Probes and scrapes are small and rare: a few threads serve them, and a
// client that sends or reads slowly is dropped after a few seconds.
constexpr int kThreads = 4;
constexpr time_t kIoTimeoutSeconds = 5;
constexpr size_t kMaxRequestBody = 64 * 1024;

}  // namespace

absl::StatusOr<std::unique_ptr<HttpServer>> HttpServer::Create(const ServerTls& tls,
                                                               absl::string_view flag) {
  std::unique_ptr<httplib::Server> server;
  if (tls.enabled()) {
    auto https =
        std::make_unique<httplib::SSLServer>(tls.cert_file.c_str(), tls.key_file.c_str());
    if (!https->is_valid()) {
      return absl::InvalidArgumentError(absl::StrCat(flag, ": cannot serve HTTPS with ",
                                                     tls.cert_file, " and ", tls.key_file));
    }
    server = std::move(https);
  } else {
    server = std::make_unique<httplib::Server>();
  }
  server->new_task_queue = [] { return new httplib::ThreadPool(kThreads); };
  // cpp-httplib's default also sets SO_REUSEPORT, with which a second
  // program of the same user would share the port, each answering some of
  // the requests, instead of failing to bind.
  server->set_socket_options([](socket_t socket) {
    int yes = 1;
    ::setsockopt(socket, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  });
  server->set_read_timeout(kIoTimeoutSeconds, 0);
  server->set_write_timeout(kIoTimeoutSeconds, 0);
  server->set_keep_alive_timeout(kIoTimeoutSeconds);
  server->set_payload_max_length(kMaxRequestBody);
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(server), std::string(flag)));
}

HttpServer::HttpServer(std::unique_ptr<httplib::Server> server, std::string flag)
    : server_(std::move(server)), flag_(std::move(flag)) {}

HttpServer::~HttpServer() {
  if (!thread_.joinable()) return;
  // stop() does nothing until the server runs, which it may not do yet
  // when the program stops right after it started.
  do {
    server_->stop();
  } while (!stopped_.WaitForNotificationWithTimeout(absl::Milliseconds(20)));
  thread_.join();
}

absl::Status HttpServer::Start(const std::string& host, int port) {
  int bound = port;
  if (port == 0) {
    bound = server_->bind_to_any_port(host);
  } else if (!server_->bind_to_port(host, port)) {
    bound = -1;
  }
  if (bound <= 0) {
    return absl::UnavailableError(absl::StrCat(flag_, ": cannot listen on ", host, ":", port));
  }
  port_ = bound;
  thread_ = std::thread([this] {
    server_->listen_after_bind();
    stopped_.Notify();
  });
  return absl::OkStatus();
}

void ReplyText(httplib::Response& response, int code, const std::string& text) {
  response.status = code;
  response.set_content(text, "text/plain; charset=utf-8");
}

std::optional<std::string> AuthorizationHeader(const httplib::Request& request) {
  if (!request.has_header("Authorization")) return std::nullopt;
  return request.get_header_value("Authorization");
}

absl::Status CheckBearerToken(const httplib::Request& request, absl::string_view token) {
  const std::string header = AuthorizationHeader(request).value_or("");
  absl::string_view given = header;
  if (!absl::ConsumePrefix(&given, kBearerPrefix) || given.empty()) {
    return absl::UnauthenticatedError("give this node's token as \"Authorization: Bearer TOKEN\"");
  }
  // Digests of equal size, compared in constant time: the answer's timing
  // tells nothing of the token, not even its length.
  unsigned char want[SHA256_DIGEST_LENGTH];
  unsigned char got[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(token.data()), token.size(), want);
  SHA256(reinterpret_cast<const unsigned char*>(given.data()), given.size(), got);
  if (token.empty() || CRYPTO_memcmp(want, got, sizeof(want)) != 0) {
    return absl::PermissionDeniedError("not this node's token");
  }
  return absl::OkStatus();
}

int HttpStatusFor(const absl::Status& status, httplib::Response& response) {
  switch (status.code()) {
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kOutOfRange:
      return 400;
    case absl::StatusCode::kUnauthenticated:
      response.set_header("WWW-Authenticate", "Bearer");
      return 401;
    case absl::StatusCode::kPermissionDenied:
      return 403;
    case absl::StatusCode::kNotFound:
      return 404;
    case absl::StatusCode::kUnavailable:
      return 503;
    default:
      return 500;
  }
}

}  // namespace netpool
