#include "client/submit_queue.h"

#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace netpool {
namespace {

using ::testing::ElementsAre;

constexpr absl::Duration kPatience = absl::Seconds(10);

v1::JobSpec Job(const std::string& id) {
  v1::JobSpec spec;
  spec.set_job_id(id);
  spec.set_function("echo");
  return spec;
}

// A send function that records each batch's ids and can hold the first send
// until released, the way a slow Submit RPC would.
class RecordingSender {
 public:
  explicit RecordingSender(bool hold_first) : hold_first_(hold_first) {}

  void Send(std::vector<v1::JobSpec> batch) {
    bool first;
    {
      absl::MutexLock lock(&mutex_);
      first = batches_.empty();
      std::vector<std::string> ids;
      for (const v1::JobSpec& spec : batch) ids.push_back(spec.job_id());
      batches_.push_back(ids);
    }
    if (first && hold_first_) {
      first_started_.Notify();
      release_.WaitForNotification();
    }
  }

  SubmitQueue::SendFunction AsFunction() {
    return [this](std::vector<v1::JobSpec> batch) { Send(std::move(batch)); };
  }

  bool WaitForFirstSend() { return first_started_.WaitForNotificationWithTimeout(kPatience); }
  void Release() { release_.Notify(); }

  // Waits until `count` jobs in all have been sent.
  bool WaitForJobs(size_t count) {
    absl::MutexLock lock(&mutex_);
    auto sent_enough = [this, count]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_) {
      size_t total = 0;
      for (const auto& batch : batches_) total += batch.size();
      return total >= count;
    };
    return mutex_.AwaitWithTimeout(absl::Condition(&sent_enough), kPatience);
  }

  std::vector<std::vector<std::string>> batches() {
    absl::MutexLock lock(&mutex_);
    return batches_;
  }

 private:
  const bool hold_first_;
  absl::Notification first_started_;
  absl::Notification release_;
  absl::Mutex mutex_;
  std::vector<std::vector<std::string>> batches_ ABSL_GUARDED_BY(mutex_);
};

TEST(SubmitQueue, LoneJobIsSentAtOnce) {
  RecordingSender sender(/*hold_first=*/false);
  SubmitQueue queue(sender.AsFunction());
  queue.Push(Job("a"));
  ASSERT_TRUE(sender.WaitForJobs(1));
  EXPECT_THAT(sender.batches(), ElementsAre(ElementsAre("a")));
}

TEST(SubmitQueue, JobsPushedDuringASendTravelTogetherInOrder) {
  RecordingSender sender(/*hold_first=*/true);
  SubmitQueue queue(sender.AsFunction());
  queue.Push(Job("a"));
  ASSERT_TRUE(sender.WaitForFirstSend());
  queue.Push(Job("b"));
  queue.Push(Job("c"));
  queue.Push(Job("d"));
  sender.Release();
  ASSERT_TRUE(sender.WaitForJobs(4));
  EXPECT_THAT(sender.batches(), ElementsAre(ElementsAre("a"), ElementsAre("b", "c", "d")));
}

TEST(SubmitQueue, BatchStopsAtTheJobLimit) {
  RecordingSender sender(/*hold_first=*/true);
  SubmitQueue::Limits limits;
  limits.max_jobs = 2;
  SubmitQueue queue(sender.AsFunction(), limits);
  queue.Push(Job("a"));
  ASSERT_TRUE(sender.WaitForFirstSend());
  for (const char* id : {"b", "c", "d", "e", "f"}) queue.Push(Job(id));
  sender.Release();
  ASSERT_TRUE(sender.WaitForJobs(6));
  EXPECT_THAT(sender.batches(), ElementsAre(ElementsAre("a"), ElementsAre("b", "c"),
                                            ElementsAre("d", "e"), ElementsAre("f")));
}

TEST(SubmitQueue, BatchStopsAtTheByteLimitButCarriesAnOversizedJob) {
  RecordingSender sender(/*hold_first=*/true);
  const size_t job_bytes = Job("b").ByteSizeLong();
  SubmitQueue::Limits limits;
  limits.max_bytes = 2 * job_bytes;
  SubmitQueue queue(sender.AsFunction(), limits);
  queue.Push(Job("a"));
  ASSERT_TRUE(sender.WaitForFirstSend());
  v1::JobSpec big = Job("x");
  big.set_function(std::string(4 * job_bytes, 'f'));
  for (v1::JobSpec spec : {Job("b"), Job("c"), Job("d"), big, Job("e")}) queue.Push(spec);
  sender.Release();
  ASSERT_TRUE(sender.WaitForJobs(6));
  EXPECT_THAT(sender.batches(), ElementsAre(ElementsAre("a"), ElementsAre("b", "c"),
                                            ElementsAre("d"), ElementsAre("x"), ElementsAre("e")));
}

TEST(SubmitQueue, DestructionSendsWhatIsStillQueued) {
  RecordingSender sender(/*hold_first=*/true);
  {
    SubmitQueue queue(sender.AsFunction());
    queue.Push(Job("a"));
    ASSERT_TRUE(sender.WaitForFirstSend());
    queue.Push(Job("b"));
    queue.Push(Job("c"));
    sender.Release();
  }
  EXPECT_THAT(sender.batches(), ElementsAre(ElementsAre("a"), ElementsAre("b", "c")));
}

}  // namespace
}  // namespace netpool
