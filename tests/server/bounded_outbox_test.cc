#include "server/bounded_outbox.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "netpool/v1/netpool.pb.h"
#include "tests/support/status_matchers.h"

namespace netpool {
namespace {

using ::netpool::testing::IsOk;
using ::netpool::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::SizeIs;

v1::JobResult Result(const std::string& id, size_t value_bytes = 0) {
  v1::JobResult result;
  result.set_job_id(id);
  result.mutable_value()->set_string_value(std::string(value_bytes, 'v'));
  return result;
}

// Records the batches the outbox hands to its writer.
struct Writer {
  std::vector<std::vector<v1::JobResult>> batches;
  BoundedOutbox<v1::JobResult>::WriteFn Fn() {
    return [this](std::vector<v1::JobResult>& batch) { batches.push_back(std::move(batch)); };
  }
};

TEST(BoundedOutbox, WritesAtOnceWhenIdleAndBatchesWhatQueuesMeanwhile) {
  Writer writer;
  BoundedOutbox<v1::JobResult> outbox(1 << 20, writer.Fn());
  ASSERT_THAT(outbox.Push(Result("a")), IsOk());
  ASSERT_THAT(writer.batches, SizeIs(1));
  ASSERT_THAT(outbox.Push(Result("b")), IsOk());
  ASSERT_THAT(outbox.Push(Result("c")), IsOk());
  EXPECT_THAT(writer.batches, SizeIs(1));  // one write in flight at a time
  EXPECT_GT(outbox.queued_bytes(), 0u);
  EXPECT_FALSE(outbox.WriteDone());
  ASSERT_THAT(writer.batches, SizeIs(2));
  EXPECT_THAT(writer.batches[1], SizeIs(2));
  EXPECT_EQ(outbox.queued_bytes(), 0u);
  EXPECT_FALSE(outbox.WriteDone());  // idle, not closed
  EXPECT_THAT(writer.batches, SizeIs(2));
}

TEST(BoundedOutbox, KeepsBatchesToAFewMegabytes) {
  Writer writer;
  BoundedOutbox<v1::JobResult> outbox(64 << 20, writer.Fn());
  ASSERT_THAT(outbox.Push(Result("first")), IsOk());
  for (int i = 0; i < 10; ++i) ASSERT_THAT(outbox.Push(Result("big", 1 << 20)), IsOk());
  outbox.WriteDone();
  ASSERT_THAT(writer.batches, SizeIs(2));
  EXPECT_THAT(writer.batches[1], SizeIs(3));  // 3 MB and a bit; a fourth would pass 4 MiB
}

TEST(BoundedOutbox, RefusesToQueueBeyondItsBudgetAndDropsWhatItHeld) {
  Writer writer;
  BoundedOutbox<v1::JobResult> outbox(3 << 20, writer.Fn());
  ASSERT_THAT(outbox.Push(Result("in-flight", 1 << 20)), IsOk());  // not queued: written
  ASSERT_THAT(outbox.Push(Result("q1", 1 << 20)), IsOk());
  ASSERT_THAT(outbox.Push(Result("q2", 1 << 20)), IsOk());
  EXPECT_THAT(outbox.Push(Result("q3", 1 << 20)),
              StatusIs(absl::StatusCode::kResourceExhausted, HasSubstr("3145728 bytes")));
  EXPECT_EQ(outbox.queued_bytes(), 0u);
  // Closed: later items are dropped, and the in-flight write is the last.
  EXPECT_THAT(outbox.Push(Result("late")), IsOk());
  EXPECT_EQ(outbox.queued_bytes(), 0u);
  EXPECT_TRUE(outbox.WriteDone());
  EXPECT_THAT(writer.batches, SizeIs(1));
}

TEST(BoundedOutbox, WritesWhatIsQueuedAfterCloseThenSaysItIsDrained) {
  Writer writer;
  BoundedOutbox<v1::JobResult> outbox(1 << 20, writer.Fn());
  EXPECT_TRUE(BoundedOutbox<v1::JobResult>(1, writer.Fn()).Close());  // nothing to write
  ASSERT_THAT(outbox.Push(Result("a")), IsOk());
  ASSERT_THAT(outbox.Push(Result("b")), IsOk());
  EXPECT_FALSE(outbox.Close());
  EXPECT_FALSE(outbox.WriteDone());  // "b" goes out now
  ASSERT_THAT(writer.batches, SizeIs(2));
  EXPECT_TRUE(outbox.WriteDone());
}

TEST(BoundedOutbox, DiscardDropsWhatIsQueued) {
  Writer writer;
  BoundedOutbox<v1::JobResult> outbox(1 << 20, writer.Fn());
  ASSERT_THAT(outbox.Push(Result("a")), IsOk());
  ASSERT_THAT(outbox.Push(Result("b")), IsOk());
  outbox.Discard();
  EXPECT_TRUE(outbox.WriteDone());
  EXPECT_THAT(writer.batches, SizeIs(1));
}

}  // namespace
}  // namespace netpool
