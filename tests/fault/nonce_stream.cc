#include "tests/fault/nonce_stream.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "tests/fault/progress.h"

namespace netpool::testing {
namespace {

// Submit errors that a fault explains (the scheduler died, restarted or was
// briefly overloaded): the batch may or may not have been committed.
bool CutByFault(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kDeadlineExceeded:
    case absl::StatusCode::kCancelled:
    case absl::StatusCode::kAborted:
    case absl::StatusCode::kInternal:
    case absl::StatusCode::kUnknown:
    case absl::StatusCode::kResourceExhausted:
      return true;
    default:
      return false;
  }
}

}  // namespace

NonceStream::NonceStream(SchedulerClient* scheduler, JobLedger* ledger, Options options)
    : scheduler_(scheduler),
      ledger_(ledger),
      options_(std::move(options)),
      watcher_(std::make_unique<ResultWatcher>(
          scheduler, [ledger](v1::JobResult result) { ledger->Delivered(result); })),
      random_(options_.seed),
      submitter_([this] { Run(); }) {}

NonceStream::~NonceStream() {
  {
    absl::MutexLock lock(&mutex_);
    stopping_ = true;
  }
  submitter_.join();
}

void NonceStream::Run() {
  for (int first = 0; first < options_.jobs; first += options_.batch) {
    const int count = std::min(options_.batch, options_.jobs - first);
    // Wait for room in the window.
    while (!ledger_->WaitForOutstandingAtMost(options_.window - count, absl::Milliseconds(100))) {
      absl::MutexLock lock(&mutex_);
      if (stopping_) return;
    }
    if (!SubmitBatch(first, count)) return;
  }
  absl::MutexLock lock(&mutex_);
  submitted_all_ = true;
}

bool NonceStream::SubmitBatch(int first, int count) {
  v1::SubmitRequest request;
  std::uniform_int_distribution<int> sleep_ms(options_.min_sleep_ms, options_.max_sleep_ms);
  for (int i = first; i < first + count; ++i) {
    v1::JobSpec* spec = request.add_jobs();
    spec->set_job_id(absl::StrCat(options_.id_prefix, "-", i));
    spec->set_function("nonce");
    spec->add_args()->set_int_value(i);
    spec->add_args()->set_int_value(sleep_ms(random_));
    spec->set_max_attempts(options_.max_attempts);
  }
  std::bernoulli_distribution abandon(options_.abandon_share);
  for (;;) {
    {
      absl::MutexLock lock(&mutex_);
      if (stopping_) return false;
    }
    absl::StatusOr<v1::SubmitResponse> response = scheduler_->Submit(request);
    if (response.ok()) {
      std::vector<std::string> ids;
      ids.reserve(count);
      for (const v1::JobSpec& spec : request.jobs()) {
        ids.push_back(spec.job_id());
        ledger_->Acknowledged(spec.job_id(), spec.args(0).int_value());
      }
      watcher_->Watch(std::move(ids));
      return true;
    }
    absl::MutexLock lock(&mutex_);
    if (!CutByFault(response.status())) {
      error_ = absl::Status(response.status().code(),
                            absl::StrCat("Submit of ", options_.id_prefix, "-", first, "..",
                                         first + count - 1, ": ", response.status().message()));
      return false;
    }
    if (abandon(random_)) {
      for (const v1::JobSpec& spec : request.jobs()) ledger_->Unacknowledged(spec.job_id());
      abandoned_jobs_ += count;
      return true;
    }
    ++resent_batches_;
    // A moment for the scheduler to come back (the Submit waits for the
    // connection itself, but a restarting scheduler may refuse it first).
    mutex_.AwaitWithTimeout(absl::Condition(this, &NonceStream::Stopping),
                            absl::Milliseconds(50));
  }
}

bool NonceStream::WaitUntilDone(absl::Duration stall_limit) {
  // Every job is either given up or acknowledged and answered.
  auto settled = [this] {
    return ledger_->acknowledged() - ledger_->outstanding() + abandoned_jobs();
  };
  return WaitForProgress(settled, options_.jobs, stall_limit) && error().ok();
}

absl::Status NonceStream::error() const {
  absl::MutexLock lock(&mutex_);
  return error_;
}

int64_t NonceStream::resent_batches() const {
  absl::MutexLock lock(&mutex_);
  return resent_batches_;
}

int64_t NonceStream::abandoned_jobs() const {
  absl::MutexLock lock(&mutex_);
  return abandoned_jobs_;
}

std::string NonceStream::Progress() const {
  const int64_t acknowledged = ledger_->acknowledged();
  const int64_t outstanding = ledger_->outstanding();
  absl::MutexLock lock(&mutex_);
  return absl::StrCat(acknowledged, " of ", options_.jobs, " jobs acknowledged (",
                      abandoned_jobs_, " given up), ", outstanding,
                      " acknowledged jobs still without a result, submitting ",
                      submitted_all_ ? "done" : "not done",
                      error_.ok() ? "" : absl::StrCat(", stopped: ", error_.ToString()));
}

}  // namespace netpool::testing
