// Who an HTTP request to netpoold comes from: its token, given as a gRPC
// call gives it ("Authorization: Bearer TOKEN"), checked by the same
// Authenticator. The HTTP status that answers a refusal or an error is
// HttpStatusFor (common/http_server.h).
#ifndef NETPOOL_SERVER_HTTP_HTTP_ACCESS_H_
#define NETPOOL_SERVER_HTTP_HTTP_ACCESS_H_

#include <initializer_list>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/http_server.h"
#include "server/auth/identity.h"

namespace httplib {
struct Request;
struct Response;
}  // namespace httplib

namespace netpool {

class Authenticator;

// The caller, when its token is valid and its role one of `roles`;
// kUnauthenticated or kPermissionDenied (saying why) otherwise.
absl::StatusOr<Identity> AuthenticateRequest(const Authenticator& authenticator,
                                             const httplib::Request& request,
                                             absl::string_view what,
                                             std::initializer_list<Role> roles);

}  // namespace netpool

#endif  // NETPOOL_SERVER_HTTP_HTTP_ACCESS_H_
