// FaultSettings says how hard a fault test pushes and with which random seed.
// By default a test runs at the size that keeps the suite within a few minutes
// in CI; NETPOOL_FAULT_SOAK=1 selects the long soak sizes. Every random choice
// a test makes comes from seed(), which it prints, and NETPOOL_FAULT_SEED=N
// replays that run's choices (the timing of real processes still varies).
//
//   FaultSettings settings = FaultSettings::FromEnvironment();
//   const int jobs = settings.Pick(10'000, 200'000);
//   std::mt19937_64 random(settings.seed());
#ifndef NETPOOL_TESTS_FAULT_FAULT_SETTINGS_H_
#define NETPOOL_TESTS_FAULT_FAULT_SETTINGS_H_

#include <cstdint>

namespace netpool::testing {

class FaultSettings {
 public:
  // Reads NETPOOL_FAULT_SOAK and NETPOOL_FAULT_SEED (a random seed when unset
  // or malformed).
  static FaultSettings FromEnvironment();

  bool soak() const { return soak_; }
  uint64_t seed() const { return seed_; }

  // `ci` normally, `soak` under NETPOOL_FAULT_SOAK=1.
  template <typename T>
  T Pick(T ci, T soak) const {
    return soak_ ? soak : ci;
  }

 private:
  FaultSettings(bool soak, uint64_t seed) : soak_(soak), seed_(seed) {}

  bool soak_;
  uint64_t seed_;
};

}  // namespace netpool::testing

#endif  // NETPOOL_TESTS_FAULT_FAULT_SETTINGS_H_
