#include "server/core/job_spec_validation.h"

#include <cmath>

#include "gtest/gtest.h"

namespace netpool {
namespace {

v1::JobSpec Spec(std::string fn) {
  v1::JobSpec spec;
  spec.set_function(std::move(fn));
  return spec;
}

TEST(JobSpecValidation, AcceptsAPlainJob) {
  v1::JobSpec spec = Spec("echo");
  spec.add_args()->set_int_value(1);
  EXPECT_TRUE(ValidateJobSpec(spec).ok());
}

TEST(JobSpecValidation, RejectsBadFunctionNames) {
  for (const std::string& name : std::vector<std::string>{"", "-x", "a b", "a/b", std::string(200, 'a'), std::string("a\0b", 3)}) {
    EXPECT_EQ(ValidateJobSpec(Spec(name)).code(), absl::StatusCode::kInvalidArgument) << name;
  }
  EXPECT_TRUE(IsValidFunctionName("images.crunch_image:v2"));
}

TEST(JobSpecValidation, RejectsBadIdsTimeoutsAndAttempts) {
  v1::JobSpec spec = Spec("f");
  spec.set_job_id("has space");
  EXPECT_EQ(ValidateJobSpec(spec).code(), absl::StatusCode::kInvalidArgument);
  spec = Spec("f");
  spec.set_timeout_seconds(-1);
  EXPECT_EQ(ValidateJobSpec(spec).code(), absl::StatusCode::kInvalidArgument);
  spec.set_timeout_seconds(NAN);
  EXPECT_EQ(ValidateJobSpec(spec).code(), absl::StatusCode::kInvalidArgument);
  spec = Spec("f");
  spec.set_max_attempts(1000);
  EXPECT_EQ(ValidateJobSpec(spec).code(), absl::StatusCode::kInvalidArgument);
}

TEST(JobSpecValidation, RejectsTooDeepValues) {
  v1::JobSpec spec = Spec("f");
  v1::Value* v = spec.add_args();
  for (int i = 0; i < 100; ++i) v = v->mutable_list_value()->add_items();
  v->set_int_value(1);
  EXPECT_EQ(ValidateJobSpec(spec).code(), absl::StatusCode::kInvalidArgument);
}

TEST(JobSpecValidation, JobReferencesAreNotYetSupported) {
  v1::JobSpec spec = Spec("f");
  spec.add_args()->set_job_ref("j-abc");
  EXPECT_EQ(ValidateJobSpec(spec).code(), absl::StatusCode::kUnimplemented);
}

TEST(JobSpecValidation, LabelsAreNotYetSupported) {
  v1::JobSpec spec = Spec("f");
  (*spec.mutable_labels())["gpu"] = "1";
  EXPECT_EQ(ValidateJobSpec(spec).code(), absl::StatusCode::kUnimplemented);
}

TEST(JobSpecValidation, ChunkJobsTakeNoPlainArgs) {
  v1::JobSpec spec = Spec("f");
  spec.add_chunk()->add_items()->set_int_value(1);
  EXPECT_TRUE(ValidateJobSpec(spec).ok());
  spec.add_args()->set_int_value(2);
  EXPECT_EQ(ValidateJobSpec(spec).code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace netpool
