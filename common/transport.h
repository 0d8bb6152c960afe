// The one module that makes netpool's gRPC credentials, for netpoold,
// Pool::Local's embedded scheduler, the client library, the CLI, worker
// nodes and the test harness: no other file creates a credential.
//
// A scheduler serves TLS when given a certificate and key (and, with a
// client CA, asks callers for a certificate, which worker nodes must then
// present), plaintext otherwise. A caller dials TLS when it trusts a CA, and
// authenticates every call with a bearer token in the `authorization`
// metadata, found in this order: given outright, a token file,
// $NETPOOL_TOKEN, $NETPOOL_TOKEN_FILE, and last, for a loopback scheduler
// only, the token the scheduler left for its own user (see local_token.h),
// if the port's listener runs as this user.
//
//   absl::StatusOr<netpool::ClientTransport> transport =
//       netpool::ClientTransport::Create("10.0.0.5:7340", {.tls_ca_file = "ca.pem"});
//   std::shared_ptr<grpc::Channel> channel = transport->NewChannel(args);
//   grpc::ClientContext context;
//   transport->Authorize(context);
#ifndef NETPOOL_COMMON_TRANSPORT_H_
#define NETPOOL_COMMON_TRANSPORT_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "grpcpp/channel.h"
#include "grpcpp/client_context.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/support/channel_arguments.h"

namespace netpool {

// The metadata key and scheme of the token on every call.
inline constexpr char kAuthorizationKey[] = "authorization";
inline constexpr char kBearerPrefix[] = "Bearer ";

// What a scheduler serves with. All empty: plaintext.
struct ServerTls {
  std::string cert_file;       // PEM certificate chain
  std::string key_file;        // PEM private key; must be private (mode 0600)
  std::string client_ca_file;  // when set, callers may present a certificate from this CA
  bool enabled() const { return !cert_file.empty(); }
};

// Server credentials for `tls`. kInvalidArgument when only one of the
// certificate and key is given; a file's error (ReadPrivateFile) otherwise.
absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> MakeServerCredentials(
    const ServerTls& tls);

// What a caller (client or worker node) presents. Empty fields fall back to
// the environment, as the file comment says.
struct ClientSecurity {
  std::string tls_ca_file;    // trust this CA and use TLS ($NETPOOL_TLS_CA)
  std::string tls_cert_file;  // this caller's own certificate, for mutual TLS
  std::string tls_key_file;
  std::string token;       // the bearer token itself
  std::string token_file;  // a file holding it (mode 0600)
};

// ClientTransport is how one caller reaches one scheduler: the channel
// credentials and the token for every call. Cheap to copy.
class ClientTransport {
 public:
  // Resolves `security` for the scheduler at `address` (HOST:PORT): reads
  // the files, falls back to the environment and the local token. A caller
  // with no token at all is no error here: the scheduler refuses its calls
  // with UNAUTHENTICATED, which says how to give one.
  static absl::StatusOr<ClientTransport> Create(const std::string& address,
                                                ClientSecurity security);
  // No TLS and `token` as is, for a scheduler inside this process.
  static ClientTransport ForLocalScheduler(std::string token);

  std::shared_ptr<grpc::Channel> NewChannel(const std::string& address,
                                            const grpc::ChannelArguments& args) const;
  // Adds the token to one call (unary or stream).
  void Authorize(grpc::ClientContext& context) const;
  bool has_token() const { return !authorization_.empty(); }
  // The token itself; empty without one.
  std::string token() const;
  bool tls() const { return tls_; }

 private:
  ClientTransport(std::shared_ptr<grpc::ChannelCredentials> credentials, std::string token,
                  bool tls);

  std::shared_ptr<grpc::ChannelCredentials> credentials_;
  std::string authorization_;  // "Bearer TOKEN", empty without a token
  bool tls_ = false;
};

}  // namespace netpool

#endif  // NETPOOL_COMMON_TRANSPORT_H_
