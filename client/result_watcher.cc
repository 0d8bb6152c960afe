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

// How a scheduler that is there says no to this client, as opposed to a
// stream that broke.
bool RefusesTheCaller(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kUnauthenticated:
    case absl::StatusCode::kPermissionDenied:
    case absl::StatusCode::kResourceExhausted:
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kUnimplemented:
      return true;
    default:
      return false;
  }
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

ResultWatcher::Submission ResultWatcher::SubmitAndWatch(std::vector<v1::JobSpec> specs) {
  {
    absl::MutexLock write_lock(&write_mutex_);
    submitting_.Clear();
    submitting_.mutable_submit()->Reserve(static_cast<int>(specs.size()));
    std::shared_ptr<Stream> stream;
    {
      absl::MutexLock lock(&mutex_);
      for (v1::JobSpec& spec : specs) {
        unanswered_.insert(spec.job_id());
        unsettled_.insert(spec.job_id());
        submitting_.add_submit()->Swap(&spec);
      }
      stream = stream_;
    }
    // Without a live stream the next one sends them. A failed write means
    // the stream broke: the reader opens a new one and sends them again.
    if (stream != nullptr) stream->Write(submitting_);
  }
  {
    absl::MutexLock lock(&mutex_);
    mutex_.Await(absl::Condition(this, &ResultWatcher::Settled));
  }
  absl::MutexLock write_lock(&write_mutex_);
  absl::MutexLock lock(&mutex_);
  Submission done = std::exchange(submission_, {});
  for (v1::JobSpec& spec : *submitting_.mutable_submit()) {
    if (refused_for_now_.contains(spec.job_id())) done.refused_for_now.push_back(std::move(spec));
  }
  refused_for_now_.clear();
  unsettled_.clear();  // when stopping
  submitting_.Clear();
  return done;
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
  // but is no sign that the scheduler is unreachable. A refused stream
  // (a token it does not take, a limit reached) refuses the jobs waiting to
  // be submitted on it: they fail with its error instead of waiting for
  // the refusal to end.
  if (!absl::IsUnavailable(status)) {
    if (RefusesTheCaller(status.code())) {
      std::vector<std::string> refused;
      {
        absl::MutexLock lock(&mutex_);
        for (const std::string& id : unsettled_) {
          unanswered_.erase(id);
          refused.push_back(id);
        }
        unsettled_.clear();
      }
      if (!refused.empty() && on_give_up_) on_give_up_(refused, status);
    }
    return Reconnector::kMaxPause;
  }
  absl::StatusOr<absl::Duration> pause = reconnector_->Failed(status);
  if (pause.ok()) return *pause;
  std::vector<std::string> given_up;
  {
    absl::MutexLock lock(&mutex_);
    given_up.assign(unanswered_.begin(), unanswered_.end());
    unanswered_.clear();
    unsettled_.clear();
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
    v1::WatchRequest resend;
    {
      absl::MutexLock lock(&mutex_);
      stream_ = stream;
      // The unsettled jobs first: watched before they are submitted again,
      // they would be unknown.
      for (const v1::JobSpec& spec : submitting_.submit()) {
        if (unsettled_.contains(spec.job_id())) *resend.add_submit() = spec;
      }
      for (const std::string& id : unanswered_) {
        if (!unsettled_.contains(id)) ids.push_back(id);
      }
    }
    const bool sent = resend.submit().empty() || stream->Write(resend);
    // The ids went out: the scheduler is reachable again (a resubmission
    // tells that by its answer).
    if (sent && !ids.empty() && WriteIds(stream.get(), ids) && resend.submit().empty()) {
      reconnector_->Reached();
    }
  }
  v1::WatchResponse response;
  while (stream->Read(&response)) {
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
  // Anything but jobs refused for now: the scheduler can take work again.
  bool answered = false;
  {
    absl::MutexLock lock(&mutex_);
    for (std::string& id : *response.mutable_submitted_job_ids()) {
      answered = true;
      if (unsettled_.erase(id) > 0) submission_.accepted.push_back(std::move(id));
    }
    for (v1::JobResult& result : *response.mutable_results()) {
      const std::string& id = result.job_id();
      const bool refused =
          result.state() == v1::JOB_STATE_UNSPECIFIED && unsettled_.erase(id) > 0;
      if (refused && result.error().code() == static_cast<int>(absl::StatusCode::kUnavailable)) {
        unanswered_.erase(id);
        refused_for_now_.insert(id);
        submission_.unavailable = absl::UnavailableError(result.error().message());
        continue;
      }
      answered = true;
      // An id answered on an earlier stream may be answered again after a
      // reconnect; each result is delivered once.
      if (unanswered_.erase(id) > 0) fresh.push_back(std::move(result));
    }
  }
  if (answered) reconnector_->Reached();
  for (v1::JobResult& result : fresh) on_result_(std::move(result));
}

}  // namespace netpool
