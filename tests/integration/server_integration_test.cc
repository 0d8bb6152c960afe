// netpoold's behaviour at its edges: health checking, bad requests from
// clients and workers (each refused with INVALID_ARGUMENT naming the field,
// the server serving on), and shutdown.
#include <signal.h>

#include <cmath>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "gmock/gmock.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/generic/generic_stub.h"
#include "common/packed_chunk.h"
#include "common/value_proto.h"
#include "common/worker_protocol.h"
#include "gtest/gtest.h"
#include "netpool/v1/netpool.grpc.pb.h"
#include "netpool/v1/worker.grpc.pb.h"
#include "tests/support/test_cluster.h"

namespace netpool {
namespace {

using ::netpool::testing::CliResult;
using ::netpool::testing::Subprocess;
using ::netpool::testing::TestCluster;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto cluster = TestCluster::Start({.workers = 1, .processes = 1});
    ASSERT_TRUE(cluster.ok()) << cluster.status();
    cluster_ = *std::move(cluster);
    channel_ = cluster_->OwnerChannel();
    stub_ = v1::Scheduler::NewStub(channel_);
  }
  std::unique_ptr<grpc::ClientContext> Context() {
    auto context = std::make_unique<grpc::ClientContext>();
    context->set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
    cluster_->AuthorizeAsOwner(*context);
    return context;
  }

  // The request was refused as INVALID_ARGUMENT with a message naming `field`.
  static void ExpectInvalid(const grpc::Status& status, const std::string& field) {
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << status.error_message();
    EXPECT_THAT(status.error_message(), HasSubstr(field));
  }

  // A job still runs end to end after whatever the test sent.
  void ExpectStillServing() {
    CliResult submitted = cluster_->RunCli({"submit", "echo", "still-serving"});
    ASSERT_EQ(submitted.exit_code, 0) << submitted.err;
    CliResult got = cluster_->RunCli(
        {"get", std::string(absl::StripAsciiWhitespace(submitted.out)), "--timeout", "30"});
    EXPECT_EQ(got.exit_code, 0) << got.err;
    EXPECT_THAT(got.out, HasSubstr("still-serving"));
  }

  static v1::WorkerMessage Hello(const std::string& name) {
    v1::WorkerMessage message;
    message.mutable_hello()->set_name(name);
    message.mutable_hello()->set_slots(1);
    message.mutable_hello()->add_functions("echo");
    return message;
  }

  // Opens a WorkerHub stream, sends `messages`, and returns how it ended.
  grpc::Status FinishWorkerStream(const std::vector<v1::WorkerMessage>& messages) {
    auto hub = v1::WorkerHub::NewStub(channel_);
    auto context = Context();
    auto stream = hub->Connect(context.get());
    for (const v1::WorkerMessage& message : messages) {
      if (!stream->Write(message)) break;
    }
    stream->WritesDone();
    v1::SchedulerMessage reply;
    while (stream->Read(&reply)) {
    }
    return stream->Finish();
  }

  std::unique_ptr<TestCluster> cluster_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::Scheduler::Stub> stub_;
};

TEST_F(ServerTest, AnswersGrpcHealthChecks) {
  grpc::GenericStub generic(channel_);
  grpc::ByteBuffer request;  // an empty HealthCheckRequest: the whole server
  grpc::Slice empty("");
  request = grpc::ByteBuffer(&empty, 1);
  grpc::ByteBuffer response;
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
  absl::Notification done;
  grpc::Status status;
  generic.UnaryCall(&context, "/grpc.health.v1.Health/Check", grpc::StubOptions(), &request,
                    &response, [&](grpc::Status s) {
                      status = s;
                      done.Notify();
                    });
  done.WaitForNotification();
  ASSERT_TRUE(status.ok()) << status.error_message();
  std::vector<grpc::Slice> slices;
  ASSERT_TRUE(response.Dump(&slices).ok());
  std::string bytes;
  for (const grpc::Slice& s : slices) bytes.append(reinterpret_cast<const char*>(s.begin()), s.size());
  EXPECT_EQ(bytes, std::string("\x08\x01", 2));  // status: SERVING
}

