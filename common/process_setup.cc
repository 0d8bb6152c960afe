#include "common/process_setup.h"

#include "absl/synchronization/mutex.h"
#include "common/logging.h"

namespace netpool {

void SetUpProcess(std::string_view log_level) {
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  InitLogging(log_level);
}

}  // namespace netpool
