// What the three seed examples share: where the scheduler is, the subject
// file names, and how a makespan is reported next to its ideal.
#ifndef NETPOOL_EXAMPLES_EXAMPLE_SUPPORT_H_
#define NETPOOL_EXAMPLES_EXAMPLE_SUPPORT_H_

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/time/time.h"

namespace examples {

// argv[1], else $NETPOOL_SCHEDULER, else the default address.
inline std::string SchedulerAddress(int argc, char** argv) {
  if (argc > 1) return argv[1];
  if (const char* env = std::getenv("NETPOOL_SCHEDULER")) return env;
  return "127.0.0.1:7340";
}

// The per-task time the imaging worker sleeps (same variable it reads).
inline double TaskSeconds() {
  double seconds = 0.2;
  if (const char* env = std::getenv("IMAGING_TASK_SECONDS")) {
    if (!absl::SimpleAtod(env, &seconds)) seconds = 0.2;
  }
  return seconds;
}

// sub-01 ... sub-20, as file names with `suffix`.
inline std::vector<std::string> Subjects(const std::string& suffix, int count = 20) {
  std::vector<std::string> files;
  for (int i = 1; i <= count; ++i) {
    char name[16];
    std::snprintf(name, sizeof name, "sub-%02d", i);
    files.push_back(name + suffix);
  }
  return files;
}

// Prints "makespan X s (ideal Y s: N waves of T s on S slots)".
inline void PrintMakespan(absl::Duration makespan, size_t tasks_per_stage, int stages, int slots) {
  const int waves = static_cast<int>((tasks_per_stage + slots - 1) / slots);
  const double ideal = waves * stages * TaskSeconds();
  std::printf("makespan %.2f s (ideal %.2f s: %d stage(s) x %d wave(s) of %.2f s on %d slots)\n",
              absl::ToDoubleSeconds(makespan), ideal, stages, waves, TaskSeconds(), slots);
}

}  // namespace examples

#endif  // NETPOOL_EXAMPLES_EXAMPLE_SUPPORT_H_
