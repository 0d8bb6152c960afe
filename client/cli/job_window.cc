#include "client/cli/job_window.h"

#include <cstdint>
#include <deque>
#include <map>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_set.h"
#include "absl/synchronization/mutex.h"

namespace netpool {
namespace cli {

struct JobWindow::Shared {
  absl::Mutex mutex;
  // Read from the input, not yet submitted.
  std::deque<Job> read ABSL_GUARDED_BY(mutex);
  size_t items_read ABSL_GUARDED_BY(mutex) = 0;
  bool input_ended ABSL_GUARDED_BY(mutex) = false;
  absl::Status input_error ABSL_GUARDED_BY(mutex);
  // Jobs (by sequence number) whose callback has run since Run last looked.
  std::vector<uint64_t> finished ABSL_GUARDED_BY(mutex);
  // Run left early (by an exception): the reader must stop.
  bool stopping ABSL_GUARDED_BY(mutex) = false;
};

JobWindow::JobWindow(size_t capacity, bool unordered, Submitter submit)
    : capacity_(capacity),
      unordered_(unordered),
      submit_(std::move(submit)),
      shared_(std::make_shared<Shared>()) {}

JobWindow::~JobWindow() {
  {
    absl::MutexLock lock(&shared_->mutex);
    shared_->stopping = true;
  }
  if (reader_.joinable()) reader_.join();
}

void JobWindow::ReadLoop(const Source& source) {
  Shared& shared = *shared_;
  while (true) {
    {
      absl::MutexLock lock(&shared.mutex);
      auto has_room = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(shared.mutex) {
        return shared.read.size() < capacity_ || shared.stopping;
      };
      shared.mutex.Await(absl::Condition(&has_room));
      if (shared.stopping) return;
    }
    absl::StatusOr<std::optional<Job>> job = source();
    absl::MutexLock lock(&shared.mutex);
    if (!job.ok() || !job->has_value()) {
      shared.input_ended = true;
      shared.input_error = job.status();
      return;
    }
    shared.items_read += (*job)->items;
    shared.read.push_back(*std::move(*job));
  }
}

absl::Status JobWindow::Run(Source source, const Tick& tick) {
  reader_ = std::thread([this, source = std::move(source)] { ReadLoop(source); });
  Shared& shared = *shared_;

  struct Running {
    std::shared_ptr<internal::ResultState> result;
    std::function<void(const internal::ResultState&)> done;
    std::function<void(const internal::ResultState&)> finished;
  };
  std::map<uint64_t, Running> running;  // by sequence number: input order
  absl::flat_hash_set<uint64_t> finished;
  uint64_t next_sequence = 0;
  std::vector<Job> to_submit;
  std::vector<uint64_t> newly_finished;

  auto tell_finished = [&](Running& job) {
    // The callback runs just before the result is ready: wait out the gap.
    job.result->WaitUntil(absl::InfiniteFuture());
    if (job.finished) job.finished(*job.result);
  };
  auto hand_back = [&](std::map<uint64_t, Running>::iterator it) {
    it->second.done(*it->second.result);
    running.erase(it);
  };

  while (true) {
    bool input_done = false;
    std::optional<size_t> total_items;
    {
      absl::MutexLock lock(&shared.mutex);
      const size_t room = capacity_ - running.size();
      auto something_to_do = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(shared.mutex) {
        return !shared.finished.empty() || (room > 0 && !shared.read.empty()) ||
               (shared.input_ended && shared.read.empty() && running.empty());
      };
      shared.mutex.AwaitWithTimeout(absl::Condition(&something_to_do), kTickInterval);
      newly_finished.swap(shared.finished);
      if (stopped_) {
        shared.read.clear();
        shared.stopping = true;  // the reader reads no further
      }
      while (to_submit.size() < room && !shared.read.empty()) {
        to_submit.push_back(std::move(shared.read.front()));
        shared.read.pop_front();
      }
      input_done = shared.input_ended && shared.read.empty();
      if (shared.input_ended) total_items = shared.items_read;
    }

    for (Job& job : to_submit) {
      const uint64_t sequence = next_sequence++;
      auto note_finished = [shared = shared_, sequence] {
        absl::MutexLock lock(&shared->mutex);
        shared->finished.push_back(sequence);
      };
      CallOptions options;
      options.callback = [note_finished](const Value&) { note_finished(); };
      options.error_callback = [note_finished](const absl::Status&) { note_finished(); };
      running[sequence] = Running{submit_(std::move(job.spec), options), std::move(job.done),
                                  std::move(job.finished)};
    }
    to_submit.clear();

    for (uint64_t sequence : newly_finished) tell_finished(running.at(sequence));
    if (unordered_) {
      for (uint64_t sequence : newly_finished) hand_back(running.find(sequence));
    } else {
      finished.insert(newly_finished.begin(), newly_finished.end());
      while (!running.empty() && finished.erase(running.begin()->first) > 0) {
        hand_back(running.begin());
      }
    }
    newly_finished.clear();
    if (cancel_running_) {
      std::vector<std::shared_ptr<internal::ResultState>> unfinished;
      for (const auto& [sequence, job] : running) {
        if (finished.count(sequence) == 0) unfinished.push_back(job.result);
      }
      cancel_running_(unfinished);
      cancel_running_ = nullptr;
    }

    tick(total_items);
    if ((input_done || stopped_) && running.empty()) break;
  }
  if (stopped_) {
    absl::MutexLock lock(&shared.mutex);
    shared.stopping = true;
  }
  reader_.join();
  absl::MutexLock lock(&shared.mutex);
  return shared.input_error;
}

void JobWindow::Stop(Canceller cancel_running) {
  stopped_ = true;
  cancel_running_ = std::move(cancel_running);
}

}  // namespace cli
}  // namespace netpool
