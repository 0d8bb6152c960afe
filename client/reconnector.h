// Reconnector is how a client rides through a scheduler restart: every call
// of one client that fails with kUnavailable asks it whether to try again,
// and after what pause. It says yes, with a backoff, until the scheduler has
// been unreachable for `retry_for` in a row (counted from the first failure
// of the outage, across all of the client's calls); then every such call
// fails with one error saying how long the scheduler has been gone. A call
// that gets an answer, even an error, ends the outage. Thread-safe.
//
//   Reconnector reconnector({.retry_for = absl::Seconds(60)});
//   absl::StatusOr<v1::GetResponse> response =
//       reconnector.Retry([&] { return scheduler.Get(request); });
#ifndef NETPOOL_CLIENT_RECONNECTOR_H_
#define NETPOOL_CLIENT_RECONNECTOR_H_

#include <functional>
#include <optional>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace netpool {

class Reconnector {
 public:
  struct Options {
    // How long the scheduler may stay unreachable. Zero: a failure is the
    // answer at once; InfiniteDuration: never give up.
    absl::Duration retry_for = absl::Seconds(60);
    // Called once as each outage begins, with the failure that began it
    // (the CLI says it is reconnecting). On the failing call's thread.
    std::function<void(const absl::Status& failure)> on_outage;
  };

  // The longest pause between two tries.
  static constexpr absl::Duration kMaxPause = absl::Seconds(2);

  explicit Reconnector(Options options);

  Reconnector(const Reconnector&) = delete;
  Reconnector& operator=(const Reconnector&) = delete;

  // After a call failed with `failure`: the pause before trying again, or
  // the error to give up with: `failure` itself when it is not kUnavailable
  // (the scheduler answered) or retry_for is zero, else, once the outage has
  // lasted retry_for, kUnavailable "scheduler unreachable for 60s, giving
  // up: <failure>".
  absl::StatusOr<absl::Duration> Failed(const absl::Status& failure);
  // A call got an answer: the outage, if any, is over.
  void Reached();

  // Runs `call` (returning absl::Status or absl::StatusOr) until it does not
  // fail with kUnavailable or Failed gives up; returns its last answer.
  template <typename Call>
  auto Retry(const Call& call) -> decltype(call());

 private:
  static const absl::Status& StatusOf(const absl::Status& status) { return status; }
  template <typename T>
  static const absl::Status& StatusOf(const absl::StatusOr<T>& status_or) {
    return status_or.status();
  }

  // Constant after construction.
  const Options options_;

  absl::Mutex mutex_;
  // When the running outage began; nullopt when the scheduler is reachable.
  std::optional<absl::Time> outage_began_ ABSL_GUARDED_BY(mutex_);
  absl::Duration next_pause_ ABSL_GUARDED_BY(mutex_);
};

template <typename Call>
auto Reconnector::Retry(const Call& call) -> decltype(call()) {
  while (true) {
    auto answer = call();
    if (answer.ok()) {
      Reached();
      return answer;
    }
    absl::StatusOr<absl::Duration> pause = Failed(StatusOf(answer));
    if (!pause.ok()) return pause.status();
    absl::SleepFor(*pause);
  }
}

}  // namespace netpool

#endif  // NETPOOL_CLIENT_RECONNECTOR_H_
