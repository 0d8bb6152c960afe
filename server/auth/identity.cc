#include "server/auth/identity.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace netpool {

absl::string_view RoleName(Role role) {
  switch (role) {
    case Role::kClient:
      return "client";
    case Role::kWorker:
      return "worker";
    case Role::kAdmin:
      return "admin";
  }
  return "unknown";
}

std::optional<Role> ParseRole(absl::string_view name) {
  if (name == "client") return Role::kClient;
  if (name == "worker") return Role::kWorker;
  if (name == "admin") return Role::kAdmin;
  return std::nullopt;
}

bool IsValidIdentityName(absl::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  for (char c : name) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '.' && c != '@' &&
        c != '-') {
      return false;
    }
  }
  return true;
}

absl::StatusOr<std::string> BindNodeName(const Identity& identity, const std::string& asked,
                                         bool chosen) {
  if (identity.admin()) return asked;
  const std::string prefix = absl::StrCat(identity.name, "/");
  if (asked == identity.name || (absl::StartsWith(asked, prefix) && asked.size() > prefix.size())) {
    return asked;
  }
  if (!chosen) return absl::StrCat(identity.name, "/", asked);
  return absl::PermissionDeniedError(
      absl::StrCat("node name \"", asked, "\" does not belong to credential \"", identity.name,
                   "\": it may use \"", identity.name, "\" or \"", identity.name, "/...\""));
}

}  // namespace netpool
