// NodeAgent against a stand-in WorkerHub (FakeHub) served by the test on
// 127.0.0.1:0. The agent's worker processes are this test binary (see
// worker_test_main.cc).
#include "worker/node_agent.h"

#include <algorithm>
#include <memory>
#include <optional>
#include <thread>

#include "absl/synchronization/notification.h"
#include "common/value_proto.h"
#include "common/worker_protocol.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "netpool/v1/worker.pb.h"
#include "netpool/worker.h"
#include "tests/support/eventually.h"
#include "tests/support/proc.h"
#include "tests/worker/fake_hub.h"
#include "tests/worker/shell_job.h"
#include "tests/worker/value_printer.h"

namespace netpool {
namespace {

using ::netpool::testing::Eventually;
using ::netpool::testing::FakeHub;
using ::netpool::testing::ShellJob;
using ::netpool::testing::WaitUntilGone;

constexpr absl::Duration kWait = absl::Seconds(20);

std::vector<std::string> HeldJobIds(const v1::WorkerHello& hello) {
  return {hello.held_job_ids().begin(), hello.held_job_ids().end()};
}

bool HasResultOf(const v1::WorkerMessage& message, const std::string& job_id) {
  for (const v1::JobResult& result : message.results()) {
    if (result.job_id() == job_id) return true;
  }
  return false;
}

class NodeAgentTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(hub_.ok());
    options_.scheduler = hub_.address();
    options_.name = "node-a";
    options_.processes = 2;
    options_.labels = {{"gpu", "no"}};
    // Each result returns exactly its slot; the prefetch tests turn it on.
    options_.prefetch = 0;
    // The tests run shell jobs through exec.
    options_.policy.allow_exec = true;
  }

  void TearDown() override { agent_.reset(); }

  void StartAgent() {
    agent_ = std::make_unique<NodeAgent>(options_);
    agent_->Start();
  }

  // Waits for the hello of stream `stream` and answers with a welcome.
  void Welcome(int stream = 1, const std::vector<std::string>& drop_job_ids = {}) {
    ASSERT_TRUE(hub_.HelloOf(stream, kWait).has_value());
    ASSERT_TRUE(hub_.Welcome(/*heartbeat_seconds=*/10, drop_job_ids));
  }

  void Assign(const std::string& job_id, const std::string& function, std::vector<Value> args) {
    v1::SchedulerMessage message;
    v1::Assignment* assignment = message.add_assignments();
    assignment->set_job_id(job_id);
    assignment->set_function(function);
    for (const Value& arg : args) ToProto(arg, assignment->add_args());
    ASSERT_TRUE(hub_.Send(message));
  }

  // The job's result and the stream it came on.
  std::optional<std::pair<v1::JobResult, int>> ResultAndStream(const std::string& job_id) {
    std::optional<FakeHub::Received> received = hub_.ResultMessage(job_id, kWait);
    if (!received.has_value()) return std::nullopt;
    for (const v1::JobResult& result : received->message.results()) {
      if (result.job_id() == job_id) return std::make_pair(result, received->stream);
    }
    return std::nullopt;
  }

  std::optional<v1::JobResult> ResultOf(const std::string& job_id) {
    std::optional<std::pair<v1::JobResult, int>> result = ResultAndStream(job_id);
    if (!result.has_value()) return std::nullopt;
    return result->first;
  }

  int Hellos() {
    int hellos = 0;
    for (const FakeHub::Received& r : hub_.received()) hellos += r.message.has_hello() ? 1 : 0;
    return hellos;
  }

  // Breaks the stream and waits until the node tried a new one, so that it
  // surely knows: a result it wrote to the broken stream before that could
  // be lost on the way. The hub refuses new streams until
  // AcceptStreamsAfter.
  void Disconnect() {
    int hellos = Hellos();
    hub_.RefuseStreams();
    hub_.HangUp();
    EXPECT_TRUE(hub_.WaitForHellos(hellos + 1, kWait));
  }

