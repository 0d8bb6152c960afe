#include "worker/http/node_metrics.h"

#include <algorithm>

#include "common/duration_buckets.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/gauge.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"
#include "prometheus/text_serializer.h"

namespace netpool {
NodeMetrics::NodeMetrics() : registry_(std::make_unique<prometheus::Registry>()) {
  auto& processes = prometheus::BuildGauge()
                        .Name("netpool_node_processes")
                        .Help("Worker processes of this node, running a job (busy) or not (idle).")
                        .Register(*registry_);
  busy_ = &processes.Add({{"state", "busy"}});
  idle_ = &processes.Add({{"state", "idle"}});
  restarts_ = &prometheus::BuildCounter()
                   .Name("netpool_node_process_restarts_total")
                   .Help("Worker processes that died on their own (a crash, a kill from "
                         "outside) and were replaced.")
                   .Register(*registry_)
                   .Add({});
  auto& jobs = prometheus::BuildCounter()
                   .Name("netpool_node_jobs_total")
                   .Help("Jobs this node ended, by final state.")
                   .Register(*registry_);
  succeeded_ = &jobs.Add({{"state", "succeeded"}});
  failed_ = &jobs.Add({{"state", "failed"}});
  cancelled_ = &jobs.Add({{"state", "cancelled"}});
  task_seconds_ = &prometheus::BuildHistogram()
                       .Name("netpool_node_task_seconds")
                       .Help("Run time of the tasks this node's processes finished or died "
                             "running, by function.")
                       .Register(*registry_);
}

NodeMetrics::~NodeMetrics() = default;

void NodeMetrics::OnProcesses(int busy, int idle) {
  busy_->Set(busy);
  idle_->Set(idle);
}

prometheus::Histogram& NodeMetrics::TaskTimeOf(const std::string& function) {
  auto it = task_time_by_function_.find(function);
  if (it != task_time_by_function_.end()) return *it->second;
  if (task_time_by_function_.size() >= kMaxFunctions && function != "other") {
    return TaskTimeOf("other");
  }
  prometheus::Histogram* histogram = &task_seconds_->Add({{"function", function}}, DurationBuckets());
  task_time_by_function_.emplace(function, histogram);
  return *histogram;
}

void NodeMetrics::OnTaskRan(const std::string& function, absl::Duration ran) {
  TaskTimeOf(function).Observe(std::max(0.0, absl::ToDoubleSeconds(ran)));
}

void NodeMetrics::OnJobEnded(v1::JobState state) {
  switch (state) {
    case v1::SUCCEEDED:
      succeeded_->Increment();
      break;
    case v1::FAILED:
      failed_->Increment();
      break;
    default:
      cancelled_->Increment();
      break;
  }
}

void NodeMetrics::OnProcessDied() { restarts_->Increment(); }

std::string NodeMetrics::Render() const {
  return prometheus::TextSerializer().Serialize(registry_->Collect());
}

}  // namespace netpool
