// The worker node streams of a real netpoold (issue 11, item 4): a
// connected node holds no thread of the scheduler's, so a thousand nodes are
// served by a handful of threads; each node is welcomed first, and a node
// whose stream ends is no longer listed.
#include <algorithm>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/worker_protocol.h"
#include "grpcpp/support/client_callback.h"
#include "gtest/gtest.h"
#include "netpool/v1/netpool.grpc.pb.h"
#include "netpool/v1/worker.grpc.pb.h"
#include "tests/support/eventually.h"
#include "tests/support/proc.h"
#include "tests/support/test_cluster.h"

namespace netpool {
namespace {

using ::netpool::testing::Eventually;
using ::netpool::testing::ProcStatus;
using ::netpool::testing::TestCluster;

// One worker node's stream, opened as netpool-worker opens it (a hello with
// one slot), on the callback API so that one test process holds hundreds:
// it reads what the scheduler sends until the stream ends.
class NodeStream final : public grpc::ClientBidiReactor<v1::WorkerMessage, v1::SchedulerMessage> {
 public:
  NodeStream(v1::WorkerHub::Stub& stub, const TestCluster& cluster, const std::string& name) {
    cluster.AuthorizeAsOwner(context_);
    v1::WorkerHello* hello = hello_.mutable_hello();
    hello->set_name(name);
    hello->set_instance_id(name);
    hello->set_protocol_version(kWorkerProtocolVersion);
    hello->set_slots(1);
    stub.async()->Connect(&context_, this);
    StartWrite(&hello_);
    StartRead(&message_);
    StartCall();
  }

  void Cancel() { context_.TryCancel(); }

  // The first message the scheduler sent carried the welcome.
  bool welcomed() const {
    absl::MutexLock lock(&mu_);
    return first_was_welcome_;
  }
  bool done() const {
    absl::MutexLock lock(&mu_);
    return done_;
  }

 private:
  void OnReadDone(bool ok) override {
    if (!ok) return;  // the stream ended: OnDone follows
    {
      absl::MutexLock lock(&mu_);
      if (++received_ == 1) first_was_welcome_ = message_.has_welcome();
    }
    StartRead(&message_);
  }

  void OnDone(const grpc::Status& /*status*/) override {
    absl::MutexLock lock(&mu_);
    done_ = true;
  }

  grpc::ClientContext context_;
  v1::WorkerMessage hello_;
  v1::SchedulerMessage message_;
  mutable absl::Mutex mu_;
  int received_ ABSL_GUARDED_BY(mu_) = 0;
  bool first_was_welcome_ ABSL_GUARDED_BY(mu_) = false;
  bool done_ ABSL_GUARDED_BY(mu_) = false;
};

int ListedNodes(const TestCluster& cluster) {
  auto stub = v1::Scheduler::NewStub(cluster.OwnerChannel());
  grpc::ClientContext context;
  cluster.AuthorizeAsOwner(context);
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
  v1::ListWorkersResponse response;
  grpc::Status status = stub->ListWorkers(&context, v1::ListWorkersRequest(), &response);
  EXPECT_TRUE(status.ok()) << status.error_message();
  return response.workers_size();
}

TEST(WorkerHub, ThreeHundredNodeStreamsHoldNoThreadEach) {
  // The streams send no heartbeats: the scheduler must not give up on them.
  auto cluster = TestCluster::Start({.workers = 0, .scheduler_args = {"--lease-timeout", "600"}});
  ASSERT_TRUE(cluster.ok()) << cluster.status();
  const pid_t netpoold = (*cluster)->scheduler_pid();
  const int64_t threads_before = ProcStatus(netpoold, "Threads");

  constexpr int kNodes = 300;
  auto stub = v1::WorkerHub::NewStub((*cluster)->OwnerChannel());
  std::vector<std::unique_ptr<NodeStream>> nodes;
  for (int i = 0; i < kNodes; ++i) {
    nodes.push_back(std::make_unique<NodeStream>(*stub, **cluster, absl::StrCat("node", i)));
  }
  auto all = [&](bool (NodeStream::*property)() const) {
    return std::all_of(nodes.begin(), nodes.end(),
                       [&](const std::unique_ptr<NodeStream>& node) { return (*node.*property)(); });
  };
  EXPECT_TRUE(Eventually([&] { return all(&NodeStream::welcomed); }, absl::Seconds(60)))
      << "not every node got the welcome first";
  EXPECT_EQ(ListedNodes(**cluster), kNodes);

  const int64_t threads = ProcStatus(netpoold, "Threads");
  std::printf("netpoold has %ld threads with %d nodes connected (%ld with none)\n",
              static_cast<long>(threads), kNodes, static_cast<long>(threads_before));
  EXPECT_GT(threads, 0);
  EXPECT_LT(threads, 64);

  for (const auto& node : nodes) node->Cancel();
  EXPECT_TRUE(Eventually([&] { return all(&NodeStream::done); }, absl::Seconds(60)));
  EXPECT_TRUE(Eventually([&] { return ListedNodes(**cluster) == 0; }, absl::Seconds(30)))
      << "nodes whose streams ended are still listed";
}

}  // namespace
}  // namespace netpool
