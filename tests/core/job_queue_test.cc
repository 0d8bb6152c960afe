#include "server/core/job_queue.h"

#include "gtest/gtest.h"

namespace netpool {
namespace {

TEST(JobQueue, FifoWithinAPriority) {
  JobQueue queue;
  queue.Push({"f", 0, 1, "a"});
  queue.Push({"f", 0, 2, "b"});
  queue.Push({"f", 0, 3, "c"});
  EXPECT_EQ(queue.PopFor({"f"}, {})->job_id, "a");
  EXPECT_EQ(queue.PopFor({"f"}, {})->job_id, "b");
  EXPECT_EQ(queue.PopFor({"f"}, {})->job_id, "c");
  EXPECT_FALSE(queue.PopFor({"f"}, {}).has_value());
  EXPECT_TRUE(queue.empty());
}

TEST(JobQueue, HigherPriorityFirst) {
  JobQueue queue;
  queue.Push({"f", 0, 1, "low"});
  queue.Push({"f", 5, 2, "high"});
  EXPECT_EQ(queue.PopFor({"f"}, {})->job_id, "high");
  EXPECT_EQ(queue.PopFor({"f"}, {})->job_id, "low");
}

TEST(JobQueue, OffersOnlyFunctionsTheWorkerHas) {
  JobQueue queue;
  queue.Push({"gpu", 0, 1, "a"});
  queue.Push({"cpu", 0, 2, "b"});
  EXPECT_FALSE(queue.HasWorkFor({"other"}, {}));
  EXPECT_EQ(queue.PopFor({"cpu", "other"}, {})->job_id, "b");
  EXPECT_FALSE(queue.PopFor({"cpu"}, {}).has_value());
  EXPECT_EQ(queue.size(), 1u);
}

TEST(JobQueue, OldestAcrossFunctions) {
  JobQueue queue;
  queue.Push({"g", 0, 2, "second"});
  queue.Push({"f", 0, 1, "first"});
  EXPECT_EQ(queue.PopFor({"g", "f"}, {})->job_id, "first");
  EXPECT_EQ(queue.PopFor({"g", "f"}, {})->job_id, "second");
}

TEST(JobQueue, RemoveTakesAJobOut) {
  JobQueue queue;
  queue.Push({"f", 0, 1, "a"});
  queue.Push({"f", 0, 2, "b"});
  EXPECT_TRUE(queue.Remove({"f", 0, 1, "a"}));
  EXPECT_FALSE(queue.Remove({"f", 0, 1, "a"}));
  EXPECT_FALSE(queue.Remove({"nope", 0, 2, "b"}));
  EXPECT_FALSE(queue.Remove({"f", 0, 2, "b", {{"gpu", "1"}}}));  // queued without labels
  EXPECT_EQ(queue.size(), 1u);
  EXPECT_EQ(queue.PopFor({"f"}, {})->job_id, "b");
}

TEST(JobQueue, LabelledJobIsNotOfferedToANodeLackingItsLabels) {
  JobQueue queue;
  queue.Push({"f", 0, 1, "gpu-job", {{"gpu", "1"}}});
  EXPECT_FALSE(queue.HasWorkFor({"f"}, {}));
  EXPECT_FALSE(queue.PopFor({"f"}, {}).has_value());
  EXPECT_FALSE(queue.PopFor({"f"}, {{"gpu", "2"}}).has_value());  // values match exactly
  EXPECT_FALSE(queue.PopFor({"f"}, {{"zone", "eu"}}).has_value());
  EXPECT_FALSE(queue.PopFor({"g"}, {{"gpu", "1"}}).has_value());
  EXPECT_EQ(queue.size(), 1u);
}

TEST(JobQueue, LabelledJobIsOfferedToANodeWithMoreLabels) {
  JobQueue queue;
  queue.Push({"f", 0, 1, "gpu-job", {{"gpu", "1"}}});
  EXPECT_TRUE(queue.HasWorkFor({"f"}, {{"gpu", "1"}, {"zone", "eu"}}));
  std::optional<JobQueue::Entry> entry = queue.PopFor({"f"}, {{"gpu", "1"}, {"zone", "eu"}});
  ASSERT_TRUE(entry.has_value());
  EXPECT_EQ(entry->job_id, "gpu-job");
  EXPECT_EQ(entry->labels, (JobQueue::Labels{{"gpu", "1"}}));
  EXPECT_TRUE(queue.empty());
}

TEST(JobQueue, JobWithoutLabelsRunsOnALabelledNode) {
  JobQueue queue;
  queue.Push({"f", 0, 1, "plain"});
  EXPECT_EQ(queue.PopFor({"f"}, {{"gpu", "1"}})->job_id, "plain");
}

TEST(JobQueue, PriorityThenSubmissionOrderAcrossLabelSetsAndFunctions) {
  JobQueue queue;
  queue.Push({"f", 0, 1, "plain"});
  queue.Push({"f", 0, 2, "gpu-eu", {{"gpu", "1"}, {"zone", "eu"}}});
  queue.Push({"g", 5, 3, "urgent-gpu", {{"gpu", "1"}}});
  queue.Push({"f", 0, 4, "gpu", {{"gpu", "1"}}});
  queue.Push({"f", 9, 5, "other-zone", {{"zone", "us"}}});
  const JobQueue::Labels node = {{"gpu", "1"}, {"zone", "eu"}};
  EXPECT_EQ(queue.PopFor({"f", "g"}, node)->job_id, "urgent-gpu");
  EXPECT_EQ(queue.PopFor({"f", "g"}, node)->job_id, "plain");
  EXPECT_EQ(queue.PopFor({"f", "g"}, node)->job_id, "gpu-eu");
  EXPECT_EQ(queue.PopFor({"f", "g"}, node)->job_id, "gpu");
  EXPECT_FALSE(queue.PopFor({"f", "g"}, node).has_value());
  EXPECT_EQ(queue.PopFor({"f"}, {{"zone", "us"}})->job_id, "other-zone");
  EXPECT_TRUE(queue.empty());
}

TEST(JobQueue, RemoveFindsALabelledJobByItsLabels) {
  JobQueue queue;
  queue.Push({"f", 0, 1, "a", {{"gpu", "1"}}});
  queue.Push({"f", 0, 2, "b", {{"gpu", "1"}}});
  EXPECT_FALSE(queue.Remove({"f", 0, 1, "a"}));
  EXPECT_FALSE(queue.Remove({"f", 0, 1, "a", {{"gpu", "2"}}}));
  EXPECT_TRUE(queue.Remove({"f", 0, 1, "a", {{"gpu", "1"}}}));
  EXPECT_EQ(queue.size(), 1u);
  EXPECT_EQ(queue.PopFor({"f"}, {{"gpu", "1"}})->job_id, "b");
}

}  // namespace
}  // namespace netpool
