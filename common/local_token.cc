#include "common/local_token.h"

#include <pwd.h>
#include <sys/random.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "common/private_file.h"

namespace netpool {
namespace {

std::string ConfigDirectory() {
  if (const char* xdg = std::getenv("XDG_CONFIG_HOME"); xdg != nullptr && *xdg == '/') {
    return xdg;
  }
  if (const char* home = std::getenv("HOME"); home != nullptr && *home == '/') {
    return absl::StrCat(home, "/.config");
  }
  if (const passwd* user = ::getpwuid(::geteuid()); user != nullptr && user->pw_dir != nullptr) {
    return absl::StrCat(user->pw_dir, "/.config");
  }
  return "/nonexistent";
}

}  // namespace

std::string NewToken() {
  unsigned char bytes[32];
  size_t filled = 0;
  while (filled < sizeof(bytes)) {
    const ssize_t n = ::getrandom(bytes + filled, sizeof(bytes) - filled, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) std::abort();  // no randomness: never hand out a guessable token
    filled += static_cast<size_t>(n);
  }
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(bytes), sizeof(bytes)));
}

std::string LocalTokenPath(int port) {
  return absl::StrCat(ConfigDirectory(), "/netpool/tokens/loopback-", port);
}

std::string TokenFromFileContent(const std::string& content) {
  const size_t end = content.find('\n');
  return std::string(absl::StripAsciiWhitespace(content.substr(0, end)));
}

std::optional<std::string> ReadLocalToken(int port) {
  absl::StatusOr<std::string> content = ReadPrivateFile(LocalTokenPath(port));
  if (!content.ok()) return std::nullopt;
  std::string token = TokenFromFileContent(*content);
  if (token.empty()) return std::nullopt;
  return token;
}

absl::Status WriteLocalToken(int port, const std::string& token) {
  return WritePrivateFile(LocalTokenPath(port), token + "\n");
}

void RemoveLocalToken(int port, const std::string& token) {
  if (ReadLocalToken(port) == token) ::unlink(LocalTokenPath(port).c_str());
}

}  // namespace netpool
