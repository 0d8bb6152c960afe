#include "common/version.h"

#include "absl/strings/str_cat.h"

namespace netpool {

// NETPOOL_VERSION comes from CMake, on this file alone, so that a new
// version recompiles nothing else.
std::string Version() { return NETPOOL_VERSION; }

std::string VersionLine(const std::string& program) {
  return absl::StrCat(program, " ", Version());
}

}  // namespace netpool