  // Waits until the node has tried `more` further streams (so that what
  // happened before has surely reached it), then lets the next one through.
  // Returns the number of that next stream.
  int AcceptStreamsAfter(int more) {
    EXPECT_TRUE(hub_.WaitForHellos(Hellos() + more, kWait));
    return hub_.AcceptStreams();
  }

  // No message of stream `stream` received so far carries a result.
  bool NoResultsYetOn(int stream) {
    for (const FakeHub::Received& r : hub_.received()) {
      if (r.stream == stream && r.message.results_size() > 0) return false;
    }
    return true;
  }

  FakeHub hub_;
  NodeAgent::Options options_;
  std::unique_ptr<NodeAgent> agent_;
};

TEST_F(NodeAgentTest, HelloAnnouncesNameSlotsFunctionsAndLabels) {
  StartAgent();
  std::optional<v1::WorkerHello> hello = hub_.HelloOf(1, kWait);
  ASSERT_TRUE(hello.has_value());
  EXPECT_EQ(hello->name(), "node-a");
  EXPECT_EQ(hello->slots(), 2);
  EXPECT_EQ(hello->labels().at("gpu"), "no");
  std::vector<std::string> functions(hello->functions().begin(), hello->functions().end());
  EXPECT_EQ(functions, RegisteredFunctions());
  EXPECT_TRUE(hello->held_job_ids().empty());
}

TEST_F(NodeAgentTest, HelloLeavesOutExecUnlessThePolicyAllowsIt) {
  options_.policy = {};
  StartAgent();
  std::optional<v1::WorkerHello> hello = hub_.HelloOf(1, kWait);
  ASSERT_TRUE(hello.has_value());
  std::vector<std::string> functions(hello->functions().begin(), hello->functions().end());
  std::vector<std::string> expected = RegisteredFunctions();
  expected.erase(std::find(expected.begin(), expected.end(), "exec"));
  EXPECT_EQ(functions, expected);
}

TEST_F(NodeAgentTest, RunsAssignmentsAndReturnsResultsWithCredits) {
  StartAgent();
  Welcome();
  Assign("job-1", "echo", {1, "two"});
  std::optional<FakeHub::Received> received = hub_.ResultMessage("job-1", kWait);
  ASSERT_TRUE(received.has_value());
  EXPECT_EQ(received->message.credits(), received->message.results_size()) << "one per result";
  const v1::JobResult& result = received->message.results(0);
  EXPECT_EQ(result.state(), v1::SUCCEEDED);
  EXPECT_EQ(*FromProto(result.value()), Value(ValueList{1, "two"}));
  EXPECT_FALSE(result.worker_failure());
}

TEST_F(NodeAgentTest, HelloAnnouncesThePrefetchCap) {
  options_.prefetch = 7;
  StartAgent();
  std::optional<v1::WorkerHello> hello = hub_.HelloOf(1, kWait);
  ASSERT_TRUE(hello.has_value());
  EXPECT_EQ(hello->prefetch(), 7);
}

// Credits the node has given on stream 1 so far, besides its slots.
int CreditsGiven(const std::vector<FakeHub::Received>& received) {
  int credits = 0;
  for (const FakeHub::Received& r : received) credits += r.stream == 1 ? r.message.credits() : 0;
  return credits;
}

TEST_F(NodeAgentTest, ShortJobsOpenAPrefetchWindowUpToTheCap) {
  options_.processes = 1;
  options_.prefetch = 2;
  options_.prefetch_budget = absl::Hours(1);  // every job here is short
  StartAgent();
  Welcome();
  // The process's first job also waited for it to start: it tells nothing
  // of run times, and the window stays at the one process.
  Assign("first", "echo", {0});
  ASSERT_TRUE(ResultOf("first").has_value());
  EXPECT_EQ(CreditsGiven(hub_.received()), 1);
  // Now the node knows its jobs are short: it gives back the used credit
  // and 2 more, the cap; after that each result returns its own.
  Assign("second", "echo", {1});
  ASSERT_TRUE(ResultOf("second").has_value());
  EXPECT_EQ(CreditsGiven(hub_.received()), 4);
  Assign("third", "echo", {2});
  ASSERT_TRUE(ResultOf("third").has_value());
  EXPECT_EQ(CreditsGiven(hub_.received()), 5);
}

