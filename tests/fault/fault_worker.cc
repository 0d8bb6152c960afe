// fault-worker: a netpool worker node for the fault-injection suite. Same
// flags as netpool-worker, plus one function:
//
//   nonce(arg [, sleep_ms]) -> [arg, a random 64-bit integer]
//
// Each execution draws a new random number, so two executions of one job
// (at-least-once) almost surely return different results: a test that
// compares the result a client first received with the one the scheduler
// holds at the end sees any result recorded twice, or replaced.
#include <cstdint>
#include <random>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "netpool/netpool.h"

namespace {

absl::StatusOr<netpool::Value> Nonce(const std::vector<netpool::Value>& args,
                                     netpool::TaskContext&) {
  if (args.empty() || args.size() > 2 || (args.size() == 2 && !args[1].is_int())) {
    return absl::InvalidArgumentError("nonce takes (arg [, sleep_ms])");
  }
  if (args.size() == 2) absl::SleepFor(absl::Milliseconds(args[1].AsInt()));
  // One generator per process, seeded from the OS: processes spawned at the
  // same moment must not draw the same numbers.
  static std::mt19937_64 random(std::random_device{}());
  return netpool::ValueList{args[0], static_cast<int64_t>(random())};
}

}  // namespace

int main(int argc, char** argv) {
  netpool::Register("nonce", Nonce);
  return netpool::WorkerApp().Main(argc, argv);
}
