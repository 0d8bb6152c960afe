// Process-wide logging set-up for netpoold, netpool-worker and the CLI: one
// line per event on stderr, quiet (warnings and up) by default.
#ifndef NETPOOL_COMMON_LOGGING_H_
#define NETPOOL_COMMON_LOGGING_H_

#include <string_view>

namespace netpool {

// `level` is one of trace, debug, info, warn, error, off; empty means the
// NETPOOL_LOG environment variable, or "warn" when that is unset.
void InitLogging(std::string_view level = {});

}  // namespace netpool

#endif  // NETPOOL_COMMON_LOGGING_H_
