// Who an HTTP request to netpoold comes from: its token, given as a gRPC
// call gives it ("Authorization: Bearer TOKEN"), checked by the same
// Authenticator, and the HTTP status that answers a refusal or an error.
#ifndef NETPOOL_SERVER_HTTP_HTTP_ACCESS_H_
#define NETPOOL_SERVER_HTTP_HTTP_ACCESS_H_

#include <initializer_list>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
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

// The HTTP status code for a request that failed with `status`; a 401 also
// tells `response` that a Bearer token is wanted.
int HttpStatusFor(const absl::Status& status, httplib::Response& response);

}  // namespace netpool

#endif  // NETPOOL_SERVER_HTTP_HTTP_ACCESS_H_
