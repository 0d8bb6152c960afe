#include "common/process_setup.h"

#include <malloc.h>

#include <cstdlib>
#include <string>

#include "absl/synchronization/mutex.h"
#include "common/logging.h"

namespace netpool {

void SetUpProcess(std::string_view log_level, std::string_view log_format) {
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  KeepFreedMemory();
  if (!log_level.empty()) setenv("NETPOOL_LOG", std::string(log_level).c_str(), 1);
  if (!log_format.empty()) setenv("NETPOOL_LOG_FORMAT", std::string(log_format).c_str(), 1);
  InitLogging(log_level, log_format);
}

void KeepFreedMemory() {
  ::mallopt(M_MMAP_THRESHOLD, 32 << 20);
  ::mallopt(M_TRIM_THRESHOLD, 64 << 20);
}

}  // namespace netpool
