// Authenticator answers, for every call netpoold serves and before any work
// is done for it, who is calling: the identity of the bearer token in the
// call's `authorization` metadata. The tokens are the token file's
// (--token-file, reloaded on SIGHUP) plus the scheduler's own admin token
// (see local_token.h). With --tls-client-ca a worker node must also present
// a certificate from that CA, and its common name is its identity's name.
//
// Every refusal is one audit line in the log, with the caller's address.
#ifndef NETPOOL_SERVER_AUTH_AUTHENTICATOR_H_
#define NETPOOL_SERVER_AUTH_AUTHENTICATOR_H_

#include <initializer_list>
#include <memory>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "grpcpp/server_context.h"
#include "server/auth/identity.h"
#include "server/auth/token_table.h"

namespace netpool {

// The token of an `authorization` metadata value "Bearer TOKEN";
// kUnauthenticated for any other form.
absl::StatusOr<absl::string_view> BearerToken(absl::string_view authorization);

class Authenticator {
 public:
  struct Options {
    std::string token_file;  // empty: only `owner_token`
    // The scheduler's own admin token and its name.
    std::string owner_token;
    std::string owner_name = "owner";
    // --tls-client-ca is set: worker nodes need a certificate from it.
    bool require_node_certificate = false;
  };

  // Reads the token file. Errors: the file's (it must be private, mode
  // 0600) or its content's (TokenTable::Parse), naming the file.
  static absl::StatusOr<std::unique_ptr<Authenticator>> Create(Options options);

  // Reads the token file again; on error keeps the tokens it had.
  absl::Status Reload() ABSL_LOCKS_EXCLUDED(mu_);

  // The caller of `method`, if its token is valid and its role one of
  // `roles`. kUnauthenticated without a valid token, kPermissionDenied when
  // its role may not call `method`; both say which.
  absl::StatusOr<Identity> Authenticate(const grpc::ServerContextBase& context,
                                        absl::string_view method,
                                        std::initializer_list<Role> roles) const
      ABSL_LOCKS_EXCLUDED(mu_);

  // As Authenticate, for a request that is not a gRPC call (netpoold's HTTP
  // side): `authorization` is its Authorization header (nullopt: it has
  // none), `what` names what it asks for and `peer` who asks, in the audit
  // line of a refusal.
  absl::StatusOr<Identity> AuthenticateHeader(std::optional<absl::string_view> authorization,
                                              absl::string_view peer, absl::string_view what,
                                              std::initializer_list<Role> roles) const
      ABSL_LOCKS_EXCLUDED(mu_);

  // As Authenticate for the WorkerHub stream (roles worker and admin), plus
  // the node certificate when one is required: a node without one is
  // kUnauthenticated, and the certificate's common name becomes the
  // identity's name.
  absl::StatusOr<Identity> AuthenticateNode(const grpc::ServerContextBase& context) const
      ABSL_LOCKS_EXCLUDED(mu_);

  // Whether the token `identity` authenticated with is still valid for its
  // role (after a Reload, it may have been removed).
  bool StillValid(const Identity& identity) const ABSL_LOCKS_EXCLUDED(mu_);

  size_t token_count() const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  explicit Authenticator(Options options) : options_(std::move(options)) {}
  absl::StatusOr<TokenTable> Load() const;

  const Options options_;
  mutable absl::Mutex mu_;
  TokenTable tokens_ ABSL_GUARDED_BY(mu_);
};

}  // namespace netpool

#endif  // NETPOOL_SERVER_AUTH_AUTHENTICATOR_H_
