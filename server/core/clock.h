// Clock is where the scheduling core reads the time, so that tests can drive
// time by hand (FakeClock) and production uses the system's clocks
// (RealClock).
//
// Two readings: Now() is the wall clock, for what users see and what the
// store keeps (submitted, started, finished); it can jump when the system
// clock is set. Monotonic() never jumps and only the difference between two
// readings means anything; leases, heartbeats, backoff and every other wait
// are measured on it, so that setting the clock neither expires a healthy
// node nor holds back a retry.
#ifndef NETPOOL_SERVER_CORE_CLOCK_H_
#define NETPOOL_SERVER_CORE_CLOCK_H_

#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/monotonic_clock.h"

namespace netpool {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual absl::Time Now() const = 0;
  virtual absl::Time Monotonic() const = 0;
};

class RealClock final : public Clock {
 public:
  absl::Time Now() const override { return absl::Now(); }
  absl::Time Monotonic() const override { return MonotonicNow(); }
};

// A clock that moves only when told to. Thread-safe.
class FakeClock final : public Clock {
 public:
  explicit FakeClock(absl::Time start = absl::FromUnixSeconds(1'700'000'000))
      : now_(start), monotonic_(absl::FromUnixSeconds(1'000)) {}
  absl::Time Now() const override {
    absl::MutexLock lock(&mu_);
    return now_;
  }
  absl::Time Monotonic() const override {
    absl::MutexLock lock(&mu_);
    return monotonic_;
  }
  // Time passes: both clocks move.
  void Advance(absl::Duration d) {
    absl::MutexLock lock(&mu_);
    now_ += d;
    monotonic_ += d;
  }
  // The wall clock is set (by an administrator, NTP): only it moves.
  void StepWallClock(absl::Duration d) {
    absl::MutexLock lock(&mu_);
    now_ += d;
  }

 private:
  mutable absl::Mutex mu_;
  absl::Time now_ ABSL_GUARDED_BY(mu_);
  absl::Time monotonic_ ABSL_GUARDED_BY(mu_);
};

}  // namespace netpool

#endif  // NETPOOL_SERVER_CORE_CLOCK_H_
