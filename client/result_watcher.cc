#include "client/result_watcher.h"

#include <algorithm>
#include <utility>

#include "spdlog/spdlog.h"

namespace netpool {
namespace {

// Ids per WatchRequest, so that re-watching a large backlog after a reconnect
// stays far below gRPC's message size limit.
constexpr size_t kMaxIdsPerRequest = 10000;

// Writes the ids; false when the stream broke.
bool WriteIds(SchedulerClient::WatchStream* stream, const std::vector<std::string>& ids) {
  for (size_t first = 0; first < ids.size(); first += kMaxIdsPerRequest) {
    v1::WatchRequest request;
    const size_t last = std::min(ids.size(), first + kMaxIdsPerRequest);
    for (size_t i = first; i < last; ++i) request.add_job_ids(ids[i]);
    // A failed write means the stream broke: the reader sees that, opens a
    // new stream and watches every unanswered id again.
    if (!stream->Write(request)) return false;
  }
  return true;
}

}  // namespace

ResultWatcher::ResultWatcher(SchedulerClient* scheduler, ResultCallback on_result,
                             Reconnector* reconnector, GiveUpCallback on_give_up)
    : scheduler_(scheduler),
      on_result_(std::move(on_result)),
      on_give_up_(std::move(on_give_up)),
      reconnector_(reconnector != nullptr ? reconnector : &own_reconnector_),
      reader_([this] { Run(); }) {}

ResultWatcher::~ResultWatcher() {
  {
    absl::MutexLock lock(&mutex_);
    stopping_ = true;
    if (context_ != nullptr) context_->TryCancel();
  }
  reader_.join();
}

void ResultWatcher::Watch(std::vector<std::string> job_ids) {
  absl::MutexLock write_lock(&write_mutex_);
  std::shared_ptr<Stream> stream;
  {
    absl::MutexLock lock(&mutex_);
    unanswered_.insert(job_ids.begin(), job_ids.end());
    stream = stream_;
  }
  // Without a live stream the next one watches these ids.
  if (stream != nullptr) WriteIds(stream.get(), job_ids);
}

void ResultWatcher::Run() {
  for (;;) {
    const absl::Status status = RunStream();
    {
      absl::MutexLock lock(&mutex_);
      if (stopping_) return;
    }
    const absl::Duration pause = AfterBreak(status);
    spdlog::info("result stream from scheduler {} broke ({}); reconnecting in {}",
                 scheduler_->address(), status.ToString(), absl::FormatDuration(pause));
    absl::MutexLock lock(&mutex_);
    if (mutex_.AwaitWithTimeout(absl::Condition(this, &ResultWatcher::Stopping), pause)) return;
  }
}

absl::Duration ResultWatcher::AfterBreak(const absl::Status& status) {
  // Any other break (the scheduler shutting down, say) is retried as well,
  // but is no sign that the scheduler is unreachable.
  if (!absl::IsUnavailable(status)) return Reconnector::kMaxPause;
  absl::StatusOr<absl::Duration> pause = reconnector_->Failed(status);
  if (pause.ok()) return *pause;
  std::vector<std::string> given_up;
  {
    absl::MutexLock lock(&mutex_);
    given_up.assign(unanswered_.begin(), unanswered_.end());
    unanswered_.clear();
  }
  if (!given_up.empty() && on_give_up_) on_give_up_(given_up, pause.status());
  return Reconnector::kMaxPause;
}

absl::Status ResultWatcher::RunStream() {
  grpc::ClientContext context;
  {
    absl::MutexLock lock(&mutex_);
    if (stopping_) return absl::CancelledError("stopping");
    context_ = &context;
  }
  std::shared_ptr<Stream> stream = scheduler_->OpenWatch(&context);
  {
    absl::MutexLock write_lock(&write_mutex_);
    std::vector<std::string> ids;
    {
      absl::MutexLock lock(&mutex_);
      stream_ = stream;
      ids.assign(unanswered_.begin(), unanswered_.end());
    }
    // The ids went out: the scheduler is reachable again.
    if (!ids.empty() && WriteIds(stream.get(), ids)) reconnector_->Reached();
  }
  v1::WatchResponse response;
  while (stream->Read(&response)) {
    reconnector_->Reached();
    Deliver(std::move(response));
    response.Clear();
  }
  grpc::Status status;
  {
    absl::MutexLock write_lock(&write_mutex_);
    {
      absl::MutexLock lock(&mutex_);
      stream_ = nullptr;
    }
    status = stream->Finish();
  }
  absl::MutexLock lock(&mutex_);
  context_ = nullptr;
  return scheduler_->RpcError(status, "Watch");
}

void ResultWatcher::Deliver(v1::WatchResponse response) {
  std::vector<v1::JobResult> fresh;
  {
    absl::MutexLock lock(&mutex_);
    for (v1::JobResult& result : *response.mutable_results()) {
      // An id answered on an earlier stream may be answered again after a
      // reconnect; each result is delivered once.
      if (unanswered_.erase(result.job_id()) > 0) fresh.push_back(std::move(result));
    }
  }
  for (v1::JobResult& result : fresh) on_result_(std::move(result));
}

}  // namespace netpool
