#include "client/cli/job_window.h"

#include <algorithm>
#include <atomic>
#include <deque>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace netpool {
namespace cli {
namespace {

using ::testing::ElementsAreArray;

// Stands in for PoolClient: jobs are finished by a thread of the test's in
// the order it chooses, callbacks first, as the library does.
class FakePool {
 public:
  enum class Order { kNewestFirst, kOldestFirst };

  explicit FakePool(Order order) : order_(order) {
    worker_ = std::thread([this] { Work(); });
  }
  ~FakePool() {
    {
      absl::MutexLock lock(&mutex_);
      stopping_ = true;
    }
    worker_.join();
  }

  JobWindow::Submitter Submitter() {
    return [this](v1::JobSpec spec, const CallOptions& options) {
      auto state = std::make_shared<internal::ResultState>(spec.job_id(),
                                                           std::weak_ptr<internal::PoolClient>());
      absl::MutexLock lock(&mutex_);
      unfinished_.push_back({state, options});
      most_unfinished_ = std::max(most_unfinished_, unfinished_.size());
      return state;
    };
  }

  // While held, no job finishes.
  void Hold(bool held) {
    absl::MutexLock lock(&mutex_);
    held_ = held;
  }

  // Finished jobs' ids, in the order they finished.
  std::vector<std::string> finished() {
    absl::MutexLock lock(&mutex_);
    return finished_;
  }
  size_t most_unfinished() {
    absl::MutexLock lock(&mutex_);
    return most_unfinished_;
  }

 private:
  struct Job {
    std::shared_ptr<internal::ResultState> state;
    CallOptions options;
  };

  void Work() {
    while (true) {
      Job job;
      {
        absl::MutexLock lock(&mutex_);
        auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_) {
          return stopping_ || (!unfinished_.empty() && !held_);
        };
        mutex_.Await(absl::Condition(&ready));
        if (stopping_) return;
        if (order_ == Order::kNewestFirst) {
          job = std::move(unfinished_.back());
          unfinished_.pop_back();
        } else {
          job = std::move(unfinished_.front());
          unfinished_.pop_front();
        }
        finished_.push_back(job.state->job_id);
      }
      // Job ids ending in "!" fail.
      const std::string& id = job.state->job_id;
      internal::Outcome outcome;
      if (!id.empty() && id.back() == '!') {
        outcome.state = v1::FAILED;
        outcome.value = absl::InternalError("failed");
        job.options.error_callback(outcome.value.status());
      } else {
        outcome.state = v1::SUCCEEDED;
        outcome.value = Value(id);
        job.options.callback(*outcome.value);
      }
      job.state->Complete(std::move(outcome));
    }
  }

