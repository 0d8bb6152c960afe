// StopOnSignal makes SIGINT and SIGTERM (Ctrl-C, kill) stop `netpool map
// --local` cleanly: while it lives, such a signal first runs the stop action
// it was given (stopping the local worker processes and the commands they
// started, which would otherwise outlive the CLI) and then ends the process as
// the signal would have. Construct it before any thread starts, so that every
// thread inherits the blocked signals and one waiter thread receives them.
//
//   StopOnSignal stop_on_signal;
//   ... start threads ...
//   stop_on_signal.SetAction([pool] { pool->StopWorkers(); });
#ifndef NETPOOL_CLIENT_CLI_STOP_ON_SIGNAL_H_
#define NETPOOL_CLIENT_CLI_STOP_ON_SIGNAL_H_

#include <signal.h>

#include <functional>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace netpool {
namespace cli {

class StopOnSignal {
 public:
  // Blocks SIGINT and SIGTERM in the calling thread (and the threads it
  // starts from now on) and starts the thread that waits for them.
  StopOnSignal();
  // Stops the waiter and restores the calling thread's signal mask; a
  // signal that came meanwhile then takes its ordinary effect.
  ~StopOnSignal();
  StopOnSignal(const StopOnSignal&) = delete;
  StopOnSignal& operator=(const StopOnSignal&) = delete;

  // What a signal runs before it ends the process; runs on the waiter thread.
  void SetAction(std::function<void()> action);

 private:
  void Wait();

  sigset_t signals_;
  sigset_t previous_mask_;

  absl::Mutex mutex_;
  std::function<void()> action_ ABSL_GUARDED_BY(mutex_);
  bool finished_ ABSL_GUARDED_BY(mutex_) = false;

  std::thread waiter_;  // last: starts once the fields above are set
};

}  // namespace cli
}  // namespace netpool

#endif  // NETPOOL_CLIENT_CLI_STOP_ON_SIGNAL_H_
