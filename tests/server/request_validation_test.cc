#include "server/request_validation.h"

#include <cmath>
#include <limits>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "netpool/v1/worker.pb.h"
#include "server/core/job_spec_validation.h"
#include "tests/support/status_matchers.h"

namespace netpool {
namespace {

using ::netpool::testing::IsOk;
using ::testing::HasSubstr;

constexpr char kGoodId[] = "j-0123456789abcdefghijkl";

// Expects kInvalidArgument whose message names `field`.
void ExpectRejected(const absl::Status& status, const std::string& field) {
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  EXPECT_THAT(std::string(status.message()), HasSubstr(field));
}

TEST(WatchRequestValidation, AcceptsValidIdsAndAnEmptyMessage) {
  v1::WatchRequest request;
  EXPECT_TRUE(ValidateWatchRequest(request).ok());
  request.add_job_ids(kGoodId);
  request.add_job_ids("my.job_1");
  EXPECT_TRUE(ValidateWatchRequest(request).ok());
}

TEST(WatchRequestValidation, RejectsAMalformedIdNamingItsPosition) {
  v1::WatchRequest request;
  request.add_job_ids(kGoodId);
  request.add_job_ids("no spaces");
  ExpectRejected(ValidateWatchRequest(request), "job_ids[1]");
}

TEST(WatchRequestValidation, RejectsTooManyIds) {
  v1::WatchRequest request;
  for (int i = 0; i <= kMaxIdsPerRequest; ++i) request.add_job_ids("j");
  ExpectRejected(ValidateWatchRequest(request), "job_ids");
}

// Past the limit the scheduler would take the jobs one by one instead.
TEST(WatchRequestValidation, RejectsMoreJobsThanASubmitCarries) {
  v1::WatchRequest request;
  for (int i = 0; i <= kMaxJobsPerSubmit; ++i) request.add_submit();
  ExpectRejected(ValidateWatchRequest(request), "submit");
  request.mutable_submit()->RemoveLast();
  EXPECT_TRUE(ValidateWatchRequest(request).ok());
}

TEST(GetRequestValidation, AcceptsAnyFiniteTimeout) {
  v1::GetRequest request;
  request.set_job_id(kGoodId);
  for (double timeout : {-1.0, 0.0, 2.5, 1e12}) {
    request.set_timeout_seconds(timeout);
    EXPECT_TRUE(ValidateGetRequest(request).ok()) << timeout;
  }
}

TEST(GetRequestValidation, RejectsAMalformedOrMissingId) {
  v1::GetRequest request;
  ExpectRejected(ValidateGetRequest(request), "job_id");
  request.set_job_id(std::string(65, 'a'));
  ExpectRejected(ValidateGetRequest(request), "job_id");
}

TEST(GetRequestValidation, RejectsATimeoutThatIsNotFinite) {
  v1::GetRequest request;
  request.set_job_id(kGoodId);
  for (double timeout : {std::nan(""), std::numeric_limits<double>::infinity(),
                         -std::numeric_limits<double>::infinity()}) {
    request.set_timeout_seconds(timeout);
    ExpectRejected(ValidateGetRequest(request), "timeout_seconds");
  }
}

TEST(CancelRequestValidation, RequiresAtLeastOneValidId) {
  v1::CancelRequest request;
  ExpectRejected(ValidateCancelRequest(request), "job_ids");
  request.add_job_ids(kGoodId);
  EXPECT_TRUE(ValidateCancelRequest(request).ok());
  request.add_job_ids("");
  ExpectRejected(ValidateCancelRequest(request), "job_ids[1]");
}

TEST(GetStatusRequestValidation, RequiresOneToManyValidIds) {
  v1::GetStatusRequest request;
  ExpectRejected(ValidateGetStatusRequest(request), "job_ids");
  request.add_job_ids(kGoodId);
  EXPECT_TRUE(ValidateGetStatusRequest(request).ok());
  request.add_job_ids(std::string("a\0b", 3));
  ExpectRejected(ValidateGetStatusRequest(request), "job_ids[1]");
  request.clear_job_ids();
  for (int i = 0; i <= kMaxIdsPerRequest; ++i) request.add_job_ids("j");
  ExpectRejected(ValidateGetStatusRequest(request), "job_ids");
}

TEST(ListJobsRequestValidation, RejectsAnUnknownState) {
  v1::ListJobsRequest request;
  EXPECT_TRUE(ValidateListJobsRequest(request).ok());
  request.set_state(v1::CANCELLED);
  EXPECT_TRUE(ValidateListJobsRequest(request).ok());
  request.set_state(static_cast<v1::JobState>(42));
  ExpectRejected(ValidateListJobsRequest(request), "state");
}

TEST(ListJobsRequestValidation, RejectsALimitOutOfRange) {
  v1::ListJobsRequest request;
  request.set_limit(kMaxListLimit);
  EXPECT_TRUE(ValidateListJobsRequest(request).ok());
  request.set_limit(-1);
  ExpectRejected(ValidateListJobsRequest(request), "limit");
  request.set_limit(kMaxListLimit + 1);
  ExpectRejected(ValidateListJobsRequest(request), "limit");
}

v1::WorkerHello GoodHello() {
  v1::WorkerHello hello;
  hello.set_name("host-1");
  hello.set_slots(4);
  hello.add_functions("echo");
  (*hello.mutable_labels())["gpu"] = "a100";
  hello.add_held_job_ids(kGoodId);
  return hello;
}

TEST(WorkerHelloValidation, AcceptsAGoodHello) {
  EXPECT_TRUE(ValidateWorkerHello(GoodHello()).ok());
}

TEST(WorkerHelloValidation, RejectsAnEmptyLongOrUnprintableName) {
  for (const std::string& name : {std::string(), std::string(kMaxWorkerNameLength + 1, 'n'),
                                  std::string("a\nb"), std::string("\x1b[2J")}) {
    v1::WorkerHello hello = GoodHello();
    hello.set_name(name);
    ExpectRejected(ValidateWorkerHello(hello), "hello.name");
  }
}

TEST(WorkerHelloValidation, RejectsSlotsOutOfRange) {
  for (int slots : {0, -1, kMaxSlotsPerWorker + 1}) {
    v1::WorkerHello hello = GoodHello();
    hello.set_slots(slots);
    ExpectRejected(ValidateWorkerHello(hello), "hello.slots");
  }
}

TEST(WorkerHelloValidation, PrefetchIsBetweenZeroAndItsLimit) {
  v1::WorkerHello hello = GoodHello();
  for (int prefetch : {0, 64, kMaxPrefetchPerWorker}) {
    hello.set_prefetch(prefetch);
    EXPECT_TRUE(ValidateWorkerHello(hello).ok()) << prefetch;
  }
  for (int prefetch : {-1, kMaxPrefetchPerWorker + 1}) {
    hello.set_prefetch(prefetch);
    ExpectRejected(ValidateWorkerHello(hello), "hello.prefetch");
  }
}

TEST(WorkerHelloValidation, RejectsABadFunctionName) {
  v1::WorkerHello hello = GoodHello();
  hello.add_functions("has space");
  ExpectRejected(ValidateWorkerHello(hello), "hello.functions[1]");
}

TEST(WorkerHelloValidation, RejectsTooManyFunctions) {
  v1::WorkerHello hello = GoodHello();
  for (int i = 0; i < kMaxFunctionsPerWorker; ++i) hello.add_functions("f");
  ExpectRejected(ValidateWorkerHello(hello), "hello.functions");
}

TEST(WorkerHelloValidation, RejectsBadLabels) {
  v1::WorkerHello hello = GoodHello();
  (*hello.mutable_labels())[""] = "x";
  ExpectRejected(ValidateWorkerHello(hello), "hello.labels");

  hello = GoodHello();
  (*hello.mutable_labels())["a=b"] = "x";
  ExpectRejected(ValidateWorkerHello(hello), "hello.labels");

  hello = GoodHello();
  (*hello.mutable_labels())["zone"] = std::string(kMaxLabelValueLength + 1, 'v');
  ExpectRejected(ValidateWorkerHello(hello), "hello.labels");

  hello = GoodHello();
  (*hello.mutable_labels())["zone"] = "eu\t1";
  ExpectRejected(ValidateWorkerHello(hello), "hello.labels");

  hello = GoodHello();
  for (int i = 0; i <= kMaxLabelsPerWorker; ++i) (*hello.mutable_labels())[std::to_string(i)] = "";
  ExpectRejected(ValidateWorkerHello(hello), "hello.labels");
}

TEST(WorkerHelloValidation, RejectsMalformedHeldJobIds) {
  v1::WorkerHello hello = GoodHello();
  hello.add_held_job_ids("bad/id");
  ExpectRejected(ValidateWorkerHello(hello), "hello.held_job_ids[1]");
}

TEST(WorkerMessageValidation, TheFirstMessageMustCarryHello) {
  v1::WorkerMessage message;
  message.set_credits(1);
  ExpectRejected(ValidateFirstWorkerMessage(message), "hello");
  *message.mutable_hello() = GoodHello();
  EXPECT_TRUE(ValidateFirstWorkerMessage(message).ok());
  message.mutable_hello()->set_slots(0);
  ExpectRejected(ValidateFirstWorkerMessage(message), "hello.slots");
}

TEST(WorkerMessageValidation, TheFirstMessageFollowsTheRulesOfLaterOnes) {
  v1::WorkerMessage message;
  *message.mutable_hello() = GoodHello();
  message.set_credits(-1);
  ExpectRejected(ValidateFirstWorkerMessage(message), "credits");
}

TEST(WorkerMessageValidation, RejectsASecondHello) {
  v1::WorkerMessage message;
  *message.mutable_hello() = GoodHello();
  ExpectRejected(ValidateLaterWorkerMessage(message), "hello");
}

TEST(WorkerMessageValidation, RejectsCreditsOutOfRange) {
  v1::WorkerMessage message;
  // A node with the most slots and prefetch may give back its whole window.
  message.set_credits(kMaxSlotsPerWorker + kMaxPrefetchPerWorker);
  EXPECT_TRUE(ValidateLaterWorkerMessage(message).ok());
  for (int credits : {-1, kMaxCreditsPerMessage + 1}) {
    message.set_credits(credits);
    ExpectRejected(ValidateLaterWorkerMessage(message), "credits");
  }
}

v1::JobResult GoodResult() {
  v1::JobResult result;
  result.set_job_id(kGoodId);
  result.set_state(v1::SUCCEEDED);
  result.mutable_value()->set_int_value(7);
  return result;
}

TEST(WorkerMessageValidation, AcceptsResultsInEveryFinalState) {
  v1::WorkerMessage message;
  for (v1::JobState state : {v1::SUCCEEDED, v1::FAILED, v1::CANCELLED}) {
    v1::JobResult* result = message.add_results();
    *result = GoodResult();
    result->set_state(state);
  }
  EXPECT_TRUE(ValidateLaterWorkerMessage(message).ok());
}

TEST(WorkerMessageValidation, RejectsTooManyResults) {
  v1::WorkerMessage message;
  for (int i = 0; i <= kMaxResultsPerMessage; ++i) message.add_results();
  ExpectRejected(ValidateLaterWorkerMessage(message), "results");
}

TEST(WorkerMessageValidation, RejectsAResultForAMalformedId) {
  v1::WorkerMessage message;
  *message.add_results() = GoodResult();
  message.add_results()->set_state(v1::FAILED);
  ExpectRejected(ValidateLaterWorkerMessage(message), "results[1].job_id");
}

TEST(WorkerMessageValidation, RejectsAResultThatIsNotFinal) {
  for (v1::JobState state : {v1::JOB_STATE_UNSPECIFIED, v1::PENDING, v1::RUNNING}) {
    v1::WorkerMessage message;
    *message.add_results() = GoodResult();
    message.mutable_results(0)->set_state(state);
    ExpectRejected(ValidateLaterWorkerMessage(message), "results[0].state");
  }
}

// A result nested 40 deep used to end the node's whole stream, so that the
// job ran three times and failed as "worker node lost".
TEST(WorkerMessageValidation, AResultThatDoesNotDecodeFailsOnlyItsJob) {
  v1::WorkerMessage message;
  *message.add_results() = GoodResult();
  v1::Value* deep = message.mutable_results(0)->mutable_value();
  for (int i = 0; i < 40; ++i) deep = deep->mutable_list_value()->add_items();
  v1::JobResult* bad_detail = message.add_results();
  *bad_detail = GoodResult();
  bad_detail->set_job_id("other-job");
  bad_detail->set_state(v1::FAILED);
  v1::ValueMap* detail = bad_detail->mutable_error()->mutable_detail()->mutable_map_value();
  for (int i = 0; i < 2; ++i) detail->add_entries()->set_key("same");
  *message.add_results() = GoodResult();
  message.mutable_results(2)->set_job_id("good-job");
  EXPECT_THAT(ValidateLaterWorkerMessage(message), IsOk());

  EXPECT_EQ(FailUndecodableResults(message), 2);

  for (int i : {0, 1}) {
    const v1::JobResult& failed = message.results(i);
    EXPECT_EQ(failed.state(), v1::FAILED);
    EXPECT_FALSE(failed.worker_failure()) << "a bad result must not be retried";
    EXPECT_EQ(failed.error().code(), static_cast<int>(absl::StatusCode::kInvalidArgument));
    EXPECT_FALSE(failed.has_value());
    EXPECT_FALSE(failed.error().has_detail());
  }
  EXPECT_EQ(message.results(0).job_id(), kGoodId);
  EXPECT_THAT(message.results(0).error().message(),
              HasSubstr("the job's result cannot be sent to clients: value"));
  EXPECT_EQ(message.results(1).job_id(), "other-job");
  EXPECT_THAT(message.results(1).error().message(), HasSubstr("error.detail"));
  EXPECT_EQ(message.results(2).state(), v1::SUCCEEDED);
  EXPECT_EQ(message.results(2).value().int_value(), 7);
}

TEST(RequestValidation, QuotesBadInputEscapedAndCutShort) {
  v1::GetRequest request;
  request.set_job_id(std::string(10'000, '\n'));
  absl::Status status = ValidateGetRequest(request);
  EXPECT_LT(status.message().size(), 400u);
  EXPECT_THAT(std::string(status.message()), HasSubstr("\\n\\n"));
}

}  // namespace
}  // namespace netpool