TEST_F(ServerTest, RejectsMalformedSubmissions) {
  v1::SubmitRequest request;
  v1::SubmitResponse response;
  request.add_jobs()->set_function("echo");
  request.mutable_jobs(0)->set_job_id("bad id!");
  ExpectInvalid(stub_->Submit(Context().get(), request, &response), "job_id");

  request.mutable_jobs(0)->set_job_id("");
  request.mutable_jobs(0)->set_function("");
  ExpectInvalid(stub_->Submit(Context().get(), request, &response), "function");

  request.mutable_jobs(0)->set_function("echo");
  request.mutable_jobs(0)->set_priority(std::numeric_limits<int>::min());
  ExpectInvalid(stub_->Submit(Context().get(), request, &response), "priority");

  request.mutable_jobs(0)->set_priority(0);
  request.mutable_jobs(0)->set_retry_backoff_seconds(std::numeric_limits<double>::infinity());
  ExpectInvalid(stub_->Submit(Context().get(), request, &response), "retry_backoff_seconds");

  request.mutable_jobs(0)->set_retry_backoff_seconds(0);
  request.mutable_jobs(0)->set_idempotency_key("two\nlines");
  ExpectInvalid(stub_->Submit(Context().get(), request, &response), "idempotency_key");

  request.mutable_jobs(0)->clear_idempotency_key();
  v1::Value* deep = request.mutable_jobs(0)->add_args();
  for (int i = 0; i < 40; ++i) deep = deep->mutable_list_value()->add_items();
  ExpectInvalid(stub_->Submit(Context().get(), request, &response), "args[0]");
  // Deeper than protobuf itself parses: refused before netpool sees it.
  for (int i = 0; i < 200; ++i) deep = deep->mutable_list_value()->add_items();
  EXPECT_FALSE(stub_->Submit(Context().get(), request, &response).ok());

  ExpectStillServing();
  v1::GetStatsResponse stats;
  ASSERT_TRUE(stub_->GetStats(Context().get(), v1::GetStatsRequest(), &stats).ok());
  EXPECT_EQ(stats.pending() + stats.running() + stats.succeeded(), 1);  // ExpectStillServing's job
}

TEST_F(ServerTest, RejectsMalformedGets) {
  v1::GetRequest get;
  v1::GetResponse got;
  ExpectInvalid(stub_->Get(Context().get(), get, &got), "job_id");
  get.set_job_id("j-unknown");
  get.set_timeout_seconds(std::nan(""));
  ExpectInvalid(stub_->Get(Context().get(), get, &got), "timeout_seconds");
  get.set_timeout_seconds(std::numeric_limits<double>::infinity());
  ExpectInvalid(stub_->Get(Context().get(), get, &got), "timeout_seconds");
  get.set_timeout_seconds(0);
  EXPECT_EQ(stub_->Get(Context().get(), get, &got).error_code(), grpc::StatusCode::NOT_FOUND);
  ExpectStillServing();
}

TEST_F(ServerTest, RejectsMalformedCancelsAndStatusQueries) {
  v1::CancelRequest cancel;
  v1::CancelResponse cancelled;
  ExpectInvalid(stub_->Cancel(Context().get(), cancel, &cancelled), "job_ids");
  cancel.add_job_ids("j-ok");
  cancel.add_job_ids("not/ok");
  ExpectInvalid(stub_->Cancel(Context().get(), cancel, &cancelled), "job_ids[1]");

  v1::GetStatusRequest status;
  v1::GetStatusResponse statuses;
  ExpectInvalid(stub_->GetStatus(Context().get(), status, &statuses), "job_ids");
  status.add_job_ids(std::string(100, 'x'));
  ExpectInvalid(stub_->GetStatus(Context().get(), status, &statuses), "job_ids[0]");
  ExpectStillServing();
}

TEST_F(ServerTest, RejectsMalformedJobListings) {
  v1::ListJobsRequest list;
  v1::ListJobsResponse jobs;
  list.set_state(static_cast<v1::JobState>(99));
  ExpectInvalid(stub_->ListJobs(Context().get(), list, &jobs), "state");
  list.set_state(v1::PENDING);
  list.set_limit(-5);
  ExpectInvalid(stub_->ListJobs(Context().get(), list, &jobs), "limit");
  list.set_limit(std::numeric_limits<int>::max());
  ExpectInvalid(stub_->ListJobs(Context().get(), list, &jobs), "limit");
  ExpectStillServing();
}

TEST_F(ServerTest, EndsAWatchStreamThatSendsAMalformedId) {
  auto context = Context();
  auto stream = stub_->Watch(context.get());
  v1::WatchRequest request;
  request.add_job_ids("j-fine");
  request.add_job_ids("");
  ASSERT_TRUE(stream->Write(request));
  stream->WritesDone();
  v1::WatchResponse response;
  while (stream->Read(&response)) {
  }
  ExpectInvalid(stream->Finish(), "job_ids[1]");
  ExpectStillServing();
}

