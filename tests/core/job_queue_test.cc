#include "server/core/job_queue.h"

#include <deque>

#include "gtest/gtest.h"

namespace netpool {
namespace {

// Owns the jobs a test queues, as the store owns the live records.
class JobQueueTest : public ::testing::Test {
 protected:
  Job* NewJob(std::string function, int priority, uint64_t sequence, std::string id,
              const JobQueue::Labels& labels = {}) {
    v1::JobSpec spec;
    spec.set_function(std::move(function));
    spec.set_priority(priority);
    spec.set_job_id(std::move(id));
    spec.mutable_labels()->insert(labels.begin(), labels.end());
    Job& job = jobs_.emplace_back(Job::FromSpec(spec));
    job.sequence = sequence;
    return &job;
  }
  void Push(std::string function, int priority, uint64_t sequence, std::string id,
            const JobQueue::Labels& labels = {}) {
    queue_.Push(NewJob(std::move(function), priority, sequence, std::move(id), labels));
  }
  // The id of the job PopFor takes, or "" if none.
  std::string PopIdFor(const std::vector<std::string>& functions,
                       const JobQueue::Labels& labels) {
    Job* job = queue_.PopFor(functions, labels);
    return job == nullptr ? "" : std::string(job->id());
  }

  std::deque<Job> jobs_;
  JobQueue queue_;
};

TEST_F(JobQueueTest, FifoWithinAPriority) {
  Push("f", 0, 1, "a");
  Push("f", 0, 2, "b");
  Push("f", 0, 3, "c");
  EXPECT_EQ(PopIdFor({"f"}, {}), "a");
  EXPECT_EQ(PopIdFor({"f"}, {}), "b");
  EXPECT_EQ(PopIdFor({"f"}, {}), "c");
  EXPECT_EQ(queue_.PopFor({"f"}, {}), nullptr);
  EXPECT_TRUE(queue_.empty());
}

TEST_F(JobQueueTest, HigherPriorityFirst) {
  Push("f", 0, 1, "low");
  Push("f", 5, 2, "high");
  EXPECT_EQ(PopIdFor({"f"}, {}), "high");
  EXPECT_EQ(PopIdFor({"f"}, {}), "low");
}

TEST_F(JobQueueTest, OffersOnlyFunctionsTheWorkerHas) {
  Push("gpu", 0, 1, "a");
  Push("cpu", 0, 2, "b");
  EXPECT_FALSE(queue_.HasWorkFor({"other"}, {}));
  EXPECT_EQ(PopIdFor({"cpu", "other"}, {}), "b");
  EXPECT_EQ(queue_.PopFor({"cpu"}, {}), nullptr);
  EXPECT_EQ(queue_.size(), 1u);
}

TEST_F(JobQueueTest, OldestAcrossFunctions) {
  Push("g", 0, 2, "second");
  Push("f", 0, 1, "first");
  EXPECT_EQ(PopIdFor({"g", "f"}, {}), "first");
  EXPECT_EQ(PopIdFor({"g", "f"}, {}), "second");
}

TEST_F(JobQueueTest, PopReturnsTheQueuedRecordItself) {
  Job* job = NewJob("f", 0, 1, "a");
  queue_.Push(job);
  EXPECT_EQ(queue_.PopFor({"f"}, {}), job);
}

TEST_F(JobQueueTest, RemoveTakesAJobOut) {
  Job* a = NewJob("f", 0, 1, "a");
  Job* b = NewJob("f", 0, 2, "b");
  queue_.Push(a);
  queue_.Push(b);
  EXPECT_TRUE(queue_.Remove(*a));
  EXPECT_FALSE(queue_.Remove(*a));
  EXPECT_FALSE(queue_.Remove(*NewJob("nope", 0, 2, "b")));
  EXPECT_FALSE(queue_.Remove(*NewJob("f", 0, 2, "b", {{"gpu", "1"}})));  // queued without labels
  EXPECT_EQ(queue_.size(), 1u);
  EXPECT_EQ(PopIdFor({"f"}, {}), "b");
}

TEST_F(JobQueueTest, LabelledJobIsNotOfferedToANodeLackingItsLabels) {
  Push("f", 0, 1, "gpu-job", {{"gpu", "1"}});
  EXPECT_FALSE(queue_.HasWorkFor({"f"}, {}));
  EXPECT_EQ(queue_.PopFor({"f"}, {}), nullptr);
  EXPECT_EQ(queue_.PopFor({"f"}, {{"gpu", "2"}}), nullptr);  // values match exactly
  EXPECT_EQ(queue_.PopFor({"f"}, {{"zone", "eu"}}), nullptr);
  EXPECT_EQ(queue_.PopFor({"g"}, {{"gpu", "1"}}), nullptr);
  EXPECT_EQ(queue_.size(), 1u);
}

TEST_F(JobQueueTest, LabelledJobIsOfferedToANodeWithMoreLabels) {
  Push("f", 0, 1, "gpu-job", {{"gpu", "1"}});
  EXPECT_TRUE(queue_.HasWorkFor({"f"}, {{"gpu", "1"}, {"zone", "eu"}}));
  EXPECT_EQ(PopIdFor({"f"}, {{"gpu", "1"}, {"zone", "eu"}}), "gpu-job");
  EXPECT_TRUE(queue_.empty());
}

TEST_F(JobQueueTest, JobWithoutLabelsRunsOnALabelledNode) {
  Push("f", 0, 1, "plain");
  EXPECT_EQ(PopIdFor({"f"}, {{"gpu", "1"}}), "plain");
}

TEST_F(JobQueueTest, PriorityThenSubmissionOrderAcrossLabelSetsAndFunctions) {
  Push("f", 0, 1, "plain");
  Push("f", 0, 2, "gpu-eu", {{"gpu", "1"}, {"zone", "eu"}});
  Push("g", 5, 3, "urgent-gpu", {{"gpu", "1"}});
  Push("f", 0, 4, "gpu", {{"gpu", "1"}});
  Push("f", 9, 5, "other-zone", {{"zone", "us"}});
  const JobQueue::Labels node = {{"gpu", "1"}, {"zone", "eu"}};
  EXPECT_EQ(PopIdFor({"f", "g"}, node), "urgent-gpu");
  EXPECT_EQ(PopIdFor({"f", "g"}, node), "plain");
  EXPECT_EQ(PopIdFor({"f", "g"}, node), "gpu-eu");
  EXPECT_EQ(PopIdFor({"f", "g"}, node), "gpu");
  EXPECT_EQ(queue_.PopFor({"f", "g"}, node), nullptr);
  EXPECT_EQ(PopIdFor({"f"}, {{"zone", "us"}}), "other-zone");
  EXPECT_TRUE(queue_.empty());
}

TEST_F(JobQueueTest, RemoveFindsALabelledJobByItsLabels) {
  Job* a = NewJob("f", 0, 1, "a", {{"gpu", "1"}});
  queue_.Push(a);
  Push("f", 0, 2, "b", {{"gpu", "1"}});
  EXPECT_FALSE(queue_.Remove(*NewJob("f", 0, 1, "a")));
  EXPECT_FALSE(queue_.Remove(*NewJob("f", 0, 1, "a", {{"gpu", "2"}})));
  EXPECT_TRUE(queue_.Remove(*a));
  EXPECT_EQ(queue_.size(), 1u);
  EXPECT_EQ(PopIdFor({"f"}, {{"gpu", "1"}}), "b");
}

}  // namespace
}  // namespace netpool
