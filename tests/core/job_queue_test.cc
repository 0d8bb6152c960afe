#include "server/core/job_queue.h"

#include "gtest/gtest.h"

namespace netpool {
namespace {

TEST(JobQueue, FifoWithinAPriority) {
  JobQueue queue;
  queue.Push({"f", 0, 1, "a"});
  queue.Push({"f", 0, 2, "b"});
  queue.Push({"f", 0, 3, "c"});
  EXPECT_EQ(queue.PopFor({"f"})->job_id, "a");
  EXPECT_EQ(queue.PopFor({"f"})->job_id, "b");
  EXPECT_EQ(queue.PopFor({"f"})->job_id, "c");
  EXPECT_FALSE(queue.PopFor({"f"}).has_value());
  EXPECT_TRUE(queue.empty());
}

TEST(JobQueue, HigherPriorityFirst) {
  JobQueue queue;
  queue.Push({"f", 0, 1, "low"});
  queue.Push({"f", 5, 2, "high"});
  EXPECT_EQ(queue.PopFor({"f"})->job_id, "high");
  EXPECT_EQ(queue.PopFor({"f"})->job_id, "low");
}

TEST(JobQueue, OffersOnlyFunctionsTheWorkerHas) {
  JobQueue queue;
  queue.Push({"gpu", 0, 1, "a"});
  queue.Push({"cpu", 0, 2, "b"});
  EXPECT_FALSE(queue.HasWorkFor({"other"}));
  EXPECT_EQ(queue.PopFor({"cpu", "other"})->job_id, "b");
  EXPECT_FALSE(queue.PopFor({"cpu"}).has_value());
  EXPECT_EQ(queue.size(), 1u);
}

TEST(JobQueue, OldestAcrossFunctions) {
  JobQueue queue;
  queue.Push({"g", 0, 2, "second"});
  queue.Push({"f", 0, 1, "first"});
  EXPECT_EQ(queue.PopFor({"g", "f"})->job_id, "first");
  EXPECT_EQ(queue.PopFor({"g", "f"})->job_id, "second");
}

TEST(JobQueue, RemoveTakesAJobOut) {
  JobQueue queue;
  queue.Push({"f", 0, 1, "a"});
  queue.Push({"f", 0, 2, "b"});
  EXPECT_TRUE(queue.Remove("f", 0, 1));
  EXPECT_FALSE(queue.Remove("f", 0, 1));
  EXPECT_FALSE(queue.Remove("nope", 0, 2));
  EXPECT_EQ(queue.size(), 1u);
  EXPECT_EQ(queue.PopFor({"f"})->job_id, "b");
}

}  // namespace
}  // namespace netpool