TEST_F(NodeAgentTest, LongJobsPrefetchNothing) {
  options_.processes = 1;
  options_.prefetch = 5;
  StartAgent();
  Welcome();
  // Each job runs longer than the prefetch budget: one queued behind it
  // would wait that long while another node might idle.
  const double seconds = absl::ToDoubleSeconds(options_.prefetch_budget) * 3;
  for (const char* job : {"long-1", "long-2", "long-3"}) {
    Assign(job, "sleep", {seconds});
    ASSERT_TRUE(ResultOf(job).has_value());
  }
  EXPECT_EQ(CreditsGiven(hub_.received()), 3) << "one per result, none extra";
}

TEST_F(NodeAgentTest, AFarSchedulerWidensTheWindowToCoverTheRoundTrip) {
  options_.processes = 1;
  options_.prefetch = 8;
  // Far less than any job here: only the round trip can open the window.
  options_.prefetch_budget = absl::Microseconds(10);
  StartAgent();
  Welcome();
  Assign("first", "echo", {0});
  ASSERT_TRUE(ResultOf("first").has_value());
  ASSERT_EQ(CreditsGiven(hub_.received()), 1);
  // The scheduler answers that credit 100 ms late, as across a slow link:
  // an echo is far shorter, so the node queues up to the cap.
  absl::SleepFor(absl::Milliseconds(100));
  Assign("second", "echo", {1});
  ASSERT_TRUE(ResultOf("second").has_value());
  EXPECT_EQ(CreditsGiven(hub_.received()), 1 + 1 + 8);
}

TEST_F(NodeAgentTest, CrashIsAWorkerFailureAndTheNodeKeepsServing) {
  StartAgent();
  Welcome();
  Assign("crash", "test.crash", {});
  std::optional<v1::JobResult> crashed = ResultOf("crash");
  ASSERT_TRUE(crashed.has_value());
  EXPECT_EQ(crashed->state(), v1::FAILED);
  EXPECT_EQ(crashed->error().message(), "worker process died: signal 11 (SIGSEGV)");
  EXPECT_TRUE(crashed->worker_failure());
  Assign("after", "echo", {});
  ASSERT_TRUE(ResultOf("after").has_value());
}

TEST_F(NodeAgentTest, TaskErrorIsNotAWorkerFailure) {
  StartAgent();
  Welcome();
  Assign("bad-args", "sleep", {"not a number"});
  std::optional<v1::JobResult> result = ResultOf("bad-args");
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(result->state(), v1::FAILED);
  EXPECT_FALSE(result->worker_failure());
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
  EXPECT_FALSE(result->worker_failure());
}

TEST_F(NodeAgentTest, SendsHeartbeats) {
  StartAgent();
  ASSERT_TRUE(hub_.HelloOf(1, kWait).has_value());
  ASSERT_TRUE(hub_.Welcome(/*heartbeat_seconds=*/0.05));
  EXPECT_TRUE(hub_.WaitFor([](const FakeHub::Received& r) { return r.message.heartbeat(); }, kWait));
}

TEST_F(NodeAgentTest, ReconnectsWithAFreshHelloWhenTheStreamBreaks) {
  hub_.HangUpAfterHello(2);
  StartAgent();
  Welcome(/*stream=*/3);
  Assign("job-after-reconnect", "echo", {});
  ASSERT_TRUE(ResultOf("job-after-reconnect").has_value());
}

