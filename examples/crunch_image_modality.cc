// The notebook's two-argument variant: Pool.starmap(crunchImage, zip(files,
// modalities)), T1- and T2-weighted images of 10 subjects.
//   crunch_image_modality [SCHEDULER_ADDRESS]
#include <cstdio>

#include "example_support.h"
#include "netpool/netpool.h"

int main(int argc, char** argv) {
  absl::StatusOr<netpool::Pool> pool = netpool::Pool::Connect(examples::SchedulerAddress(argc, argv));
  if (!pool.ok()) {
    std::fprintf(stderr, "crunch_image_modality: %s\n", pool.status().ToString().c_str());
    return 1;
  }
  std::vector<std::vector<netpool::Value>> arguments;
  for (const std::string& subject : examples::Subjects("", 10)) {
    arguments.push_back({subject + "_T1w.nii.gz", "t1"});
    arguments.push_back({subject + "_T2w.nii.gz", "t2"});
  }
  absl::StatusOr<int> slots = pool->Slots();

  const absl::Time start = absl::Now();
  absl::StatusOr<std::vector<netpool::Value>> results =
      pool->Starmap("crunch_image", arguments, {.chunksize = 1});
  const absl::Duration makespan = absl::Now() - start;
  if (!results.ok()) {
    std::fprintf(stderr, "crunch_image_modality: %s\n", results.status().ToString().c_str());
    return 1;
  }
  for (const netpool::Value& result : *results) std::printf("%s\n", result.AsString().c_str());
  examples::PrintMakespan(makespan, arguments.size(), 1, slots.ok() ? *slots : 1);
  return 0;
}
