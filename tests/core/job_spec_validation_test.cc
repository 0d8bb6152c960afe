#include "server/core/job_spec_validation.h"

#include <cmath>
#include <limits>
#include <string>

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

TEST(JobSpecValidation, JobReferencesAreArguments) {
  v1::JobSpec spec = Spec("f");
  spec.add_args()->set_job_ref("j-abc");
  EXPECT_TRUE(ValidateJobSpec(spec).ok());
}

TEST(JobSpecValidation, AcceptsLabels) {
  v1::JobSpec spec = Spec("f");
  (*spec.mutable_labels())["gpu"] = "1";
  (*spec.mutable_labels())["zone:eu-west.1"] = "Zürich";
  (*spec.mutable_labels())["empty"] = "";
  (*spec.mutable_labels())[std::string(kMaxFunctionNameLength, 'k')] =
      std::string(kMaxJobLabelValueLength, 'v');
  EXPECT_TRUE(ValidateJobSpec(spec).ok()) << ValidateJobSpec(spec);
  spec.clear_labels();
  for (int i = 0; i < kMaxLabelsPerJob; ++i) (*spec.mutable_labels())[std::to_string(i)] = "x";
  EXPECT_TRUE(ValidateJobSpec(spec).ok()) << ValidateJobSpec(spec);
}

TEST(JobSpecValidation, ChunkJobsTakeNoPlainArgs) {
  v1::JobSpec spec = Spec("f");
  spec.add_chunk()->add_items()->set_int_value(1);
  EXPECT_TRUE(ValidateJobSpec(spec).ok());
  spec.add_args()->set_int_value(2);
  EXPECT_EQ(ValidateJobSpec(spec).code(), absl::StatusCode::kInvalidArgument);
}

// The scheduler does not read a packed chunk, so any bytes pass; the worker
// process fails the job when they do not parse.
TEST(JobSpecValidation, PackedChunkJobsTakeNoOtherArguments) {
  v1::JobSpec spec = Spec("f");
  spec.set_packed_chunk("\xff\xff not a chunk");
  EXPECT_TRUE(ValidateJobSpec(spec).ok());
  spec.add_args()->set_int_value(2);
  EXPECT_EQ(ValidateJobSpec(spec).code(), absl::StatusCode::kInvalidArgument);
  spec.clear_args();
  spec.add_chunk()->add_items()->set_int_value(1);
  EXPECT_EQ(ValidateJobSpec(spec).code(), absl::StatusCode::kInvalidArgument);
}

// Expects kInvalidArgument whose message names `field`.
void ExpectRejected(const v1::JobSpec& spec, const std::string& field) {
  absl::Status status = ValidateJobSpec(spec);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  EXPECT_NE(status.message().find(field), absl::string_view::npos) << status;
}

TEST(JobSpecValidation, RejectsBadLabels) {
  for (const std::string& key :
       std::vector<std::string>{"", "-gpu", "has space", "a=b", std::string("a\0b", 3),
                                std::string(kMaxFunctionNameLength + 1, 'k')}) {
    v1::JobSpec spec = Spec("f");
    (*spec.mutable_labels())[key] = "1";
    ExpectRejected(spec, "labels key");
  }
  for (const std::string& value :
       std::vector<std::string>{std::string(kMaxJobLabelValueLength + 1, 'v'), "\xff", "a\xc3"}) {
    v1::JobSpec spec = Spec("f");
    (*spec.mutable_labels())["gpu"] = value;
    ExpectRejected(spec, "labels[\"gpu\"]");
  }
  v1::JobSpec spec = Spec("f");
  for (int i = 0; i <= kMaxLabelsPerJob; ++i) (*spec.mutable_labels())[std::to_string(i)] = "x";
  ExpectRejected(spec, "labels has");
}

TEST(JobSpecValidation, RejectsTimeoutsThatAreNotFiniteNonNegativeAndBounded) {
  v1::JobSpec spec = Spec("f");
  spec.set_timeout_seconds(kMaxTimeoutSeconds);
  EXPECT_TRUE(ValidateJobSpec(spec).ok());
  for (double timeout : {-1.0, kMaxTimeoutSeconds * 2, double{INFINITY}, double{NAN}}) {
    spec.set_timeout_seconds(timeout);
    ExpectRejected(spec, "timeout_seconds");
  }
}

TEST(JobSpecValidation, RejectsMaxAttemptsOutOfRange) {
  v1::JobSpec spec = Spec("f");
  spec.set_max_attempts(kMaxAttemptsLimit);
  EXPECT_TRUE(ValidateJobSpec(spec).ok());
  for (int attempts : {-1, kMaxAttemptsLimit + 1}) {
    spec.set_max_attempts(attempts);
    ExpectRejected(spec, "max_attempts");
  }
}

TEST(JobSpecValidation, RejectsPriorityOutOfRange) {
  v1::JobSpec spec = Spec("f");
  for (int priority : {kMinPriority, 0, kMaxPriority}) {
    spec.set_priority(priority);
    EXPECT_TRUE(ValidateJobSpec(spec).ok()) << priority;
  }
  for (int priority : {kMinPriority - 1, kMaxPriority + 1, std::numeric_limits<int>::min()}) {
    spec.set_priority(priority);
    ExpectRejected(spec, "priority");
  }
}

TEST(JobSpecValidation, RejectsRetryBackoffThatIsNotFiniteNonNegativeAndBounded) {
  v1::JobSpec spec = Spec("f");
  spec.set_retry_backoff_seconds(0.25);
  EXPECT_TRUE(ValidateJobSpec(spec).ok());
  for (double backoff : {-0.5, kMaxRetryBackoffSeconds + 1, double{INFINITY}, double{NAN}}) {
    spec.set_retry_backoff_seconds(backoff);
    ExpectRejected(spec, "retry_backoff_seconds");
  }
}

TEST(JobSpecValidation, RejectsIdempotencyKeysTooLongOrWithControlCharacters) {
  v1::JobSpec spec = Spec("f");
  for (const std::string& key : {"upload:2024-01-01/t1.nii#3", "nightly run", "caf\xc3\xa9"}) {
    spec.set_idempotency_key(key);
    EXPECT_TRUE(ValidateJobSpec(spec).ok()) << key;
  }
  for (const std::string& key : {std::string(kMaxIdempotencyKeyLength + 1, 'k'),
                                 std::string("tab\there"), std::string("line\n"),
                                 std::string("del\x7f")}) {
    spec.set_idempotency_key(key);
    ExpectRejected(spec, "idempotency_key");
  }
}

TEST(JobSpecValidation, NamesTheArgumentThatDoesNotDecode) {
  v1::Value duplicate_keys;
  for (int i = 0; i < 2; ++i) duplicate_keys.mutable_map_value()->add_entries()->set_key("k");
  v1::JobSpec spec = Spec("f");
  spec.add_args()->set_int_value(1);
  *spec.add_args() = duplicate_keys;
  ExpectRejected(spec, "args[1]: duplicate map key");

  spec = Spec("f");
  spec.add_chunk()->add_items();
  *spec.add_chunk()->add_items() = duplicate_keys;
  ExpectRejected(spec, "chunk[1].items[0]");
}

}  // namespace
}  // namespace netpool
