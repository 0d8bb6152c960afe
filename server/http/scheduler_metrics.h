// SchedulerMetrics is what netpoold's /metrics shows, in the Prometheus text
// format (prometheus-cpp): the job, queue and worker counts of the moment,
// read at scrape time, plus what can only be counted as it happens (jobs
// submitted, retried and finished by function, their queue wait and run
// time, RPCs by method and status code).
//
// It also keeps the recent history of finished jobs (FinishedHistory) for
// the dashboard's chart.
//
// Recording is a few atomic adds and, per call, one hash lookup of the
// function, under the caller's lock (SchedulerRuntime's): it never waits for
// a scrape, and a scrape never holds that lock while it formats.
#ifndef NETPOOL_SERVER_HTTP_SCHEDULER_METRICS_H_
#define NETPOOL_SERVER_HTTP_SCHEDULER_METRICS_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "netpool/v1/netpool.pb.h"
#include "server/core/clock.h"
#include "server/core/scheduler.h"
#include "server/http/finished_history.h"
#include "server/job_events.h"
#include "server/rpc_counting.h"

namespace prometheus {
class Counter;
class Histogram;
class Registry;
template <typename T>
class Family;
}  // namespace prometheus

namespace netpool {

class SchedulerMetrics final : public JobEvents, public RpcEvents {
 public:
  // Beyond this many function names, jobs are counted under function="other":
  // a client may name any function while no node is connected, and each name
  // would otherwise be a time series kept forever.
  static constexpr int kMaxFunctions = 200;
  // The same bound for queues (function and label set) and RPC methods.
  static constexpr int kMaxQueues = 200;
  static constexpr int kMaxMethods = 100;

  // REQUIRES: `clock` outlives the metrics.
  explicit SchedulerMetrics(const Clock* clock);
  ~SchedulerMetrics() override;
  SchedulerMetrics(const SchedulerMetrics&) = delete;
  SchedulerMetrics& operator=(const SchedulerMetrics&) = delete;

  void OnSubmitted(const std::string& function, int count) override;
  // Counts the job by its final state and, if it ever started, observes its
  // queue wait (submission to its last start) and its last attempt's run time.
  void OnFinished(const Job& job) override;
  void OnRetried(const Job& job) override;
  void OnRpcDone(absl::string_view method, grpc::StatusCode code) override;
  // One group commit of the durable store (Store::SetCommitObserver).
  void OnStoreCommit(absl::Duration took);

  // The whole exposition: the recorded metrics and `stats`, `workers` and
  // `queues`, the scheduler's state now.
  std::string Render(const v1::GetStatsResponse& stats,
                     const std::vector<v1::WorkerStatus>& workers,
                     const std::vector<QueueDepth>& queues) const;

  const FinishedHistory& history() const { return history_; }

 private:
  struct FunctionMetrics;
  FunctionMetrics& For(const std::string& function) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  std::unique_ptr<prometheus::Registry> registry_;
  prometheus::Family<prometheus::Counter>* submitted_;
  prometheus::Family<prometheus::Counter>* finished_;
  prometheus::Family<prometheus::Counter>* retried_;
  prometheus::Family<prometheus::Counter>* rpcs_;
  prometheus::Family<prometheus::Histogram>* queue_wait_;
  prometheus::Family<prometheus::Histogram>* run_time_;
  prometheus::Histogram* store_commit_;

  FinishedHistory history_;

  absl::Mutex mu_;
  absl::flat_hash_map<std::string, std::unique_ptr<FunctionMetrics>> functions_
      ABSL_GUARDED_BY(mu_);
  // By method, then status code.
  absl::flat_hash_map<std::string, absl::flat_hash_map<int, prometheus::Counter*>> rpc_counts_
      ABSL_GUARDED_BY(mu_);
};

}  // namespace netpool

#endif  // NETPOOL_SERVER_HTTP_SCHEDULER_METRICS_H_
