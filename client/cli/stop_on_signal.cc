#include "client/cli/stop_on_signal.h"

#include <pthread.h>

#include <utility>

namespace netpool {
namespace cli {

StopOnSignal::StopOnSignal() {
  sigemptyset(&signals_);
  sigaddset(&signals_, SIGINT);
  sigaddset(&signals_, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals_, &previous_mask_);
  waiter_ = std::thread([this] { Wait(); });
}

StopOnSignal::~StopOnSignal() {
  {
    absl::MutexLock lock(&mutex_);
    finished_ = true;
  }
  // Wakes the waiter, which sees finished_ and returns.
  pthread_kill(waiter_.native_handle(), SIGTERM);
  waiter_.join();
  pthread_sigmask(SIG_SETMASK, &previous_mask_, nullptr);
}

void StopOnSignal::SetAction(std::function<void()> action) {
  absl::MutexLock lock(&mutex_);
  action_ = std::move(action);
}

void StopOnSignal::Wait() {
  int signal_number = 0;
  sigwait(&signals_, &signal_number);
  std::function<void()> action;
  {
    absl::MutexLock lock(&mutex_);
    if (finished_) return;
    action = action_;
  }
  if (action) action();
  // End as the signal would have, so the shell reports it as such (130 for
  // Ctrl-C): its default action, delivered to this thread.
  signal(signal_number, SIG_DFL);
  pthread_sigmask(SIG_UNBLOCK, &signals_, nullptr);
  raise(signal_number);
}

}  // namespace cli
}  // namespace netpool
