#include "common/transport.h"

#include <cstdlib>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/host_address.h"
#include "common/local_token.h"
#include "common/private_file.h"
#include "grpcpp/create_channel.h"

namespace netpool {
namespace {

std::string FromEnv(const char* name) {
  const char* value = std::getenv(name);
  return value == nullptr ? "" : value;
}

absl::StatusOr<std::string> ReadTokenFile(const std::string& path) {
  absl::StatusOr<std::string> content = ReadPrivateFile(path);
  if (!content.ok()) return content.status();
  std::string token = TokenFromFileContent(*content);
  if (token.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("token file ", path, " is empty"));
  }
  return token;
}

// The token the caller presents, in the order the file comment gives.
absl::StatusOr<std::string> ResolveToken(const std::string& address,
                                         const ClientSecurity& security) {
  if (!security.token.empty()) return security.token;
  if (!security.token_file.empty()) return ReadTokenFile(security.token_file);
  if (std::string token = FromEnv("NETPOOL_TOKEN"); !token.empty()) return token;
  if (std::string file = FromEnv("NETPOOL_TOKEN_FILE"); !file.empty()) return ReadTokenFile(file);
  std::string host;
  int port = 0;
  if (SplitHostPort(address, &host, &port) && IsLoopbackHost(host)) {
    std::optional<std::string> token = ReadLocalToken(port);
    if (token.has_value() && ListenerOnPortIsOurs(port)) return *token;
  }
  return std::string();
}

}  // namespace

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> MakeServerCredentials(
    const ServerTls& tls) {
  if (tls.cert_file.empty() != tls.key_file.empty()) {
    return absl::InvalidArgumentError("--tls-cert and --tls-key go together");
  }
  if (!tls.enabled()) {
    if (!tls.client_ca_file.empty()) {
      return absl::InvalidArgumentError("--tls-client-ca needs --tls-cert and --tls-key");
    }
    return grpc::InsecureServerCredentials();
  }
  absl::StatusOr<std::string> cert = ReadPublicFile(tls.cert_file);
  if (!cert.ok()) return cert.status();
  absl::StatusOr<std::string> key = ReadPrivateFile(tls.key_file);
  if (!key.ok()) return key.status();
  // A caller without a certificate may still connect (clients use tokens);
  // one that presents a certificate must present a valid one, and the
  // WorkerHub refuses nodes without one when a client CA is set.
  grpc::SslServerCredentialsOptions options(tls.client_ca_file.empty()
                                                ? GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE
                                                : GRPC_SSL_REQUEST_CLIENT_CERTIFICATE_AND_VERIFY);
  if (!tls.client_ca_file.empty()) {
    absl::StatusOr<std::string> ca = ReadPublicFile(tls.client_ca_file);
    if (!ca.ok()) return ca.status();
    options.pem_root_certs = *std::move(ca);
  }
  options.pem_key_cert_pairs.push_back({*std::move(key), *std::move(cert)});
  return grpc::SslServerCredentials(options);
}

absl::StatusOr<ClientTransport> ClientTransport::Create(const std::string& address,
                                                        ClientSecurity security) {
  if (security.tls_ca_file.empty()) security.tls_ca_file = FromEnv("NETPOOL_TLS_CA");
  if (security.tls_cert_file.empty() != security.tls_key_file.empty()) {
    return absl::InvalidArgumentError("--tls-cert and --tls-key go together");
  }
  if (!security.tls_cert_file.empty() && security.tls_ca_file.empty()) {
    return absl::InvalidArgumentError("a certificate (--tls-cert) needs --tls-ca");
  }
  absl::StatusOr<std::string> token = ResolveToken(address, security);
  if (!token.ok()) return token.status();
  if (security.tls_ca_file.empty()) {
    return ClientTransport(grpc::InsecureChannelCredentials(), *std::move(token), false);
  }
  grpc::SslCredentialsOptions options;
  absl::StatusOr<std::string> ca = ReadPublicFile(security.tls_ca_file);
  if (!ca.ok()) return ca.status();
  options.pem_root_certs = *std::move(ca);
  if (!security.tls_cert_file.empty()) {
    absl::StatusOr<std::string> cert = ReadPublicFile(security.tls_cert_file);
    if (!cert.ok()) return cert.status();
    absl::StatusOr<std::string> key = ReadPrivateFile(security.tls_key_file);
    if (!key.ok()) return key.status();
    options.pem_cert_chain = *std::move(cert);
    options.pem_private_key = *std::move(key);
  }
  return ClientTransport(grpc::SslCredentials(options), *std::move(token), true);
}

ClientTransport ClientTransport::ForLocalScheduler(std::string token) {
  return ClientTransport(grpc::InsecureChannelCredentials(), std::move(token), false);
}

ClientTransport::ClientTransport(std::shared_ptr<grpc::ChannelCredentials> credentials,
                                 std::string token, bool tls)
    : credentials_(std::move(credentials)),
      authorization_(token.empty() ? "" : absl::StrCat(kBearerPrefix, token)),
      tls_(tls) {}

std::shared_ptr<grpc::Channel> ClientTransport::NewChannel(
    const std::string& address, const grpc::ChannelArguments& args) const {
  return grpc::CreateCustomChannel(address, credentials_, args);
}

std::string ClientTransport::token() const {
  return authorization_.empty() ? "" : authorization_.substr(sizeof(kBearerPrefix) - 1);
}

void ClientTransport::Authorize(grpc::ClientContext& context) const {
  if (!authorization_.empty()) context.AddMetadata(kAuthorizationKey, authorization_);
}

}  // namespace netpool
