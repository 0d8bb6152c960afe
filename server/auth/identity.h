// Who is calling netpoold, as its credential says, and what that may do.
//
// Roles: a `client` submits jobs and reads, waits on and cancels its own; a
// `worker` may only run jobs (the WorkerHub stream); an `admin` may do
// everything, to every job. A job belongs to the identity that submitted it.
#ifndef NETPOOL_SERVER_AUTH_IDENTITY_H_
#define NETPOOL_SERVER_AUTH_IDENTITY_H_

#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace netpool {

enum class Role { kClient, kWorker, kAdmin };

absl::string_view RoleName(Role role);
std::optional<Role> ParseRole(absl::string_view name);

struct Identity {
  Role role = Role::kClient;
  // The token's name from the token file, or a certificate's common name.
  std::string name;
  // Which token it presented (its SHA-256), so that a stream it opened can
  // be ended once that token is revoked.
  std::string credential;

  bool admin() const { return role == Role::kAdmin; }
  // May see and act on a job submitted by `owner`.
  bool Owns(const std::string& owner) const { return admin() || owner == name; }
};

// True for names a token file may give: 1-64 of [A-Za-z0-9_.@-].
bool IsValidIdentityName(absl::string_view name);

// The name a worker node connecting as `identity` is listed under, given the
// name it asked for. An admin may use any name. A worker credential named N
// owns N and N/anything: it may ask for those; a node that did not choose
// its name (`chosen` false: netpool-worker's HOST-PID default) is listed as
// N/NAME. Any other name is someone else's: kPermissionDenied.
absl::StatusOr<std::string> BindNodeName(const Identity& identity, const std::string& asked,
                                         bool chosen);

}  // namespace netpool

#endif  // NETPOOL_SERVER_AUTH_IDENTITY_H_
