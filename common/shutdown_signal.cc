#include "common/shutdown_signal.h"

#include <pthread.h>

namespace netpool {

ShutdownSignal::ShutdownSignal(bool reload_on_hangup) {
  sigemptyset(&set_);
  sigaddset(&set_, SIGINT);
  sigaddset(&set_, SIGTERM);
  if (reload_on_hangup) sigaddset(&set_, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &set_, nullptr);
  // A peer that goes away while we write to its pipe or socket must surface as
  // EPIPE on that write, not kill the whole process.
  std::signal(SIGPIPE, SIG_IGN);
}

int ShutdownSignal::Wait() {
  // glibc's sigwait retries on EINTR itself and fails only for an invalid set,
  // which ours is not.
  int signal_number = 0;
  sigwait(&set_, &signal_number);
  return signal_number;
}

}  // namespace netpool
