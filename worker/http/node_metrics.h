// NodeMetrics is what netpool-worker's /metrics shows, in the Prometheus
// text format (prometheus-cpp): the node's worker processes busy and idle,
// those that died and were replaced, the jobs it ended by final state, and
// its tasks' run time by function.
//
// Its PoolObserver calls come from the pool thread only (pool_observer.h):
// each is an atomic add or two, and, for a function not seen before, one
// registration; the function map needs no lock. A scrape (Render) reads
// only prometheus-cpp's own state, on an HTTP thread.
#ifndef NETPOOL_WORKER_HTTP_NODE_METRICS_H_
#define NETPOOL_WORKER_HTTP_NODE_METRICS_H_

#include <memory>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "worker/pool_observer.h"

namespace prometheus {
class Counter;
class Gauge;
class Histogram;
class Registry;
template <typename T>
class Family;
}  // namespace prometheus

namespace netpool {

class NodeMetrics final : public PoolObserver {
 public:
  // Beyond this many function names, tasks are timed under
  // function="other": each name would otherwise be a time series kept
  // forever, and the scheduler sends whatever functions clients name.
  static constexpr int kMaxFunctions = 200;

  NodeMetrics();
  ~NodeMetrics() override;
  NodeMetrics(const NodeMetrics&) = delete;
  NodeMetrics& operator=(const NodeMetrics&) = delete;

  void OnProcesses(int busy, int idle) override;
  void OnTaskRan(const std::string& function, absl::Duration ran) override;
  void OnJobEnded(v1::JobState state) override;
  void OnProcessDied() override;

  // The whole exposition. Thread-safe.
  std::string Render() const;

 private:
  prometheus::Histogram& TaskTimeOf(const std::string& function);

  std::unique_ptr<prometheus::Registry> registry_;
  prometheus::Gauge* busy_;
  prometheus::Gauge* idle_;
  prometheus::Counter* restarts_;
  prometheus::Counter* succeeded_;
  prometheus::Counter* failed_;
  prometheus::Counter* cancelled_;
  prometheus::Family<prometheus::Histogram>* task_seconds_;
  // Only the pool thread touches it (see above).
  absl::flat_hash_map<std::string, prometheus::Histogram*> task_time_by_function_;
};

}  // namespace netpool

#endif  // NETPOOL_WORKER_HTTP_NODE_METRICS_H_
