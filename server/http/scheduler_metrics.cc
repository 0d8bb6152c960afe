#include "server/http/scheduler_metrics.h"

#include <algorithm>
#include <iterator>
#include <utility>

#include "absl/time/time.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/gauge.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"
#include "prometheus/text_serializer.h"

namespace netpool {
namespace {

// Seconds, from a pipe round trip to a long batch job.
const prometheus::Histogram::BucketBoundaries& DurationBuckets() {
  static const auto* buckets = new prometheus::Histogram::BucketBoundaries{
      0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 60, 300, 1800, 3600};
  return *buckets;
}

}  // namespace

struct SchedulerMetrics::FunctionMetrics {
  prometheus::Counter* submitted;
  prometheus::Counter* succeeded;
  prometheus::Counter* failed;
  prometheus::Counter* cancelled;
  prometheus::Histogram* queue_wait;
  prometheus::Histogram* run_time;
};

SchedulerMetrics::SchedulerMetrics() : registry_(std::make_unique<prometheus::Registry>()) {
  submitted_ = &prometheus::BuildCounter()
                    .Name("netpool_jobs_submitted_total")
                    .Help("Jobs submitted, by function.")
                    .Register(*registry_);
  finished_ = &prometheus::BuildCounter()
                   .Name("netpool_jobs_finished_total")
                   .Help("Jobs finished, by function and final state.")
                   .Register(*registry_);
  queue_wait_ = &prometheus::BuildHistogram()
                     .Name("netpool_job_queue_wait_seconds")
                     .Help("Time from a job's submission to the start of its last attempt.")
                     .Register(*registry_);
  run_time_ = &prometheus::BuildHistogram()
                   .Name("netpool_job_run_seconds")
                   .Help("Run time of a finished job's last attempt.")
                   .Register(*registry_);
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
  metrics->queue_wait = &queue_wait_->Add(labels, DurationBuckets());
  metrics->run_time = &run_time_->Add(labels, DurationBuckets());
  return *functions_.emplace(function, std::move(metrics)).first->second;
}

void SchedulerMetrics::OnSubmitted(const std::string& function, int count) {
  absl::MutexLock lock(&mu_);
  For(function).submitted->Increment(count);
}

void SchedulerMetrics::OnFinished(const Job& job) {
  absl::MutexLock lock(&mu_);
  FunctionMetrics& metrics = For(job.spec.function());
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

std::string SchedulerMetrics::Render(const v1::GetStatsResponse& stats,
                                     const std::vector<v1::WorkerStatus>& workers) const {
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
