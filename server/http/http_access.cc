#include "server/http/http_access.h"

#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "httplib.h"
#include "server/auth/authenticator.h"

namespace netpool {

absl::StatusOr<Identity> AuthenticateRequest(const Authenticator& authenticator,
                                             const httplib::Request& request,
                                             absl::string_view what,
                                             std::initializer_list<Role> roles) {
  const std::string header = request.get_header_value("Authorization");
  std::optional<absl::string_view> authorization;
  if (request.has_header("Authorization")) authorization = header;
  return authenticator.AuthenticateHeader(
      authorization, absl::StrCat(request.remote_addr, ":", request.remote_port), what, roles);
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
