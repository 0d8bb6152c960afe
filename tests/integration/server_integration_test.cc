// netpoold's behaviour at its edges: health checking, bad requests from
// clients and workers, and shutdown.
#include <signal.h>

#include <optional>

#include "absl/synchronization/notification.h"
#include "gmock/gmock.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/generic/generic_stub.h"
#include "gtest/gtest.h"
#include "netpool/v1/netpool.grpc.pb.h"
#include "tests/support/test_cluster.h"

namespace netpool {
namespace {

using ::netpool::testing::Subprocess;
using ::netpool::testing::TestCluster;

class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto cluster = TestCluster::Start({.workers = 1, .processes = 1});
    ASSERT_TRUE(cluster.ok()) << cluster.status();
    cluster_ = *std::move(cluster);
    channel_ = grpc::CreateChannel(cluster_->address(), grpc::InsecureChannelCredentials());
    stub_ = v1::Scheduler::NewStub(channel_);
  }
  std::unique_ptr<grpc::ClientContext> Context() {
    auto context = std::make_unique<grpc::ClientContext>();
    context->set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
    return context;
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
  EXPECT_EQ(stub_->Submit(Context().get(), request, &response).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);

  request.mutable_jobs(0)->set_job_id("");
  request.mutable_jobs(0)->set_function("");
  EXPECT_EQ(stub_->Submit(Context().get(), request, &response).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);

  request.mutable_jobs(0)->set_function("echo");
  v1::Value* deep = request.mutable_jobs(0)->add_args();
  for (int i = 0; i < 40; ++i) deep = deep->mutable_list_value()->add_items();
  EXPECT_EQ(stub_->Submit(Context().get(), request, &response).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  // Deeper than protobuf itself parses: refused before netpool sees it.
  for (int i = 0; i < 200; ++i) deep = deep->mutable_list_value()->add_items();
  EXPECT_FALSE(stub_->Submit(Context().get(), request, &response).ok());

  v1::GetRequest get;
  get.set_job_id("");
  v1::GetResponse got;
  EXPECT_EQ(stub_->Get(Context().get(), get, &got).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  get.set_job_id("j-unknown");
  EXPECT_EQ(stub_->Get(Context().get(), get, &got).error_code(), grpc::StatusCode::NOT_FOUND);

  v1::CancelRequest cancel;
  v1::CancelResponse cancelled;
  EXPECT_EQ(stub_->Cancel(Context().get(), cancel, &cancelled).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  // The server is still fine.
  v1::GetStatsResponse stats;
  EXPECT_TRUE(stub_->GetStats(Context().get(), v1::GetStatsRequest(), &stats).ok());
  EXPECT_EQ(stats.pending() + stats.running() + stats.succeeded(), 0);
}

TEST_F(ServerTest, RejectsAWorkerStreamThatDoesNotStartWithHello) {
  auto hub = v1::WorkerHub::NewStub(channel_);
  auto context = Context();
  auto stream = hub->Connect(context.get());
  v1::WorkerMessage message;
  message.set_credits(5);
  ASSERT_TRUE(stream->Write(message));
  stream->WritesDone();
  v1::SchedulerMessage reply;
  EXPECT_FALSE(stream->Read(&reply));
  EXPECT_EQ(stream->Finish().error_code(), grpc::StatusCode::INVALID_ARGUMENT);

  auto context2 = Context();
  auto stream2 = hub->Connect(context2.get());
  v1::WorkerMessage hello;
  hello.mutable_hello()->set_name("greedy");
  hello.mutable_hello()->set_slots(1'000'000);
  ASSERT_TRUE(stream2->Write(hello));
  stream2->WritesDone();
  EXPECT_FALSE(stream2->Read(&reply));
  EXPECT_EQ(stream2->Finish().error_code(), grpc::StatusCode::INVALID_ARGUMENT);
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
  EXPECT_THAT(err, ::testing::HasSubstr("--insecure"));
}

}  // namespace
}  // namespace netpool
