#include "worker/signal_name.h"

#include <string.h>

#include "absl/strings/str_cat.h"

namespace netpool {

std::string DescribeSignal(int signo) {
  const char* abbrev = sigabbrev_np(signo);  // "SEGV"; null for unknown numbers
  if (abbrev == nullptr) return absl::StrCat("signal ", signo);
  return absl::StrCat("signal ", signo, " (SIG", abbrev, ")");
}

}  // namespace netpool
