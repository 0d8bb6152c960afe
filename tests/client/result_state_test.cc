#include "client/result_state.h"

#include <string>

#include "common/value_proto.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace netpool::internal {
namespace {

using ::testing::HasSubstr;

v1::JobResult Succeeded() {
  v1::JobResult result;
  result.set_job_id("j-1");
  result.set_state(v1::SUCCEEDED);
  return result;
}

TEST(OutcomeFromProto, APackedChunksResultIsItsPackedValue) {
  v1::JobResult result = Succeeded();
  result.set_packed_value(ToProto(Value(ValueList{1, "two"})).SerializeAsString());
  Outcome outcome = OutcomeFromProto(result);
  ASSERT_TRUE(outcome.value.ok()) << outcome.value.status();
  EXPECT_EQ(*outcome.value, Value(ValueList{1, "two"}));
}

TEST(OutcomeFromProto, APackedValueThatDoesNotParseFailsTheJob) {
  v1::JobResult result = Succeeded();
  result.set_packed_value("\xff\xff\xff");
  Outcome outcome = OutcomeFromProto(result);
  EXPECT_EQ(outcome.value.status().code(), absl::StatusCode::kInternal);
  EXPECT_THAT(outcome.value.status().message(), HasSubstr("not a Value"));
}

}  // namespace
}  // namespace netpool::internal
