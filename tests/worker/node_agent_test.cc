// NodeAgent against a stand-in WorkerHub served by the test on 127.0.0.1:0.
// The agent's worker processes are this test binary (see worker_test_main.cc).
#include "worker/node_agent.h"

#include <functional>
#include <memory>
#include <optional>

#include "absl/synchronization/mutex.h"
#include "common/value_proto.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "netpool/v1/netpool.grpc.pb.h"
#include "netpool/worker.h"
#include "tests/worker/value_printer.h"

namespace netpool {
namespace {

constexpr absl::Duration kWait = absl::Seconds(20);

// Records what worker nodes send and lets the test answer on the open stream.
class FakeHub final : public v1::WorkerHub::Service {
 public:
  using Stream = grpc::ServerReaderWriter<v1::SchedulerMessage, v1::WorkerMessage>;

  grpc::Status Connect(grpc::ServerContext* context, Stream* stream) override {
    {
      absl::MutexLock lock(&mutex_);
      context_ = context;
      stream_ = stream;
    }
    v1::WorkerMessage message;
    while (stream->Read(&message)) {
      absl::MutexLock lock(&mutex_);
      received_.push_back(message);
      if (message.has_hello() && hang_ups_ > 0) {
        --hang_ups_;
        break;
      }
    }
    absl::MutexLock lock(&mutex_);
    stream_ = nullptr;
    context_ = nullptr;
    return grpc::Status(grpc::StatusCode::UNAVAILABLE, "hub hung up");
  }

  // Ends the next `count` streams right after their hello.
  void HangUpAfterHello(int count) {
    absl::MutexLock lock(&mutex_);
    hang_ups_ = count;
  }

  // Breaks the open stream, as a scheduler that goes away would.
  void HangUp() {
    absl::MutexLock lock(&mutex_);
    if (context_ != nullptr) context_->TryCancel();
  }

  bool Send(const v1::SchedulerMessage& message) {
    absl::MutexLock lock(&mutex_);
    return stream_ != nullptr && stream_->Write(message);
  }

  // The first message received (from the start) that matches, waiting up to `timeout`.
  std::optional<v1::WorkerMessage> WaitFor(std::function<bool(const v1::WorkerMessage&)> match,
                                           absl::Duration timeout = kWait) {
    absl::MutexLock lock(&mutex_);
    std::optional<v1::WorkerMessage> found;
    auto arrived = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_) {
      for (const v1::WorkerMessage& message : received_) {
        if (match(message)) {
          found = message;
          return true;
        }
      }
      return false;
    };
    mutex_.AwaitWithTimeout(absl::Condition(&arrived), timeout);
    return found;
  }

  bool WaitForHellos(int count) {
    absl::MutexLock lock(&mutex_);
    auto enough = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_) {
      return std::count_if(received_.begin(), received_.end(),
                           [](const v1::WorkerMessage& m) { return m.has_hello(); }) >= count;
    };
    return mutex_.AwaitWithTimeout(absl::Condition(&enough), kWait);
  }

 private:
  absl::Mutex mutex_;
  grpc::ServerContext* context_ ABSL_GUARDED_BY(mutex_) = nullptr;
  Stream* stream_ ABSL_GUARDED_BY(mutex_) = nullptr;
  int hang_ups_ ABSL_GUARDED_BY(mutex_) = 0;
  std::vector<v1::WorkerMessage> received_ ABSL_GUARDED_BY(mutex_);
};

class NodeAgentTest : public testing::Test {
 protected:
  void SetUp() override {
    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
    builder.RegisterService(&hub_);
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    options_.scheduler = absl::StrCat("127.0.0.1:", port);
    options_.name = "node-a";
    options_.processes = 2;
    options_.labels = {{"gpu", "no"}};
  }

  void TearDown() override {
    agent_.reset();
    if (server_ != nullptr) server_->Shutdown(absl::ToChronoTime(absl::Now() + absl::Seconds(1)));
  }

  void StartAgent() {
    agent_ = std::make_unique<NodeAgent>(options_);
    agent_->Start();
  }

  // Waits for the hello and answers with a welcome.
  void Welcome(double heartbeat_seconds = 10) {
    ASSERT_TRUE(hub_.WaitFor([](const v1::WorkerMessage& m) { return m.has_hello(); }));
    v1::SchedulerMessage welcome;
    welcome.mutable_welcome()->set_worker_id("w-1");
    welcome.mutable_welcome()->set_heartbeat_seconds(heartbeat_seconds);
    ASSERT_TRUE(hub_.Send(welcome));
  }

  void Assign(const std::string& job_id, const std::string& function, std::vector<Value> args) {
    v1::SchedulerMessage message;
    v1::Assignment* assignment = message.add_assignments();
    assignment->set_job_id(job_id);
    assignment->set_function(function);
    for (const Value& arg : args) ToProto(arg, assignment->add_args());
    ASSERT_TRUE(hub_.Send(message));
  }

