// The JSON records of `netpool ... -o json` and netpoold's /api/v1: their
// fields are a documented schema (README, "Output for scripts"), which
// scripts rely on.
#include "common/records.h"

#include "common/value_proto.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace netpool {
namespace {

// 2026-01-02T03:04:05.250Z
constexpr double kSubmitted = 1767323045.25;

v1::JobStatus FailedJob() {
  v1::JobStatus job;
  job.set_job_id("j-1");
  job.set_state(v1::FAILED);
  job.set_function("sleep");
  job.set_attempt(2);
  job.set_max_attempts(2);
  job.set_worker("node0");
  job.set_submitted_unix(kSubmitted);
  job.set_started_unix(kSubmitted + 1);
  job.set_finished_unix(kSubmitted + 3.5);
  job.set_owner("owner");
  job.set_priority(-3);
  (*job.mutable_labels())["zone"] = "b";
  *job.add_args() = ToProto(Value("12"));
  for (int i = 1; i <= 2; ++i) {
    v1::AttemptRecord* attempt = job.add_attempts();
    attempt->set_attempt(i);
    attempt->set_worker("node0");
    attempt->set_started_unix(kSubmitted + i);
    attempt->set_finished_unix(kSubmitted + i + 0.5);
    attempt->mutable_error()->set_code(static_cast<int>(absl::StatusCode::kInvalidArgument));
    attempt->mutable_error()->set_message(i == 1 ? "first" : "bad seconds");
  }
  return job;
}

TEST(JobValue, HasEveryDocumentedField) {
  const Value job = JobValue(FailedJob());
  EXPECT_EQ(job.ToJson(),
            "{\"args\":[\"12\"],\"attempts\":2,\"command\":null,\"duration_s\":2.5,"
            "\"error\":{\"code\":\"INVALID_ARGUMENT\",\"message\":\"bad seconds\"},"
            "\"finished\":\"2026-01-02T03:04:08.750Z\",\"function\":\"sleep\","
            "\"history\":["
            "{\"attempt\":1,\"error\":{\"code\":\"INVALID_ARGUMENT\",\"message\":\"first\"},"
            "\"finished\":\"2026-01-02T03:04:06.750Z\",\"started\":\"2026-01-02T03:04:06.250Z\","
            "\"worker\":\"node0\"},"
            "{\"attempt\":2,\"error\":{\"code\":\"INVALID_ARGUMENT\",\"message\":\"bad seconds\"},"
            "\"finished\":\"2026-01-02T03:04:07.750Z\",\"started\":\"2026-01-02T03:04:07.250Z\","
            "\"worker\":\"node0\"}],"
            "\"id\":\"j-1\",\"labels\":{\"zone\":\"b\"},\"max_attempts\":2,"
            "\"owner\":\"owner\",\"priority\":-3,\"started\":\"2026-01-02T03:04:06.250Z\",\"state\":\"FAILED\","
            "\"submitted\":\"2026-01-02T03:04:05.250Z\",\"waiting_for\":[],\"worker\":\"node0\"}");
}

TEST(JobValue, AnExecJobHasItsCommandLineQuotedAsAShellNeedsIt) {
  v1::JobStatus exec;
  exec.set_function("exec");
  *exec.add_args() = ToProto(Value(ValueList{"sh", "-c", "echo it's done", "a.nii"}));
  EXPECT_EQ(CommandLine(exec), "sh -c 'echo it'\\''s done' a.nii");
  EXPECT_EQ(JobValue(exec).AsMap().at("command").AsString(), *CommandLine(exec));

  v1::JobStatus omitted = exec;
  omitted.clear_args();
  omitted.set_args_omitted(true);
  EXPECT_EQ(CommandLine(omitted), std::nullopt);
  EXPECT_TRUE(JobValue(omitted).AsMap().at("args").is_null());
}

TEST(JobValue, APendingJobHasNullTimesDurationWorkerAndError) {
  v1::JobStatus pending;
  pending.set_job_id("j-2");
  pending.set_state(v1::PENDING);
  pending.set_function("echo");
  pending.set_submitted_unix(kSubmitted);
  pending.add_waiting_for("j-1");
  const ValueMap job = JobValue(pending).AsMap();
  for (const char* field : {"started", "finished", "duration_s", "worker", "owner", "error"}) {
    EXPECT_TRUE(job.at(field).is_null()) << field;
  }
  EXPECT_EQ(job.at("waiting_for").ToJson(), "[\"j-1\"]");
  EXPECT_EQ(job.at("attempts").ToJson(), "0");
}

TEST(JobValue, ARunningJobsDurationRunsToNow) {
  v1::JobStatus running;
  running.set_state(v1::RUNNING);
  running.set_started_unix(kSubmitted);
  const absl::Time now = absl::UnixEpoch() + absl::Seconds(kSubmitted + 4);
  EXPECT_EQ(JobValue(running, now).AsMap().at("duration_s").ToJson(), "4.0");
}

TEST(JobError, ACancelledJobThatNeverRanIsCancelled) {
  v1::JobStatus cancelled;
  cancelled.set_state(v1::CANCELLED);
  EXPECT_EQ(JobError(cancelled).code(), absl::StatusCode::kCancelled);
  v1::JobStatus succeeded = FailedJob();
  succeeded.set_state(v1::SUCCEEDED);
  EXPECT_TRUE(JobError(succeeded).ok());
}

TEST(ParseJobState, AcceptsNamesInAnyCase) {
  EXPECT_EQ(*ParseJobState("RUNNING"), v1::RUNNING);
  EXPECT_EQ(*ParseJobState("failed"), v1::FAILED);
}

TEST(ParseJobState, RejectsUnknownNames) {
  EXPECT_EQ(ParseJobState("done").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_FALSE(ParseJobState("JOB_STATE_UNSPECIFIED").ok());
  EXPECT_FALSE(ParseJobState("").ok());
}

}  // namespace
}  // namespace netpool
