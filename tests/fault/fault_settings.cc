#include "tests/fault/fault_settings.h"

#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>

#include "absl/strings/numbers.h"

namespace netpool::testing {

FaultSettings FaultSettings::FromEnvironment() {
  const char* soak = std::getenv("NETPOOL_FAULT_SOAK");
  const bool is_soak = soak != nullptr && std::string(soak) != "" && std::string(soak) != "0";
  uint64_t seed = 0;
  const char* seed_text = std::getenv("NETPOOL_FAULT_SEED");
  if (seed_text == nullptr || !absl::SimpleAtoi(seed_text, &seed)) {
    std::random_device device;
    seed = (uint64_t{device()} << 32) | device();
  }
  std::printf("fault: %s run, seed=%llu (replay with NETPOOL_FAULT_SEED=%llu)\n",
              is_soak ? "soak" : "CI-sized", static_cast<unsigned long long>(seed),
              static_cast<unsigned long long>(seed));
  std::fflush(stdout);
  return FaultSettings(is_soak, seed);
}

}  // namespace netpool::testing
