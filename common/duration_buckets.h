// DurationBuckets: the Prometheus histogram buckets of every duration netpool
// measures in seconds (netpoold's queue waits, run times and commits, a
// node's task times), so that the two sides' histograms line up. Included
// only by code that links prometheus-cpp.
#ifndef NETPOOL_COMMON_DURATION_BUCKETS_H_
#define NETPOOL_COMMON_DURATION_BUCKETS_H_

#include "prometheus/histogram.h"

namespace netpool {

// From a pipe round trip to a long batch job.
inline const prometheus::Histogram::BucketBoundaries& DurationBuckets() {
  static const auto* buckets = new prometheus::Histogram::BucketBoundaries{
      0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 60, 300, 1800, 3600};
  return *buckets;
}

}  // namespace netpool

#endif  // NETPOOL_COMMON_DURATION_BUCKETS_H_