// A call costs one message each way: the job goes out on the Watch stream,
// which says once the scheduler holds it and then brings its result.
TEST_F(ServerTest, TakesJobsOnTheWatchStreamAndRefusesOnlyTheBadOnes) {
  auto context = Context();
  auto stream = stub_->Watch(context.get());
  v1::WatchRequest request;
  v1::JobSpec* good = request.add_submit();
  good->set_job_id("j-on-the-stream");
  good->set_function("echo");
  good->add_args()->set_string_value("streamed");
  v1::JobSpec* unknown = request.add_submit();
  unknown->set_job_id("j-unknown-function");
  unknown->set_function("no-such-function");
  ASSERT_TRUE(stream->Write(request));

  std::vector<std::string> submitted;
  std::optional<v1::JobResult> result, refusal;
  v1::WatchResponse response;
  while ((!result.has_value() || !refusal.has_value() || submitted.empty()) &&
         stream->Read(&response)) {
    submitted.insert(submitted.end(), response.submitted_job_ids().begin(),
                     response.submitted_job_ids().end());
    for (const v1::JobResult& r : response.results()) {
      (r.job_id() == "j-on-the-stream" ? result : refusal) = r;
    }
  }
  EXPECT_THAT(submitted, ElementsAre("j-on-the-stream"));
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(result->state(), v1::SUCCEEDED);
  EXPECT_EQ(result->value().list_value().items(0).string_value(), "streamed");
  ASSERT_TRUE(refusal.has_value());
  EXPECT_EQ(refusal->job_id(), "j-unknown-function");
  EXPECT_EQ(refusal->state(), v1::JOB_STATE_UNSPECIFIED);
  EXPECT_EQ(refusal->error().code(), static_cast<int>(grpc::StatusCode::NOT_FOUND));
  EXPECT_THAT(refusal->error().message(), HasSubstr("no-such-function"));
  context->TryCancel();
  stream->Finish();

  // A client sends what it was not told the scheduler holds again on its
  // next stream: the same job, answered at once, never run twice.
  auto again_context = Context();
  auto again = stub_->Watch(again_context.get());
  v1::WatchRequest resend;
  *resend.add_submit() = request.submit(0);
  ASSERT_TRUE(again->Write(resend));
  std::optional<v1::JobResult> resent_result;
  bool resent_submitted = false;
  while ((!resent_result.has_value() || !resent_submitted) && again->Read(&response)) {
    resent_submitted = resent_submitted || response.submitted_job_ids_size() > 0;
    if (response.results_size() > 0) resent_result = response.results(0);
  }
  ASSERT_TRUE(resent_result.has_value());
  EXPECT_EQ(resent_result->state(), v1::SUCCEEDED);
  again_context->TryCancel();
  again->Finish();

  v1::GetStatsResponse stats;
  auto stats_context = Context();
  ASSERT_TRUE(stub_->GetStats(stats_context.get(), v1::GetStatsRequest(), &stats).ok());
  EXPECT_TRUE(stats.watch_submit());
  EXPECT_EQ(stats.succeeded(), 1);
}

TEST_F(ServerTest, RejectsAWorkerStreamThatDoesNotStartWithHello) {
  v1::WorkerMessage message;
  message.set_credits(5);
  ExpectInvalid(FinishWorkerStream({message}), "hello");

  v1::WorkerMessage greedy = Hello("greedy");
  greedy.mutable_hello()->set_slots(1'000'000);
  ExpectInvalid(FinishWorkerStream({greedy}), "hello.slots");

  v1::WorkerMessage bad_function = Hello("odd");
  bad_function.mutable_hello()->add_functions("rm -rf");
  ExpectInvalid(FinishWorkerStream({bad_function}), "hello.functions[1]");

  v1::WorkerMessage bad_label = Hello("labelled");
  (*bad_label.mutable_hello()->mutable_labels())["zone"] = "eu\n1";
  ExpectInvalid(FinishWorkerStream({bad_label}), "hello.labels");
  ExpectStillServing();
}

TEST_F(ServerTest, EndsAWorkerStreamThatSendsAMalformedMessage) {
  ExpectInvalid(FinishWorkerStream({Hello("twice"), Hello("twice")}), "hello");

  v1::WorkerMessage credits;
  credits.set_credits(-3);
  ExpectInvalid(FinishWorkerStream({Hello("negative"), credits}), "credits");

  v1::WorkerMessage result;
  result.add_results()->set_job_id("j-never-assigned");
  result.mutable_results(0)->set_state(v1::RUNNING);
  ExpectInvalid(FinishWorkerStream({Hello("unfinished"), result}), "results[0].state");

  ExpectStillServing();
  // The refused nodes are gone; the cluster's own node is still there.
  v1::ListWorkersResponse workers;
  ASSERT_TRUE(stub_->ListWorkers(Context().get(), v1::ListWorkersRequest(), &workers).ok());
  EXPECT_EQ(workers.workers_size(), 1);
}