  const Order order_;
  absl::Mutex mutex_;
  std::deque<Job> unfinished_ ABSL_GUARDED_BY(mutex_);
  std::vector<std::string> finished_ ABSL_GUARDED_BY(mutex_);
  size_t most_unfinished_ ABSL_GUARDED_BY(mutex_) = 0;
  bool held_ ABSL_GUARDED_BY(mutex_) = false;
  bool stopping_ ABSL_GUARDED_BY(mutex_) = false;
  std::thread worker_;
};

// A source of `count` jobs with ids "0", "1", ... (odd ones get a "!" and
// fail when `odd_ones_fail`), ending in `end` (OK: the end of the input).
// Each job's `done` appends its result, or "error", to `handed_back`.
JobWindow::Source Jobs(int count, std::vector<std::string>* handed_back,
                       absl::Status end = absl::OkStatus(), bool odd_ones_fail = false) {
  auto next = std::make_shared<int>(0);
  return [=]() -> absl::StatusOr<std::optional<JobWindow::Job>> {
    if (*next == count) {
      if (!end.ok()) return end;
      return std::nullopt;
    }
    const int number = (*next)++;
    JobWindow::Job job;
    job.spec.set_job_id(absl::StrCat(number, odd_ones_fail && number % 2 == 1 ? "!" : ""));
    job.done = [handed_back](const internal::ResultState& finished) {
      const internal::Outcome& outcome = finished.outcome();
      handed_back->push_back(outcome.value.ok() ? outcome.value->AsString() : "error");
    };
    return job;
  };
}

std::vector<std::string> Ids(int count) {
  std::vector<std::string> ids;
  for (int i = 0; i < count; ++i) ids.push_back(absl::StrCat(i));
  return ids;
}

TEST(JobWindow, HandsJobsBackInInputOrderWhateverOrderTheyFinishIn) {
  FakePool pool(FakePool::Order::kNewestFirst);
  std::vector<std::string> handed_back;
  JobWindow window(8, /*unordered=*/false, pool.Submitter());
  EXPECT_TRUE(window.Run(Jobs(200, &handed_back), [](std::optional<size_t>) {}).ok());
  EXPECT_THAT(handed_back, ElementsAreArray(Ids(200)));
  EXPECT_NE(pool.finished(), Ids(200)) << "the fake should have finished them out of order";
}

TEST(JobWindow, UnorderedHandsJobsBackAsTheyFinish) {
  FakePool pool(FakePool::Order::kNewestFirst);
  std::vector<std::string> handed_back;
  JobWindow window(8, /*unordered=*/true, pool.Submitter());
  EXPECT_TRUE(window.Run(Jobs(200, &handed_back), [](std::optional<size_t>) {}).ok());
  EXPECT_EQ(handed_back, pool.finished());
  EXPECT_EQ(handed_back.size(), 200u);
}

TEST(JobWindow, FailedJobsAreHandedBackInTheirPlace) {
  FakePool pool(FakePool::Order::kNewestFirst);
  std::vector<std::string> handed_back;
  JobWindow window(3, /*unordered=*/false, pool.Submitter());
  EXPECT_TRUE(window.Run(Jobs(4, &handed_back, absl::OkStatus(), /*odd_ones_fail=*/true),
                         [](std::optional<size_t>) {})
                  .ok());
  EXPECT_THAT(handed_back, ElementsAreArray({"0", "error", "2", "error"}));
}

TEST(JobWindow, NeverHasMoreThanItsCapacityUnfinished) {
  FakePool pool(FakePool::Order::kNewestFirst);
  std::vector<std::string> handed_back;
  JobWindow window(16, /*unordered=*/false, pool.Submitter());
  EXPECT_TRUE(window.Run(Jobs(5000, &handed_back), [](std::optional<size_t>) {}).ok());
  EXPECT_EQ(handed_back.size(), 5000u);
  EXPECT_LE(pool.most_unfinished(), 16u);
}

TEST(JobWindow, AnInputErrorComesBackAfterTheJobsReadBeforeIt) {
  FakePool pool(FakePool::Order::kOldestFirst);
  std::vector<std::string> handed_back;
  JobWindow window(4, /*unordered=*/false, pool.Submitter());
  absl::Status status = window.Run(Jobs(10, &handed_back, absl::InvalidArgumentError("line 11")),
                                   [](std::optional<size_t>) {});
  EXPECT_EQ(status, absl::InvalidArgumentError("line 11"));
  EXPECT_THAT(handed_back, ElementsAreArray(Ids(10)));
}

TEST(JobWindow, TicksWithTheItemCountOnceTheInputIsRead) {
  FakePool pool(FakePool::Order::kOldestFirst);
  std::vector<std::string> handed_back;
  std::optional<size_t> last_total;
  int ticks = 0;
  JobWindow window(4, /*unordered=*/false, pool.Submitter());
  EXPECT_TRUE(window
                  .Run(Jobs(10, &handed_back),
                       [&](std::optional<size_t> total) {
                         ++ticks;
                         last_total = total;
                       })
                  .ok());
  EXPECT_GT(ticks, 0);
  EXPECT_EQ(last_total, 10u);
}

TEST(JobWindow, WaitsForTheLastJobsWithoutSpinning) {
  FakePool pool(FakePool::Order::kOldestFirst);
  pool.Hold(true);
  std::vector<std::string> handed_back;
  std::atomic<int> ticks{0};
  JobWindow window(4, /*unordered=*/false, pool.Submitter());
  std::thread run([&] {
    EXPECT_TRUE(window.Run(Jobs(2, &handed_back), [&](std::optional<size_t>) { ++ticks; }).ok());
  });
  // The input is read at once; then nothing happens until the jobs finish,
  // and the window should only tick (every 100 ms) meanwhile.
  absl::SleepFor(absl::Milliseconds(500));
  pool.Hold(false);
  run.join();
  EXPECT_EQ(handed_back.size(), 2u);
  EXPECT_LT(ticks.load(), 50);
}

TEST(JobWindow, StopSubmitsNoFurtherJobs) {
  FakePool pool(FakePool::Order::kOldestFirst);
  std::vector<std::string> handed_back;
  JobWindow window(2, /*unordered=*/false, pool.Submitter());
  int next = 0;
  auto source = [&]() -> absl::StatusOr<std::optional<JobWindow::Job>> {
    if (next == 100) return std::nullopt;
    JobWindow::Job job;
    job.spec.set_job_id(absl::StrCat(next++));
    job.done = [&](const internal::ResultState& finished) {
      handed_back.push_back(finished.job_id);
      if (finished.job_id == "3") window.Stop(nullptr);
    };
    return job;
  };
  EXPECT_TRUE(window.Run(source, [](std::optional<size_t>) {}).ok());
  // Job 4 may have been running beside job 3; nothing after it starts.
  EXPECT_GE(handed_back.size(), 4u);
  EXPECT_LE(handed_back.size(), 5u);
  EXPECT_LE(pool.finished().size(), 5u);
}

TEST(JobWindow, EmptyInputEndsAtOnce) {
  FakePool pool(FakePool::Order::kOldestFirst);
  std::vector<std::string> handed_back;
  JobWindow window(4, /*unordered=*/true, pool.Submitter());
  EXPECT_TRUE(window.Run(Jobs(0, &handed_back), [](std::optional<size_t>) {}).ok());
  EXPECT_TRUE(handed_back.empty());
}

}  // namespace
}  // namespace cli
}  // namespace netpool
