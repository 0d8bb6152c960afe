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
  const std::optional<std::string> header = AuthorizationHeader(request);
  std::optional<absl::string_view> authorization;
  if (header.has_value()) authorization = *header;
  return authenticator.AuthenticateHeader(
      authorization, absl::StrCat(request.remote_addr, ":", request.remote_port), what, roles);
}

}  // namespace netpool