// What a hand-driven node saw while it ran one job of "raw" and sent back a
// result.
struct RawNodeRun {
  v1::WorkerWelcome welcome;
  v1::Assignment assignment;
  std::vector<std::string> acked_job_ids;
  grpc::Status ended;
};

class RawNodeTest : public ServerTest {
 protected:
  // Runs `job` (its function set to "raw") on a node of `protocol_version`
  // that answers with `result` (its job_id set to the job's).
  RawNodeRun RunJob(uint32_t protocol_version, v1::JobSpec job, v1::JobResult result) {
    RawNodeRun run;
    auto hub = v1::WorkerHub::NewStub(channel_);
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(2)));
    cluster_->AuthorizeAsOwner(context);
    auto stream = hub->Connect(&context);
    v1::WorkerMessage hello = Hello(absl::StrCat("raw-", job.job_id()));
    hello.mutable_hello()->clear_functions();
    hello.mutable_hello()->add_functions("raw");
    hello.mutable_hello()->set_protocol_version(protocol_version);
    EXPECT_TRUE(stream->Write(hello));
    v1::SchedulerMessage reply;
    EXPECT_TRUE(stream->Read(&reply));
    run.welcome = reply.welcome();

    v1::SubmitRequest submit;
    job.set_function("raw");
    *submit.add_jobs() = job;
    v1::SubmitResponse submitted;
    EXPECT_TRUE(stub_->Submit(Context().get(), submit, &submitted).ok());
    while (reply.assignments_size() == 0 && stream->Read(&reply)) {
    }
    EXPECT_EQ(reply.assignments_size(), 1);
    if (reply.assignments_size() == 1) run.assignment = reply.assignments(0);
    v1::WorkerMessage message;
    message.set_credits(1);
    result.set_job_id(job.job_id());
    *message.add_results() = std::move(result);
    EXPECT_TRUE(stream->Write(message));
    // Until the deadline: an acknowledgement that never comes is waited out.
    while (stream->Read(&reply)) {
      run.acked_job_ids.insert(run.acked_job_ids.end(), reply.acked_job_ids().begin(),
                               reply.acked_job_ids().end());
    }
    run.ended = stream->Finish();
    return run;
  }

  // A plain job whose node sends back a result worth `value`.
  RawNodeRun RunOneJob(uint32_t protocol_version, const std::string& job_id,
                       const v1::Value& value) {
    v1::JobSpec job;
    job.set_job_id(job_id);
    v1::JobResult result;
    result.set_state(v1::SUCCEEDED);
    *result.mutable_value() = value;
    return RunJob(protocol_version, std::move(job), std::move(result));
  }

  v1::JobStatus StatusOf(const std::string& job_id) {
    v1::GetStatusRequest request;
    request.add_job_ids(job_id);
    v1::GetStatusResponse response;
    EXPECT_TRUE(stub_->GetStatus(Context().get(), request, &response).ok());
    return response.jobs_size() == 1 ? response.jobs(0) : v1::JobStatus();
  }
};

TEST_F(RawNodeTest, ANodeOfTheCurrentProtocolGetsItsResultAcknowledged) {
  v1::Value value;
  value.set_int_value(7);
  RawNodeRun run = RunOneJob(kWorkerProtocolVersion, "acked-job", value);
  EXPECT_EQ(run.welcome.protocol_version(), kWorkerProtocolVersion);
  EXPECT_THAT(run.acked_job_ids, ElementsAre("acked-job"));
  EXPECT_EQ(StatusOf("acked-job").state(), v1::SUCCEEDED);
}

TEST_F(RawNodeTest, AnOldNodeStillWorksAndIsSentNoAcknowledgements) {
  v1::Value value;
  value.set_int_value(7);
  RawNodeRun run = RunOneJob(/*protocol_version=*/0, "old-node-job", value);
  EXPECT_THAT(run.acked_job_ids, IsEmpty());
  EXPECT_EQ(run.ended.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED)
      << "the stream stayed up: " << run.ended.error_message();
  EXPECT_EQ(StatusOf("old-node-job").state(), v1::SUCCEEDED);
}

