// What one client may hold on the scheduler (issue 11, item 4), against a
// real netpoold: a Watch stream gets each result once however often it asks,
// a client that stops reading its Watch stream is cut off with
// RESOURCE_EXHAUSTED instead of growing the scheduler, waiting Gets hold no
// thread each (10,000 of them leave other clients and joining nodes served),
// and each identity's open streams and waiting Gets are limited.
#include <atomic>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "grpcpp/create_channel.h"
#include "gtest/gtest.h"
#include "netpool/v1/netpool.grpc.pb.h"
#include "tests/support/eventually.h"
#include "tests/support/proc.h"
#include "tests/support/test_cluster.h"

namespace netpool {
namespace {

using ::netpool::testing::Eventually;
using ::netpool::testing::ProcStatus;
using ::netpool::testing::TestCluster;
using ::testing::HasSubstr;

// What an echo job of one text argument returned: [text].
std::string Echoed(const v1::JobResult& result) {
  if (result.value().list_value().items_size() != 1) return "(not one echoed argument)";
  return result.value().list_value().items(0).string_value();
}

class ClientLimitsTest : public ::testing::Test {
 protected:
  void Start(std::vector<std::string> scheduler_args) {
    auto cluster = TestCluster::Start(
        {.workers = 1, .processes = 2, .scheduler_args = std::move(scheduler_args)});
    ASSERT_TRUE(cluster.ok()) << cluster.status();
    cluster_ = *std::move(cluster);
  }

  // A client of its own: a connection no other channel shares, receiving
  // messages of any size (as the client library does).
  std::unique_ptr<v1::Scheduler::Stub> NewClient() {
    absl::StatusOr<ClientTransport> transport =
        ClientTransport::Create(cluster_->address(), ClientSecurity());
    EXPECT_TRUE(transport.ok()) << transport.status();
    grpc::ChannelArguments args;
    args.SetMaxReceiveMessageSize(-1);
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    return v1::Scheduler::NewStub(transport->NewChannel(cluster_->address(), args));
  }

  std::unique_ptr<grpc::ClientContext> Context(absl::Duration timeout = absl::Seconds(60)) {
    auto context = std::make_unique<grpc::ClientContext>();
    context->set_deadline(absl::ToChronoTime(absl::Now() + timeout));
    cluster_->AuthorizeAsOwner(*context);
    return context;
  }

