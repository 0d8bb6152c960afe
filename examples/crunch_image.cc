// The notebook's first workload: Pool.map(crunchImage, files) over 20 files.
//   crunch_image [SCHEDULER_ADDRESS]
#include <cstdio>

#include "example_support.h"
#include "netpool/netpool.h"

int main(int argc, char** argv) {
  absl::StatusOr<netpool::Pool> pool = netpool::Pool::Connect(examples::SchedulerAddress(argc, argv));
  if (!pool.ok()) {
    std::fprintf(stderr, "crunch_image: %s\n", pool.status().ToString().c_str());
    return 1;
  }
  std::vector<netpool::Value> files;
  for (const std::string& file : examples::Subjects("_T1w.nii.gz")) files.push_back(file);
  absl::StatusOr<int> slots = pool->Slots();

  const absl::Time start = absl::Now();
  absl::StatusOr<std::vector<netpool::Value>> results =
      pool->Map("crunch_image", files, {.chunksize = 1});
  const absl::Duration makespan = absl::Now() - start;
  if (!results.ok()) {
    std::fprintf(stderr, "crunch_image: %s\n", results.status().ToString().c_str());
    return 1;
  }
  for (const netpool::Value& result : *results) std::printf("%s\n", result.AsString().c_str());
  examples::PrintMakespan(makespan, files.size(), 1, slots.ok() ? *slots : 1);
  return 0;
}