TEST_F(NodeAgentTest, RunningJobSurvivesAStreamBreakAndReportsOnTheNextStream) {
  StartAgent();
  Welcome();
  ShellJob job("survivor");
  Assign("survivor", "exec", job.args());
  ASSERT_TRUE(job.WaitUntilStarted(kWait).has_value());
  hub_.HangUp();

  std::optional<v1::WorkerHello> hello = hub_.HelloOf(2, kWait);
  ASSERT_TRUE(hello.has_value());
  EXPECT_EQ(HeldJobIds(*hello), std::vector<std::string>{"survivor"});
  EXPECT_EQ(hello->slots(), 2);
  ASSERT_TRUE(hub_.Welcome());
  job.Release();

  std::optional<FakeHub::Received> received = hub_.ResultMessage("survivor", kWait);
  ASSERT_TRUE(received.has_value());
  EXPECT_EQ(received->stream, 2);
  EXPECT_EQ(received->message.results(0).state(), v1::SUCCEEDED);
  // The scheduler counted the held job as running here; its result frees
  // its slot like any other.
  EXPECT_EQ(received->message.credits(), 1);
}

TEST_F(NodeAgentTest, ResultThatFinishedWhileDisconnectedIsSentAfterTheNextWelcome) {
  options_.max_backoff = absl::Milliseconds(200);
  StartAgent();
  Welcome();
  ShellJob job("offline");
  Assign("offline", "exec", job.args());
  std::optional<pid_t> pid = job.WaitUntilStarted(kWait);
  ASSERT_TRUE(pid.has_value());
  Disconnect();
  job.Release();
  ASSERT_TRUE(WaitUntilGone(*pid, kWait));
  int stream = AcceptStreamsAfter(2);  // the result reached the node meanwhile

  std::optional<v1::WorkerHello> hello = hub_.HelloOf(stream, kWait);
  ASSERT_TRUE(hello.has_value());
  EXPECT_EQ(HeldJobIds(*hello), std::vector<std::string>{"offline"});
  absl::SleepFor(absl::Milliseconds(200));  // time in which it must not be sent
  EXPECT_TRUE(NoResultsYetOn(stream)) << "results go out only after the welcome";
  ASSERT_TRUE(hub_.Welcome());

  std::optional<FakeHub::Received> received = hub_.ResultMessage("offline", kWait);
  ASSERT_TRUE(received.has_value());
  EXPECT_EQ(received->stream, stream);
  EXPECT_EQ(received->message.results(0).state(), v1::SUCCEEDED);
  EXPECT_EQ(received->message.credits(), 1);
}

// A node used to forget a result once its write to the stream succeeded,
// even into a connection that was already dead: the job then ran again.
TEST_F(NodeAgentTest, AResultIsKeptUntilAcknowledgedAndResentOnTheNextStream) {
  StartAgent();
  ASSERT_TRUE(hub_.HelloOf(1, kWait).has_value());
  EXPECT_EQ(hub_.HelloOf(1, kWait)->protocol_version(), kWorkerProtocolVersion);
  ASSERT_TRUE(hub_.Welcome(10, {}, kWorkerProtocolVersion));
  Assign("kept", "echo", {1});
  Assign("acked", "echo", {2});
  ASSERT_TRUE(ResultOf("kept").has_value());
  ASSERT_TRUE(ResultOf("acked").has_value());
  v1::SchedulerMessage ack;
  ack.add_acked_job_ids("acked");
  ASSERT_TRUE(hub_.Send(ack));
  absl::SleepFor(absl::Milliseconds(100));  // for the ack to arrive before the break
  hub_.HangUp();

  std::optional<v1::WorkerHello> hello = hub_.HelloOf(2, kWait);
  ASSERT_TRUE(hello.has_value());
  EXPECT_EQ(HeldJobIds(*hello), std::vector<std::string>{"kept"});
  ASSERT_TRUE(hub_.Welcome(10, {}, kWorkerProtocolVersion));
  ASSERT_TRUE(Eventually(
      [&] {
        for (const FakeHub::Received& r : hub_.received()) {
          if (r.stream != 2) continue;
          for (const v1::JobResult& result : r.message.results()) {
            if (result.job_id() == "kept") return true;
          }
        }
        return false;
      },
      kWait))
      << "the unacknowledged result was not sent again";
  ack.set_acked_job_ids(0, "kept");
  ASSERT_TRUE(hub_.Send(ack));
  absl::SleepFor(absl::Milliseconds(100));
  hub_.HangUp();
  hello = hub_.HelloOf(3, kWait);
  ASSERT_TRUE(hello.has_value());
  EXPECT_THAT(HeldJobIds(*hello), ::testing::IsEmpty());
}

