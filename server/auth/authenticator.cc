#include "server/auth/authenticator.h"

#include <algorithm>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/private_file.h"
#include "common/transport.h"
#include "spdlog/spdlog.h"

namespace netpool {
namespace {

absl::Status Refuse(absl::string_view peer, absl::string_view method, absl::Status status) {
  spdlog::warn("audit: refused {} from {}: {}", std::string(method), std::string(peer),
               std::string(status.message()));
  return status;
}

absl::Status Refuse(const grpc::ServerContextBase& context, absl::string_view method,
                    absl::Status status) {
  return Refuse(context.peer(), method, std::move(status));
}

std::string RoleList(std::initializer_list<Role> roles) {
  return absl::StrJoin(roles, " or ",
                       [](std::string* out, Role role) { absl::StrAppend(out, RoleName(role)); });
}

}  // namespace

absl::StatusOr<absl::string_view> BearerToken(absl::string_view authorization) {
  if (!absl::StartsWith(authorization, kBearerPrefix) ||
      authorization.size() == absl::string_view(kBearerPrefix).size()) {
    return absl::UnauthenticatedError("the authorization metadata is not \"Bearer TOKEN\"");
  }
  return authorization.substr(absl::string_view(kBearerPrefix).size());
}

absl::StatusOr<std::unique_ptr<Authenticator>> Authenticator::Create(Options options) {
  std::unique_ptr<Authenticator> authenticator(new Authenticator(std::move(options)));
  absl::StatusOr<TokenTable> tokens = authenticator->Load();
  if (!tokens.ok()) return tokens.status();
  absl::MutexLock lock(&authenticator->mu_);
  authenticator->tokens_ = *std::move(tokens);
  return authenticator;
}

absl::StatusOr<TokenTable> Authenticator::Load() const {
  TokenTable tokens;
  if (!options_.token_file.empty()) {
    absl::StatusOr<std::string> content = ReadPrivateFile(options_.token_file);
    if (!content.ok()) return content.status();
    absl::StatusOr<TokenTable> parsed = TokenTable::Parse(*content);
    if (!parsed.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("token file ", options_.token_file, ": ", parsed.status().message()));
    }
    tokens = *std::move(parsed);
  }
  if (!options_.owner_token.empty()) {
    if (absl::Status s = tokens.Add({Role::kAdmin, options_.owner_name}, options_.owner_token);
        !s.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("the scheduler's own token: ", s.message()));
    }
  }
  return tokens;
}

absl::Status Authenticator::Reload() {
  absl::StatusOr<TokenTable> tokens = Load();
  if (!tokens.ok()) return tokens.status();
  absl::MutexLock lock(&mu_);
  tokens_ = *std::move(tokens);
  return absl::OkStatus();
}

bool Authenticator::StillValid(const Identity& identity) const {
  absl::ReaderMutexLock lock(&mu_);
  std::optional<Identity> now = tokens_.FindCredential(identity.credential);
  return now.has_value() && now->role == identity.role;
}

size_t Authenticator::token_count() const {
  absl::MutexLock lock(&mu_);
  return tokens_.size();
}

absl::StatusOr<Identity> Authenticator::Authenticate(const grpc::ServerContextBase& context,
                                                     absl::string_view method,
                                                     std::initializer_list<Role> roles) const {
  const auto& metadata = context.client_metadata();
  auto it = metadata.find(kAuthorizationKey);
  std::optional<absl::string_view> authorization;
  if (it != metadata.end()) authorization = absl::string_view(it->second.data(), it->second.size());
  return AuthenticateHeader(authorization, context.peer(), method, roles);
}

absl::StatusOr<Identity> Authenticator::AuthenticateHeader(
    std::optional<absl::string_view> authorization, absl::string_view peer,
    absl::string_view what, std::initializer_list<Role> roles) const {
  if (!authorization.has_value()) {
    return Refuse(
        peer, what,
        absl::UnauthenticatedError("no token: give one with --token-file or NETPOOL_TOKEN (on the "
                                   "scheduler's machine, its own user needs none)"));
  }
  absl::StatusOr<absl::string_view> token = BearerToken(*authorization);
  if (!token.ok()) return Refuse(peer, what, token.status());
  std::optional<Identity> identity;
  {
    absl::ReaderMutexLock lock(&mu_);
    identity = tokens_.Find(*token);
  }
  if (!identity.has_value()) {
    return Refuse(peer, what,
                  absl::UnauthenticatedError("the token is not valid for this scheduler"));
  }
  if (std::find(roles.begin(), roles.end(), identity->role) == roles.end()) {
    return Refuse(peer, what,
                  absl::PermissionDeniedError(absl::StrCat(identity->name, " has role ",
                                                           RoleName(identity->role), "; ", what,
                                                           " needs role ", RoleList(roles))));
  }
  return *std::move(identity);
}

absl::StatusOr<Identity> Authenticator::AuthenticateNode(
    const grpc::ServerContextBase& context) const {
  constexpr absl::string_view kMethod = "WorkerHub.Connect";
  absl::StatusOr<Identity> identity = Authenticate(context, kMethod, {Role::kWorker, Role::kAdmin});
  if (!identity.ok() || !options_.require_node_certificate) return identity;
  std::shared_ptr<const grpc::AuthContext> auth = context.auth_context();
  if (auth == nullptr || !auth->IsPeerAuthenticated()) {
    return Refuse(context, kMethod,
                  absl::UnauthenticatedError(
                      "this scheduler admits worker nodes only with a certificate from its "
                      "--tls-client-ca: start the node with --tls-cert and --tls-key"));
  }
  std::vector<grpc::string_ref> names = auth->FindPropertyValues("x509_common_name");
  if (names.empty() || !IsValidIdentityName(absl::string_view(names[0].data(), names[0].size()))) {
    return Refuse(context, kMethod,
                  absl::UnauthenticatedError(
                      "the node certificate's common name must be 1-64 of [A-Za-z0-9_.@-]"));
  }
  if (!identity->admin()) identity->name.assign(names[0].data(), names[0].size());
  return identity;
}

}  // namespace netpool
