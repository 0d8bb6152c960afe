// TokenTable is netpoold's set of valid bearer tokens and the identity each
// one stands for, read from a token file of one token per line:
//
//   # ROLE   NAME      SECRET
//   admin    ops       3f1c...                 (the token itself, >= 16 chars)
//   client   alice     sha256:9b74c9897bac...  (or its SHA-256, 64 hex digits)
//   worker   rack1     sha256:...
//
// Only the SHA-256 of each token is kept, and a presented token is compared
// with every entry in constant time, so neither the file (when it holds
// hashes) nor the timing of a refusal gives a token away.
#ifndef NETPOOL_SERVER_AUTH_TOKEN_TABLE_H_
#define NETPOOL_SERVER_AUTH_TOKEN_TABLE_H_

#include <array>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "server/auth/identity.h"

namespace netpool {

class TokenTable {
 public:
  using Digest = std::array<unsigned char, 32>;

  // Parses a token file's content. kInvalidArgument naming the line (never
  // the secret) for a bad role, name or secret, or a token given twice.
  static absl::StatusOr<TokenTable> Parse(absl::string_view content);

  // Adds one token. kInvalidArgument when the name is invalid or the token
  // is already in the table.
  absl::Status Add(Identity identity, absl::string_view token);

  // The identity of `token`, if it is in the table.
  std::optional<Identity> Find(absl::string_view token) const;
  // The same by Identity::credential, the token's SHA-256.
  std::optional<Identity> FindCredential(absl::string_view credential) const;

  size_t size() const { return entries_.size(); }

  static Digest Sha256(absl::string_view data);

 private:
  struct Entry {
    Digest digest;
    Identity identity;
  };
  absl::Status AddDigest(Identity identity, const Digest& digest);
  std::optional<Identity> Find(const Digest& digest) const;

  std::vector<Entry> entries_;
};

}  // namespace netpool

#endif  // NETPOOL_SERVER_AUTH_TOKEN_TABLE_H_