// Used to end the node's stream: the job ran three times and failed as
// "worker node lost".
TEST_F(RawNodeTest, AResultNestedTooDeepFailsItsJobOnceAndKeepsTheStream) {
  v1::Value deep;
  v1::Value* inner = &deep;
  for (int i = 0; i < 40; ++i) inner = inner->mutable_list_value()->add_items();
  inner->set_int_value(1);
  RawNodeRun run = RunOneJob(kWorkerProtocolVersion, "deep-job", deep);
  EXPECT_EQ(run.ended.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED)
      << "the stream stayed up: " << run.ended.error_message();
  EXPECT_THAT(run.acked_job_ids, ElementsAre("deep-job"));
  v1::JobStatus status = StatusOf("deep-job");
  EXPECT_EQ(status.state(), v1::FAILED);
  EXPECT_EQ(status.attempt(), 1);
  v1::GetRequest get;
  get.set_job_id("deep-job");
  v1::GetResponse got;
  ASSERT_TRUE(stub_->Get(Context().get(), get, &got).ok());
  EXPECT_EQ(got.result().error().code(), static_cast<int>(grpc::StatusCode::INVALID_ARGUMENT));
  EXPECT_THAT(got.result().error().message(), HasSubstr("nests deeper"));
}

// A node from before packed chunks would have run "raw" once with no
// arguments and made that the chunk's result.
TEST_F(RawNodeTest, AnOldNodeRunsAPackedChunkJobFromTheEntriesUnpacked) {
  v1::JobSpec job;
  job.set_job_id("old-node-chunk");
  job.set_packed_chunk(PackChunk({{1, "a"}, {2}}));
  v1::JobResult result;
  result.set_state(v1::SUCCEEDED);
  ToProto(Value(ValueList{ValueList{1, "a"}, ValueList{2}}), result.mutable_value());
  RawNodeRun run = RunJob(kFirstVersionWithPackedChunks - 1, job, result);
  EXPECT_TRUE(run.assignment.packed_chunk().empty());
  ASSERT_EQ(run.assignment.chunk_size(), 2);
  EXPECT_EQ(*FromProto(run.assignment.chunk(0).items()), (ValueList{1, "a"}));
  EXPECT_EQ(*FromProto(run.assignment.chunk(1).items()), (ValueList{2}));
  CliResult got = cluster_->RunCli({"get", "old-node-chunk", "--timeout", "30"});
  EXPECT_EQ(got.exit_code, 0) << got.err;
  EXPECT_EQ(got.out, "[[1,\"a\"],[2]]\n");
}

// The scheduler passes a packed result on unread; the client that reads it
// fails that one job, and the node's stream and the scheduler serve on.
TEST_F(RawNodeTest, AGarbagePackedValueFromANodeFailsOnlyItsJob) {
  v1::JobSpec job;
  job.set_job_id("garbage-result");
  job.set_packed_chunk(PackChunk({{1}}));
  v1::JobResult result;
  result.set_state(v1::SUCCEEDED);
  result.set_packed_value("\xff\xff\xff");
  RawNodeRun run = RunJob(kWorkerProtocolVersion, job, result);
  EXPECT_EQ(run.assignment.packed_chunk(), job.packed_chunk());
  EXPECT_EQ(run.ended.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED)
      << "the stream stayed up: " << run.ended.error_message();
  EXPECT_THAT(run.acked_job_ids, ElementsAre("garbage-result"));
  CliResult got = cluster_->RunCli({"get", "garbage-result", "--timeout", "30"});
  EXPECT_EQ(got.exit_code, 1) << got.err;
  EXPECT_THAT(got.err, HasSubstr("not a Value"));
  ExpectStillServing();
}

TEST(ServerLifecycle, SigtermStopsTheSchedulerWithExitZero) {
  auto cluster = TestCluster::Start({.workers = 1, .processes = 1});
  ASSERT_TRUE(cluster.ok()) << cluster.status();
  (*cluster)->scheduler().Signal(SIGTERM);
  EXPECT_EQ((*cluster)->scheduler().Wait(absl::Seconds(15)), std::optional<int>(0));
}

TEST(ServerLifecycle, RefusesNonLoopbackWithoutInsecure) {
  absl::StatusOr<Subprocess> daemon = Subprocess::Start(
      {netpool::testing::NetpooldPath(), "--listen", "0.0.0.0:0"},
      {.pipe_stdout = true, .pipe_stderr = true});
  ASSERT_TRUE(daemon.ok());
  std::string out, err;
  absl::StatusOr<int> code = daemon->Communicate(absl::Seconds(30), &out, &err);
  ASSERT_TRUE(code.ok());
  EXPECT_EQ(*code, 64);
  EXPECT_THAT(err, HasSubstr("--insecure"));
}

}  // namespace
}  // namespace netpool