TEST_F(NodeAgentTest, ASchedulerThatAcknowledgesNothingGetsEachResultOnce) {
  StartAgent();
  Welcome();  // protocol version 0: an older netpoold
  Assign("once", "echo", {1});
  ASSERT_TRUE(ResultOf("once").has_value());
  absl::SleepFor(absl::Milliseconds(100));
  hub_.HangUp();
  std::optional<v1::WorkerHello> hello = hub_.HelloOf(2, kWait);
  ASSERT_TRUE(hello.has_value());
  EXPECT_THAT(HeldJobIds(*hello), ::testing::IsEmpty());
}

TEST_F(NodeAgentTest, DropJobIdsKillsAHeldJobWhoseResultNeverComes) {
  StartAgent();
  Welcome();
  ShellJob job("dropped", "exec sleep 60");
  Assign("dropped", "exec", job.args());
  std::optional<pid_t> pid = job.WaitUntilStarted(kWait);
  ASSERT_TRUE(pid.has_value());
  hub_.HangUp();

  std::optional<v1::WorkerHello> hello = hub_.HelloOf(2, kWait);
  ASSERT_TRUE(hello.has_value());
  EXPECT_EQ(HeldJobIds(*hello), std::vector<std::string>{"dropped"});
  ASSERT_TRUE(hub_.Welcome(/*heartbeat_seconds=*/10, {"dropped"}));
  EXPECT_TRUE(WaitUntilGone(*pid, kWait));

  Assign("after", "echo", {});
  ASSERT_TRUE(ResultOf("after").has_value());
  for (const FakeHub::Received& r : hub_.received()) {
    EXPECT_FALSE(HasResultOf(r.message, "dropped"));
    // The scheduler counted the dropped job's slot free from the start.
    EXPECT_EQ(r.message.credits(), r.message.results_size());
  }
}

TEST_F(NodeAgentTest, DroppedResultThatFinishedWhileDisconnectedIsDiscarded) {
  options_.max_backoff = absl::Milliseconds(200);
  StartAgent();
  Welcome();
  ShellJob job("finished-elsewhere");
  Assign("finished-elsewhere", "exec", job.args());
  std::optional<pid_t> pid = job.WaitUntilStarted(kWait);
  ASSERT_TRUE(pid.has_value());
  Disconnect();
  job.Release();
  ASSERT_TRUE(WaitUntilGone(*pid, kWait));
  int stream = AcceptStreamsAfter(2);
  ASSERT_TRUE(hub_.HelloOf(stream, kWait).has_value());
  ASSERT_TRUE(hub_.Welcome(/*heartbeat_seconds=*/10, {"finished-elsewhere"}));

  Assign("after", "echo", {});
  ASSERT_TRUE(ResultOf("after").has_value());
  for (const FakeHub::Received& r : hub_.received()) {
    EXPECT_FALSE(HasResultOf(r.message, "finished-elsewhere"));
  }
}

TEST_F(NodeAgentTest, KeepsOnlyTheNewestUnsentResults) {
  options_.max_backoff = absl::Milliseconds(200);
  options_.processes = 1;  // the jobs finish one after another, in order
  options_.max_unsent_results = 2;
  StartAgent();
  Welcome();
  ShellJob first("first"), second("second", "true"), third("third", "true");
  Assign("a-first", "exec", first.args());
  Assign("b-second", "exec", second.args());
  Assign("c-third", "exec", third.args());
  ASSERT_TRUE(first.WaitUntilStarted(kWait).has_value());
  Disconnect();
  first.Release();
  // Once all three finished, each hello lists the two newest only.
  const std::vector<std::string> newest = {"b-second", "c-third"};
  EXPECT_TRUE(hub_.WaitFor(
      [&](const FakeHub::Received& r) {
        return r.message.has_hello() && HeldJobIds(r.message.hello()) == newest;
      },
      kWait));
}

