// Process-wide logging set-up for netpoold, netpool-worker and the CLI: one
// line per event on stderr, quiet (warnings and up) by default, as text or
// as one JSON object per line for log collectors.
#ifndef NETPOOL_COMMON_LOGGING_H_
#define NETPOOL_COMMON_LOGGING_H_

#include <string_view>

namespace netpool {

// `level` is one of trace, debug, info, warn, error, off; empty means the
// NETPOOL_LOG environment variable, or "warn" when that is unset. `format`
// is text or json; empty means NETPOOL_LOG_FORMAT, or text.
void InitLogging(std::string_view level = {}, std::string_view format = {});

}  // namespace netpool

#endif  // NETPOOL_COMMON_LOGGING_H_
