// What each netpool program's --version prints: its name and the netpool
// release it belongs to, CMake's project version, set in that one place.
#ifndef NETPOOL_COMMON_VERSION_H_
#define NETPOOL_COMMON_VERSION_H_

#include <string>

namespace netpool {

// The release, "0.1.0".
std::string Version();

// "netpool 0.1.0" for VersionLine("netpool").
std::string VersionLine(const std::string& program);

}  // namespace netpool

#endif  // NETPOOL_COMMON_VERSION_H_
