// The notebook's two-stage pipeline: linear registration of 20 T1 images
// with apply_async, then non-linear registration fed by each first-stage
// result. Both stages go to the scheduler at once: passing a first-stage
// AsyncResult as an argument makes the second-stage job wait on the
// scheduler for that result, with no round trip through this program.
//   registration [SCHEDULER_ADDRESS]
#include <cstdio>

#include "example_support.h"
#include "netpool/netpool.h"

int main(int argc, char** argv) {
  absl::StatusOr<netpool::Pool> pool = netpool::Pool::Connect(examples::SchedulerAddress(argc, argv));
  if (!pool.ok()) {
    std::fprintf(stderr, "registration: %s\n", pool.status().ToString().c_str());
    return 1;
  }
  const std::vector<std::string> subjects = examples::Subjects("_T1w.nii.gz");
  absl::StatusOr<int> slots = pool->Slots();

  const absl::Time start = absl::Now();
  std::vector<netpool::AsyncResult> linear;
  for (const std::string& t1 : subjects) {
    linear.push_back(pool->ApplyAsync("linear_registration", {t1}));
  }
  std::vector<netpool::AsyncResult> nonlinear;
  for (const netpool::AsyncResult& first : linear) {
    nonlinear.push_back(pool->ApplyAsync("nonlinear_registration", {first}));
  }
  for (netpool::AsyncResult& second : nonlinear) {
    absl::StatusOr<netpool::Value> result = second.Get();
    if (!result.ok()) {
      std::fprintf(stderr, "registration: %s\n", result.status().ToString().c_str());
      return 1;
    }
    std::printf("%s\n", result->AsString().c_str());
  }
  examples::PrintMakespan(absl::Now() - start, subjects.size(), 2, slots.ok() ? *slots : 1);
  return 0;
}