  // Submits one echo job per argument; their ids.
  std::vector<std::string> SubmitEcho(v1::Scheduler::Stub& stub,
                                      const std::vector<std::string>& texts,
                                      const std::string& needs_label = "") {
    v1::SubmitRequest request;
    for (const std::string& text : texts) {
      v1::JobSpec* job = request.add_jobs();
      job->set_function("echo");
      job->add_args()->set_string_value(text);
      if (!needs_label.empty()) (*job->mutable_labels())[needs_label] = "yes";
    }
    v1::SubmitResponse response;
    grpc::Status status = stub.Submit(Context().get(), request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return {response.job_ids().begin(), response.job_ids().end()};
  }

  // Waits for the job and returns its result; empty if it is not ready.
  v1::GetResponse GetResult(v1::Scheduler::Stub& stub, const std::string& id,
                            double timeout_seconds = 60) {
    v1::GetRequest request;
    request.set_job_id(id);
    request.set_timeout_seconds(timeout_seconds);
    v1::GetResponse response;
    grpc::Status status =
        stub.Get(Context(absl::Seconds(timeout_seconds + 30)).get(), request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response;
  }

  // A job runs end to end for a client of its own.
  void ExpectAnotherClientServed() {
    auto other = NewClient();
    std::vector<std::string> ids = SubmitEcho(*other, {"another client"});
    ASSERT_EQ(ids.size(), 1u);
    v1::GetResponse got = GetResult(*other, ids[0], 30);
    ASSERT_TRUE(got.ready());
    EXPECT_EQ(Echoed(got.result()), "another client");
  }

  std::unique_ptr<TestCluster> cluster_;
};

TEST_F(ClientLimitsTest, WatchSendsEachResultOncePerStream) {
  Start({});
  auto client = NewClient();
  std::vector<std::string> ids = SubmitEcho(*client, {std::string(1 << 20, 'r')});
  ASSERT_EQ(ids.size(), 1u);
  ASSERT_TRUE(GetResult(*client, ids[0]).ready());

  auto context = Context();
  auto stream = client->Watch(context.get());
  v1::WatchRequest request;
  for (int i = 0; i < 400; ++i) request.add_job_ids(ids[0]);
  ASSERT_TRUE(stream->Write(request));
  ASSERT_TRUE(stream->Write(request));  // and again on the same stream
  stream->WritesDone();
  int results = 0;
  v1::WatchResponse response;
  while (stream->Read(&response)) results += response.results_size();
  grpc::Status status = stream->Finish();
  EXPECT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(results, 1);
}

TEST_F(ClientLimitsTest, CutsOffAWatchStreamItsClientDoesNotRead) {
  Start({"--max-client-buffer", absl::StrCat(16 << 20)});
  auto client = NewClient();
  std::vector<std::string> ids;
  for (int batch = 0; batch < 6; ++batch) {
    std::vector<std::string> more =
        SubmitEcho(*client, std::vector<std::string>(10, std::string(1 << 20, 'a' + batch)));
    ids.insert(ids.end(), more.begin(), more.end());
  }
  ASSERT_EQ(ids.size(), 60u);
  for (const std::string& id : ids) ASSERT_TRUE(GetResult(*client, id).ready());

  // 20 streams that each ask for all 60 MB of results and read nothing: kept
  // for each, that would be 1.2 GB.
  auto reader = NewClient();
  std::vector<std::unique_ptr<grpc::ClientContext>> contexts;
  std::vector<std::unique_ptr<grpc::ClientReaderWriter<v1::WatchRequest, v1::WatchResponse>>>
      streams;
  v1::WatchRequest request;
  for (const std::string& id : ids) request.add_job_ids(id);
  for (int i = 0; i < 20; ++i) {
    contexts.push_back(Context(absl::Seconds(120)));
    streams.push_back(reader->Watch(contexts.back().get()));
    ASSERT_TRUE(streams.back()->Write(request));
  }
  int64_t peak_rss_kb = 0;
  const absl::Time until = absl::Now() + absl::Seconds(10);
  while (absl::Now() < until && peak_rss_kb < 600 * 1024) {
    peak_rss_kb = std::max(peak_rss_kb, ProcStatus(cluster_->scheduler_pid(), "VmRSS"));
    absl::SleepFor(absl::Milliseconds(50));
  }
  EXPECT_LT(peak_rss_kb, 600 * 1024);
  std::printf("netpoold's resident memory peaked at %ld MB\n",
              static_cast<long>(peak_rss_kb / 1024));

  ExpectAnotherClientServed();

  for (auto& stream : streams) {
    stream->WritesDone();
    v1::WatchResponse response;
    while (stream->Read(&response)) {
    }
    grpc::Status status = stream->Finish();
    EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << status.error_message();
    EXPECT_THAT(status.error_message(), HasSubstr("--max-client-buffer"));
  }
  // The jobs are untouched: their results are still there to fetch.
  v1::GetStatusRequest status_request;
  for (const std::string& id : ids) status_request.add_job_ids(id);
  v1::GetStatusResponse statuses;
  ASSERT_TRUE(client->GetStatus(Context().get(), status_request, &statuses).ok());
  for (const v1::JobStatus& job : statuses.jobs()) {
    EXPECT_EQ(job.state(), v1::SUCCEEDED) << job.job_id();
  }
  v1::GetResponse last = GetResult(*client, ids.back());
  ASSERT_TRUE(last.ready());
  // Not EXPECT_EQ: a failure would print a megabyte.
  EXPECT_TRUE(Echoed(last.result()) == std::string(1 << 20, 'f'));
}

// Many Gets waiting at once, each with its own context, all driven by the
// callback client API from this one thread.
class WaitingGets {
 public:
  WaitingGets(v1::Scheduler::Stub& stub, const TestCluster& cluster, const std::string& job_id,
              int count)
      : calls_(count) {
    for (Call& call : calls_) {
      cluster.AuthorizeAsOwner(call.context);
      call.request.set_job_id(job_id);
      call.request.set_timeout_seconds(-1);
      stub.async()->Get(&call.context, &call.request, &call.response,
                        [this, &call](grpc::Status s) {
                          call.status = std::move(s);
                          done_.fetch_add(1);
                        });
    }
  }
  ~WaitingGets() {
    CancelAll();
    // The callbacks refer to this object.
    Eventually([this] { return done() == static_cast<int>(calls_.size()); }, absl::Minutes(2));
  }
  int done() const { return done_.load(); }
  void CancelAll() {
    for (Call& call : calls_) call.context.TryCancel();
  }
  void Cancel(int index) { calls_[index].context.TryCancel(); }
  // REQUIRES: done() == count.
  int Count(grpc::StatusCode code) const {
    int n = 0;
    for (const Call& call : calls_) n += call.status.error_code() == code;
    return n;
  }

 private:
  struct Call {
    grpc::ClientContext context;
    v1::GetRequest request;
    v1::GetResponse response;
    grpc::Status status;
  };
  std::vector<Call> calls_;
  std::atomic<int> done_{0};
};

TEST_F(ClientLimitsTest, TenThousandWaitingGetsLeaveTheSchedulerServing) {
  Start({"--max-waiting-per-client", "20000"});
  auto client = NewClient();
  // No node has the label: the job waits for ever.
  std::vector<std::string> ids = SubmitEcho(*client, {"never"}, "nobody-has-this");
  ASSERT_EQ(ids.size(), 1u);

  constexpr int kWaiting = 10'000;
  WaitingGets gets(*client, *cluster_, ids[0], kWaiting);
  // Give them all time to arrive and be refused if they are refused.
  absl::SleepFor(absl::Seconds(5));
  EXPECT_EQ(gets.done(), 0) << "some Gets ended instead of waiting";

  ExpectAnotherClientServed();
  absl::StatusOr<int> node = cluster_->AddWorker(1);
  EXPECT_TRUE(node.ok()) << node.status();
  const int64_t threads = ProcStatus(cluster_->scheduler_pid(), "Threads");
  std::printf("netpoold has %ld threads with %d Gets waiting\n", static_cast<long>(threads),
              kWaiting);
  EXPECT_GT(threads, 0);
  EXPECT_LT(threads, 64);
  EXPECT_EQ(gets.done(), 0);

  gets.CancelAll();
  ASSERT_TRUE(Eventually([&] { return gets.done() == kWaiting; }, absl::Seconds(60)));
  EXPECT_EQ(gets.Count(grpc::StatusCode::CANCELLED), kWaiting);
  ExpectAnotherClientServed();
}

TEST_F(ClientLimitsTest, AGetWithATimeoutStillTimesOut) {
  Start({});
  auto client = NewClient();
  std::vector<std::string> ids = SubmitEcho(*client, {"never"}, "nobody-has-this");
  ASSERT_EQ(ids.size(), 1u);
  const absl::Time start = absl::Now();
  v1::GetResponse response = GetResult(*client, ids[0], 0.5);
  const absl::Duration took = absl::Now() - start;
  EXPECT_FALSE(response.ready());
  EXPECT_GE(took, absl::Milliseconds(450));
  EXPECT_LT(took, absl::Seconds(5));
}

TEST_F(ClientLimitsTest, LimitsTheWatchStreamsOfOneClient) {
  Start({"--max-streams-per-client", "2"});
  auto client = NewClient();
  std::vector<std::string> ids = SubmitEcho(*client, {"done"});
  ASSERT_EQ(ids.size(), 1u);
  ASSERT_TRUE(GetResult(*client, ids[0]).ready());
  v1::WatchRequest request;
  request.add_job_ids(ids[0]);

  // Each open once it has answered.
  std::vector<std::unique_ptr<grpc::ClientContext>> contexts;
  std::vector<std::unique_ptr<grpc::ClientReaderWriter<v1::WatchRequest, v1::WatchResponse>>> open;
  for (int i = 0; i < 2; ++i) {
    contexts.push_back(Context());
    open.push_back(client->Watch(contexts.back().get()));
    ASSERT_TRUE(open.back()->Write(request));
    v1::WatchResponse response;
    ASSERT_TRUE(open.back()->Read(&response));
  }
  auto refused_context = Context();
  auto refused = client->Watch(refused_context.get());
  refused->Write(request);
  v1::WatchResponse response;
  EXPECT_FALSE(refused->Read(&response));
  grpc::Status status = refused->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << status.error_message();
  EXPECT_THAT(status.error_message(), HasSubstr("--max-streams-per-client"));

  // Closing one makes room for another.
  open[0]->WritesDone();
  EXPECT_TRUE(open[0]->Finish().ok());
  EXPECT_TRUE(Eventually(
      [&] {
        auto context = Context();
        auto stream = client->Watch(context.get());
        stream->Write(request);
        v1::WatchResponse answer;
        const bool answered = stream->Read(&answer);
        stream->WritesDone();
        while (stream->Read(&answer)) {
        }
        return stream->Finish().ok() && answered;
      },
      absl::Seconds(10)));
}

TEST_F(ClientLimitsTest, LimitsTheWaitingGetsOfOneClient) {
  Start({"--max-waiting-per-client", "2"});
  auto client = NewClient();
  std::vector<std::string> ids = SubmitEcho(*client, {"never"}, "nobody-has-this");
  ASSERT_EQ(ids.size(), 1u);
  WaitingGets gets(*client, *cluster_, ids[0], 2);

  v1::GetRequest request;
  request.set_job_id(ids[0]);
  request.set_timeout_seconds(0.2);
  grpc::Status refusal;
  ASSERT_TRUE(Eventually(
      [&] {
        v1::GetResponse response;
        refusal = client->Get(Context().get(), request, &response);
        return refusal.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED;
      },
      absl::Seconds(10)));
  EXPECT_THAT(refusal.error_message(), HasSubstr("--max-waiting-per-client"));
  // A Get that waits no time needs no room.
  request.set_timeout_seconds(0);
  v1::GetResponse response;
  EXPECT_TRUE(client->Get(Context().get(), request, &response).ok());

  // A cancelled Get gives its room back at once.
  gets.Cancel(0);
  request.set_timeout_seconds(0.2);
  EXPECT_TRUE(Eventually(
      [&] {
        v1::GetResponse answer;
        return client->Get(Context().get(), request, &answer).ok();
      },
      absl::Seconds(5)));
  EXPECT_EQ(gets.done(), 1);
}

}  // namespace
}  // namespace netpool
