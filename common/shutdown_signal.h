// ShutdownSignal turns SIGINT/SIGTERM into an ordinary blocking wait, the way
// a gRPC server wants it: construct it first thing in main(), before any
// thread starts, so that every thread inherits the blocked signal mask; then
// call Wait() on the thread that should run the shutdown. It also ignores
// SIGPIPE, so a write to a closed pipe or socket fails with EPIPE; spawned
// children inherit that too, so reset it for them (POSIX_SPAWN_SETSIGDEF).
#ifndef NETPOOL_COMMON_SHUTDOWN_SIGNAL_H_
#define NETPOOL_COMMON_SHUTDOWN_SIGNAL_H_

#include <csignal>

namespace netpool {

class ShutdownSignal {
 public:
  // Blocks SIGINT and SIGTERM in the calling thread (and its future threads),
  // and SIGHUP too when `reload_on_hangup` (a daemon that rereads its
  // configuration on SIGHUP: Wait returns it like the others).
  explicit ShutdownSignal(bool reload_on_hangup = false);
  ShutdownSignal(const ShutdownSignal&) = delete;
  ShutdownSignal& operator=(const ShutdownSignal&) = delete;

  // Blocks until one of the signals arrives; returns the signal number.
  int Wait();

  // The signal set the constructor blocked; spawned children should get an
  // unblocked mask (posix_spawnattr_setsigmask) so they can be stopped.
  const sigset_t& blocked() const { return set_; }

 private:
  sigset_t set_;
};

}  // namespace netpool

#endif  // NETPOOL_COMMON_SHUTDOWN_SIGNAL_H_
