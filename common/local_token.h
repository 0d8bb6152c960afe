// The token that lets a scheduler's own user in with no set-up. netpoold
// makes an admin token on first start, keeps it in its data directory, and
// leaves a copy for its user, keyed by port, under
// $XDG_CONFIG_HOME/netpool/tokens/ (default ~/.config/netpool/tokens/),
// where the CLI and the library of the same user look when they talk to a
// loopback scheduler. Both files are mode 0600: other local users cannot
// read them, so their calls are refused.
#ifndef NETPOOL_COMMON_LOCAL_TOKEN_H_
#define NETPOOL_COMMON_LOCAL_TOKEN_H_

#include <optional>
#include <string>

#include "absl/status/status.h"

namespace netpool {

// A fresh random token: 32 bytes from the kernel's CSPRNG, as 64 hex digits.
std::string NewToken();

// Where the same-user token of the loopback scheduler on `port` lives.
std::string LocalTokenPath(int port);

// That token, if the file exists and is private; nullopt otherwise.
std::optional<std::string> ReadLocalToken(int port);

// Leaves `token` for clients of the loopback scheduler on `port`.
absl::Status WriteLocalToken(int port, const std::string& token);

// Removes the file, if it still holds `token` (a later scheduler on the same
// port may have replaced it).
void RemoveLocalToken(int port, const std::string& token);

// The first line of a token file, without surrounding white space.
std::string TokenFromFileContent(const std::string& content);

}  // namespace netpool

#endif  // NETPOOL_COMMON_LOCAL_TOKEN_H_