  std::optional<v1::JobResult> ResultOf(const std::string& job_id) {
    std::optional<v1::WorkerMessage> message = hub_.WaitFor([&](const v1::WorkerMessage& m) {
      for (const v1::JobResult& r : m.results()) {
        if (r.job_id() == job_id) return true;
      }
      return false;
    });
    if (!message.has_value()) return std::nullopt;
    EXPECT_EQ(message->credits(), message->results_size()) << "one credit per result";
    for (const v1::JobResult& r : message->results()) {
      if (r.job_id() == job_id) return r;
    }
    return std::nullopt;
  }

  FakeHub hub_;
  std::unique_ptr<grpc::Server> server_;
  NodeAgent::Options options_;
  std::unique_ptr<NodeAgent> agent_;
};

TEST_F(NodeAgentTest, HelloAnnouncesNameSlotsFunctionsAndLabels) {
  StartAgent();
  std::optional<v1::WorkerMessage> hello =
      hub_.WaitFor([](const v1::WorkerMessage& m) { return m.has_hello(); });
  ASSERT_TRUE(hello.has_value());
  EXPECT_EQ(hello->hello().name(), "node-a");
  EXPECT_EQ(hello->hello().slots(), 2);
  EXPECT_EQ(hello->hello().labels().at("gpu"), "no");
  std::vector<std::string> functions(hello->hello().functions().begin(),
                                     hello->hello().functions().end());
  EXPECT_EQ(functions, RegisteredFunctions());
}

TEST_F(NodeAgentTest, RunsAssignmentsAndReturnsResultsWithCredits) {
  StartAgent();
  Welcome();
  Assign("job-1", "echo", {1, "two"});
  std::optional<v1::JobResult> result = ResultOf("job-1");
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(result->state(), v1::SUCCEEDED);
  EXPECT_EQ(*FromProto(result->value()), Value(ValueList{1, "two"}));
}

TEST_F(NodeAgentTest, CrashReportsTheJobFailedAndKeepsServing) {
  StartAgent();
  Welcome();
  Assign("crash", "test.crash", {});
  std::optional<v1::JobResult> crashed = ResultOf("crash");
  ASSERT_TRUE(crashed.has_value());
  EXPECT_EQ(crashed->error().message(), "worker process died: signal 11 (SIGSEGV)");
  Assign("after", "echo", {});
  ASSERT_TRUE(ResultOf("after").has_value());
}

TEST_F(NodeAgentTest, CancelFromTheSchedulerCancelsTheJob) {
  StartAgent();
  Welcome();
  Assign("long", "sleep", {60});
  v1::SchedulerMessage cancel;
  cancel.add_cancel_job_ids("long");
  ASSERT_TRUE(hub_.Send(cancel));
  std::optional<v1::JobResult> result = ResultOf("long");
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(result->state(), v1::CANCELLED);
}

TEST_F(NodeAgentTest, SendsHeartbeats) {
  StartAgent();
  Welcome(/*heartbeat_seconds=*/0.05);
  EXPECT_TRUE(hub_.WaitFor([](const v1::WorkerMessage& m) { return m.heartbeat(); }));
}

TEST_F(NodeAgentTest, ReconnectsWithAFreshHelloWhenTheStreamBreaks) {
  hub_.HangUpAfterHello(2);
  StartAgent();
  ASSERT_TRUE(hub_.WaitForHellos(3));
  Welcome();
  Assign("job-after-reconnect", "echo", {});
  ASSERT_TRUE(ResultOf("job-after-reconnect").has_value());
}

TEST_F(NodeAgentTest, AfterADisconnectJobsOfTheOldStreamAreNotReported) {
  StartAgent();
  Welcome();
  Assign("old", "sleep", {60});
  Assign("old-queued", "sleep", {60});
  Assign("old-queued-2", "sleep", {60});
  hub_.HangUp();
  ASSERT_TRUE(hub_.WaitForHellos(2));
  Welcome();
  Assign("new-1", "echo", {});
  Assign("new-2", "echo", {});
  ASSERT_TRUE(ResultOf("new-1").has_value());
  ASSERT_TRUE(ResultOf("new-2").has_value());
  EXPECT_FALSE(hub_.WaitFor(
      [](const v1::WorkerMessage& m) {
        for (const v1::JobResult& r : m.results()) {
          if (r.job_id().rfind("old", 0) == 0) return true;
        }
        return false;
      },
      absl::ZeroDuration()));
}

TEST_F(NodeAgentTest, ConnectsOnceTheSchedulerComesUp) {
  server_->Shutdown();
  server_.reset();
  StartAgent();
  absl::SleepFor(absl::Milliseconds(300));  // a few failed attempts
  FakeHub late_hub;
  grpc::ServerBuilder builder;
  builder.AddListeningPort(options_.scheduler, grpc::InsecureServerCredentials());
  builder.RegisterService(&late_hub);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  ASSERT_NE(server, nullptr);
  EXPECT_TRUE(late_hub.WaitForHellos(1));
  agent_.reset();
  server->Shutdown(absl::ToChronoTime(absl::Now() + absl::Seconds(1)));
}

TEST_F(NodeAgentTest, StopsPromptlyWhileTheSchedulerIsUnreachable) {
  options_.scheduler = "127.0.0.1:1";  // nothing listens there
  StartAgent();
  absl::SleepFor(absl::Milliseconds(300));  // into the backoff
  absl::Time start = absl::Now();
  agent_->Stop();
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
}

}  // namespace
}  // namespace netpool
