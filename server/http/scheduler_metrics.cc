#include "server/http/scheduler_metrics.h"

#include <algorithm>
#include <iterator>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "common/duration_buckets.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/gauge.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"
#include "prometheus/text_serializer.h"

namespace netpool {
struct SchedulerMetrics::FunctionMetrics {
  prometheus::Counter* submitted;
  prometheus::Counter* succeeded;
  prometheus::Counter* failed;
  prometheus::Counter* cancelled;
  prometheus::Counter* retried;
  prometheus::Histogram* queue_wait;
  prometheus::Histogram* run_time;
};

SchedulerMetrics::SchedulerMetrics(const Clock* clock)
    : registry_(std::make_unique<prometheus::Registry>()), history_(clock) {
  submitted_ = &prometheus::BuildCounter()
                    .Name("netpool_jobs_submitted_total")
                    .Help("Jobs submitted, by function.")
                    .Register(*registry_);
  finished_ = &prometheus::BuildCounter()
                   .Name("netpool_jobs_finished_total")
                   .Help("Jobs finished, by function and final state.")
                   .Register(*registry_);
  retried_ = &prometheus::BuildCounter()
                  .Name("netpool_jobs_retried_total")
                  .Help("Attempts that failed, or whose node or process was lost, after which "
                        "the job was queued to run again, by function.")
                  .Register(*registry_);
  rpcs_ = &prometheus::BuildCounter()
               .Name("netpool_rpcs_total")
               .Help("gRPC calls answered, by method and status code.")
               .Register(*registry_);
  queue_wait_ = &prometheus::BuildHistogram()
                     .Name("netpool_job_queue_wait_seconds")
                     .Help("Time from a job's submission to the start of its last attempt.")
                     .Register(*registry_);
  run_time_ = &prometheus::BuildHistogram()
                   .Name("netpool_job_run_seconds")
                   .Help("Run time of a finished job's last attempt.")
                   .Register(*registry_);
  store_commit_ = &prometheus::BuildHistogram()
                       .Name("netpool_store_commit_seconds")
                       .Help("Time each group commit of the durable store (--data) took.")
                       .Register(*registry_)
                       .Add({}, DurationBuckets());
}

SchedulerMetrics::~SchedulerMetrics() = default;

SchedulerMetrics::FunctionMetrics& SchedulerMetrics::For(const std::string& function) {
  auto it = functions_.find(function);
  if (it != functions_.end()) return *it->second;
  if (functions_.size() >= kMaxFunctions && function != "other") return For("other");
  auto metrics = std::make_unique<FunctionMetrics>();
  const prometheus::Labels labels = {{"function", function}};
  auto finished = [&](const char* state) {
    return &finished_->Add({{"function", function}, {"state", state}});
  };
  metrics->submitted = &submitted_->Add(labels);
  metrics->succeeded = finished("succeeded");
  metrics->failed = finished("failed");
  metrics->cancelled = finished("cancelled");
  metrics->retried = &retried_->Add(labels);
  metrics->queue_wait = &queue_wait_->Add(labels, DurationBuckets());
  metrics->run_time = &run_time_->Add(labels, DurationBuckets());
  return *functions_.emplace(function, std::move(metrics)).first->second;
}

void SchedulerMetrics::OnSubmitted(const std::string& function, int count) {
  absl::MutexLock lock(&mu_);
  For(function).submitted->Increment(count);
}

void SchedulerMetrics::OnFinished(const Job& job) {
  history_.Record(job.state);
  absl::MutexLock lock(&mu_);
  FunctionMetrics& metrics = For(std::string(job.function()));
  switch (job.state) {
    case v1::SUCCEEDED:
      metrics.succeeded->Increment();
      break;
    case v1::FAILED:
      metrics.failed->Increment();
      break;
    default:
      metrics.cancelled->Increment();
      break;
  }
  if (job.started == absl::InfinitePast()) return;  // cancelled before it ran
  // Wall times, which a clock step can turn around.
  metrics.queue_wait->Observe(std::max(0.0, absl::ToDoubleSeconds(job.started - job.submitted)));
  metrics.run_time->Observe(std::max(0.0, absl::ToDoubleSeconds(job.finished - job.started)));
}

void SchedulerMetrics::OnRetried(const Job& job) {
  absl::MutexLock lock(&mu_);
  For(std::string(job.function())).retried->Increment();
}

void SchedulerMetrics::OnStoreCommit(absl::Duration took) {
  store_commit_->Observe(absl::ToDoubleSeconds(took));
}

void SchedulerMetrics::OnRpcDone(absl::string_view method, grpc::StatusCode code) {
  absl::MutexLock lock(&mu_);
  auto it = rpc_counts_.find(method);
  if (it == rpc_counts_.end()) {
    // gRPC answers unknown methods too, so their names are the client's.
    if (rpc_counts_.size() >= kMaxMethods) method = "other";
    it = rpc_counts_.try_emplace(method).first;
  }
  prometheus::Counter*& counter = it->second[static_cast<int>(code)];
  if (counter == nullptr) {
    counter = &rpcs_->Add(
        {{"method", std::string(method)},
         {"code", absl::StatusCodeToString(static_cast<absl::StatusCode>(code))}});
  }
  counter->Increment();
}

std::string SchedulerMetrics::Render(const v1::GetStatsResponse& stats,
                                     const std::vector<v1::WorkerStatus>& workers,
                                     const std::vector<QueueDepth>& queues) const {
  // The state of the moment, in a registry of its own made for this scrape.
  prometheus::Registry now;
  auto& jobs = prometheus::BuildGauge()
                   .Name("netpool_jobs")
                   .Help("Jobs the scheduler holds, by state (finished ones until erased).")
                   .Register(now);
  const std::pair<const char*, int64_t> by_state[] = {
      {"pending", stats.pending()},     {"running", stats.running()},
      {"succeeded", stats.succeeded()}, {"failed", stats.failed()},
      {"cancelled", stats.cancelled()},
  };
  for (const auto& [state, count] : by_state) {
    jobs.Add({{"state", state}}).Set(static_cast<double>(count));
  }
  auto& queue_depth = prometheus::BuildGauge()
                          .Name("netpool_queue_depth")
                          .Help("Jobs ready to run now, by function and label set (k=v,... in "
                                "key order); beyond the largest 200 queues, under "
                                "function=\"other\".")
                          .Register(now);
  std::vector<const QueueDepth*> largest;
  for (const QueueDepth& queue : queues) largest.push_back(&queue);
  std::sort(largest.begin(), largest.end(),
            [](const QueueDepth* a, const QueueDepth* b) { return a->jobs > b->jobs; });
  int64_t others = 0;
  for (size_t i = 0; i < largest.size(); ++i) {
    if (i >= kMaxQueues) {
      others += largest[i]->jobs;
      continue;
    }
    std::string labels;
    for (const auto& [key, value] : largest[i]->labels) {
      absl::StrAppend(&labels, labels.empty() ? "" : ",", key, "=", value);
    }
    queue_depth.Add({{"function", largest[i]->function}, {"labels", labels}})
        .Set(static_cast<double>(largest[i]->jobs));
  }
  if (others > 0) {
    queue_depth.Add({{"function", "other"}, {"labels", ""}}).Set(static_cast<double>(others));
  }
  prometheus::BuildGauge()
      .Name("netpool_workers")
      .Help("Connected worker nodes.")
      .Register(now)
      .Add({})
      .Set(workers.size());
  int64_t slots = 0;
  int64_t busy = 0;
  for (const v1::WorkerStatus& worker : workers) {
    slots += worker.slots();
    busy += std::min(worker.running(), worker.slots());
  }
  auto& worker_slots = prometheus::BuildGauge()
                           .Name("netpool_worker_slots")
                           .Help("Worker processes of the connected nodes, busy or free.")
                           .Register(now);
  worker_slots.Add({{"state", "busy"}}).Set(static_cast<double>(busy));
  worker_slots.Add({{"state", "free"}}).Set(static_cast<double>(slots - busy));
  prometheus::BuildGauge()
      .Name("netpool_ready")
      .Help("1 while the scheduler accepts jobs and dispatches, 0 while it cannot (see /readyz).")
      .Register(now)
      .Add({})
      .Set(stats.ready() ? 1 : 0);
  prometheus::BuildGauge()
      .Name("netpool_uptime_seconds")
      .Help("Seconds since netpoold started.")
      .Register(now)
      .Add({})
      .Set(stats.uptime_seconds());

  std::vector<prometheus::MetricFamily> families = now.Collect();
  std::vector<prometheus::MetricFamily> counted = registry_->Collect();
  std::move(counted.begin(), counted.end(), std::back_inserter(families));
  return prometheus::TextSerializer().Serialize(families);
}

}  // namespace netpool
