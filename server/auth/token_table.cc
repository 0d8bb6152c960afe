#include "server/auth/token_table.h"

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace netpool {
namespace {

constexpr absl::string_view kSha256Prefix = "sha256:";
constexpr size_t kMinTokenLength = 16;

bool IsLowerHex(absl::string_view text) {
  for (char c : text) {
    if (!absl::ascii_isxdigit(static_cast<unsigned char>(c)) || absl::ascii_isupper(c)) {
      return false;
    }
  }
  return true;
}

}  // namespace

TokenTable::Digest TokenTable::Sha256(absl::string_view data) {
  Digest digest;
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest.data());
  return digest;
}

absl::StatusOr<TokenTable> TokenTable::Parse(absl::string_view content) {
  TokenTable table;
  int line_number = 0;
  for (absl::string_view line : absl::StrSplit(content, '\n')) {
    ++line_number;
    line = absl::StripAsciiWhitespace(line);
    if (line.empty() || line.front() == '#') continue;
    std::vector<absl::string_view> fields =
        absl::StrSplit(line, absl::ByAnyChar(" \t"), absl::SkipEmpty());
    auto bad = [line_number](absl::string_view why) {
      return absl::InvalidArgumentError(absl::StrCat("line ", line_number, ": ", why));
    };
    if (fields.size() != 3) return bad("expected ROLE NAME SECRET");
    std::optional<Role> role = ParseRole(fields[0]);
    if (!role.has_value()) return bad("role must be client, worker or admin");
    if (!IsValidIdentityName(fields[1])) return bad("name must be 1-64 of [A-Za-z0-9_.@-]");
    Identity identity{*role, std::string(fields[1])};
    absl::Status added;
    if (absl::StartsWith(fields[2], kSha256Prefix)) {
      absl::string_view hex = fields[2].substr(kSha256Prefix.size());
      if (hex.size() != 64 || !IsLowerHex(hex)) {
        return bad("sha256: must be followed by 64 lowercase hex digits");
      }
      const std::string bytes = absl::HexStringToBytes(hex);
      Digest digest;
      std::copy(bytes.begin(), bytes.end(), digest.begin());
      added = table.AddDigest(std::move(identity), digest);
    } else {
      added = table.Add(std::move(identity), fields[2]);
    }
    if (!added.ok()) return bad(added.message());
  }
  return table;
}

absl::Status TokenTable::Add(Identity identity, absl::string_view token) {
  if (token.size() < kMinTokenLength) {
    return absl::InvalidArgumentError(
        absl::StrCat("a token must have at least ", kMinTokenLength, " characters"));
  }
  return AddDigest(std::move(identity), Sha256(token));
}

absl::Status TokenTable::AddDigest(Identity identity, const Digest& digest) {
  if (!IsValidIdentityName(identity.name)) {
    return absl::InvalidArgumentError("name must be 1-64 of [A-Za-z0-9_.@-]");
  }
  if (Find(digest).has_value()) {
    return absl::InvalidArgumentError("the same token is given twice");
  }
  entries_.push_back({digest, std::move(identity)});
  return absl::OkStatus();
}

std::optional<Identity> TokenTable::Find(absl::string_view token) const {
  return Find(Sha256(token));
}

std::optional<Identity> TokenTable::FindCredential(absl::string_view credential) const {
  Digest digest;
  if (credential.size() != digest.size()) return std::nullopt;
  std::copy(credential.begin(), credential.end(), digest.begin());
  return Find(digest);
}

std::optional<Identity> TokenTable::Find(const Digest& digest) const {
  // Every entry is compared, in constant time each: how long a refusal
  // takes says nothing about how close a guess came.
  const Entry* found = nullptr;
  for (const Entry& entry : entries_) {
    if (CRYPTO_memcmp(entry.digest.data(), digest.data(), digest.size()) == 0) found = &entry;
  }
  if (found == nullptr) return std::nullopt;
  Identity identity = found->identity;
  identity.credential.assign(reinterpret_cast<const char*>(digest.data()), digest.size());
  return identity;
}

}  // namespace netpool