TEST_F(NodeAgentTest, DrainAnnouncesItselfSendsResultsWithoutCreditsAndClosesTheStream) {
  StartAgent();
  Welcome();
  ShellJob job("finishing");
  Assign("finishing", "exec", job.args());
  ASSERT_TRUE(job.WaitUntilStarted(kWait).has_value());

  std::thread drain([this] { agent_->Drain(kWait); });
  EXPECT_TRUE(hub_.WaitFor([](const FakeHub::Received& r) { return r.message.draining(); }, kWait));
  job.Release();
  std::optional<FakeHub::Received> received = hub_.ResultMessage("finishing", kWait);
  drain.join();
  ASSERT_TRUE(received.has_value());
  EXPECT_EQ(received->message.results(0).state(), v1::SUCCEEDED);
  EXPECT_EQ(received->message.credits(), 0) << "a draining node takes no more work";
  EXPECT_TRUE(hub_.WaitForClosedByNode(1, kWait));
}

TEST_F(NodeAgentTest, DrainKillsJobsThatOutliveTheGracePeriod) {
  StartAgent();
  Welcome();
  ShellJob job("outliving", "exec sleep 60");
  Assign("outliving", "exec", job.args());
  std::optional<pid_t> pid = job.WaitUntilStarted(kWait);
  ASSERT_TRUE(pid.has_value());

  agent_->Drain(absl::Milliseconds(200));
  EXPECT_TRUE(WaitUntilGone(*pid, kWait));
  EXPECT_TRUE(hub_.WaitForClosedByNode(1, kWait));
  for (const FakeHub::Received& r : hub_.received()) {
    EXPECT_FALSE(HasResultOf(r.message, "outliving")) << "the scheduler requeues it";
  }
}

TEST_F(NodeAgentTest, ASecondShutdownRequestEndsTheDrainAtOnce) {
  StartAgent();
  Welcome();
  agent_->RequestShutdown();
  EXPECT_TRUE(agent_->WaitForShutdownRequest().ok());
  ShellJob job("cut-short", "exec sleep 60");
  Assign("cut-short", "exec", job.args());
  std::optional<pid_t> pid = job.WaitUntilStarted(kWait);
  ASSERT_TRUE(pid.has_value());

  absl::Notification drained;
  std::thread drain([&] {
    agent_->Drain(absl::Seconds(60));
    drained.Notify();
  });
  EXPECT_TRUE(hub_.WaitFor([](const FakeHub::Received& r) { return r.message.draining(); }, kWait));
  agent_->RequestShutdown();
  EXPECT_TRUE(drained.WaitForNotificationWithTimeout(kWait));
  drain.join();
  EXPECT_TRUE(WaitUntilGone(*pid, kWait));
}

TEST_F(NodeAgentTest, FailingInitializerStopsTheNodeWithItsError) {
  absl::Notification failed;
  options_.initializer = {"test.fail_init", {"no database"}};
  options_.on_failure = [&](const absl::Status&) { failed.Notify(); };
  StartAgent();
  ASSERT_TRUE(failed.WaitForNotificationWithTimeout(kWait));
  absl::Status failure = agent_->WaitForShutdownRequest();
  EXPECT_EQ(failure.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(failure.message(), "initializer test.fail_init failed: no database");
}

TEST_F(NodeAgentTest, ConnectsOnceTheSchedulerComesUp) {
  hub_.Shutdown();
  StartAgent();
  absl::SleepFor(absl::Milliseconds(300));  // a few failed attempts
  FakeHub late_hub(options_.scheduler);
  ASSERT_TRUE(late_hub.ok());
  EXPECT_TRUE(late_hub.WaitForHellos(1, kWait));
  agent_.reset();
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
