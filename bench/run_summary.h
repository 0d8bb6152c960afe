// RunSummary reduces the samples of one measurement, taken over several runs,
// to what the benchmark reports: median, min and max.
#ifndef NETPOOL_BENCH_RUN_SUMMARY_H_
#define NETPOOL_BENCH_RUN_SUMMARY_H_

#include <algorithm>
#include <vector>

namespace netpool::bench {

struct RunSummary {
  double median = 0;
  double min = 0;
  double max = 0;

  // REQUIRES: !samples.empty().
  static RunSummary Of(std::vector<double> samples) {
    std::sort(samples.begin(), samples.end());
    const size_t n = samples.size();
    const double median = n % 2 == 1 ? samples[n / 2] : (samples[n / 2 - 1] + samples[n / 2]) / 2;
    return {median, samples.front(), samples.back()};
  }
};

// The p-th percentile (0..100) of `samples` by nearest rank.
inline double Percentile(std::vector<double> samples, double p) {
  std::sort(samples.begin(), samples.end());
  size_t rank = static_cast<size_t>(p / 100.0 * static_cast<double>(samples.size()) + 0.5);
  rank = std::clamp<size_t>(rank, 1, samples.size());
  return samples[rank - 1];
}

}  // namespace netpool::bench

#endif  // NETPOOL_BENCH_RUN_SUMMARY_H_
