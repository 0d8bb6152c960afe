#include "bench/sim_nodes.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "netpool/v1/worker.grpc.pb.h"

namespace netpool::bench {
namespace {

// How often the heartbeat thread looks again before the welcome told it the
// interval, and at most between two looks after.
constexpr absl::Duration kHeartbeatCheck = absl::Milliseconds(100);

}  // namespace

absl::StatusOr<std::unique_ptr<SimNodes>> SimNodes::Start(testing::TestCluster& cluster,
                                                         Options options) {
  if (options.nodes < 1) return absl::InvalidArgumentError("at least one simulated node");
  std::unique_ptr<SimNodes> sim(new SimNodes());
  const int channels = std::max(1, std::min(options.channels, options.nodes));
  for (int i = 0; i < channels; ++i) {
    grpc::ChannelArguments args;
    // Its own connection: channels with equal arguments would share one.
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    sim->stubs_.push_back(v1::WorkerHub::NewStub(cluster.OwnerChannel(args)));
  }
  for (int i = 0; i < options.nodes; ++i) {
    auto node = std::make_unique<SimNode>(absl::StrCat("sim-", i), options.slots);
    cluster.AuthorizeAsOwner(node->context());
    node->Start(*sim->stubs_[i % channels]);
    sim->nodes_.push_back(std::move(node));
  }
  sim->heartbeats_ = std::thread([raw = sim.get()] { raw->RunHeartbeats(); });
  absl::Status joined = cluster.WaitForWorkers(options.nodes, options.nodes * options.slots,
                                               absl::Seconds(60));
  if (!joined.ok()) return joined;
  return sim;
}

SimNodes::~SimNodes() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (heartbeats_.joinable()) heartbeats_.join();
  for (const std::unique_ptr<SimNode>& node : nodes_) node->Stop();
}

void SimNodes::RunHeartbeats() {
  absl::Time last = absl::Now();
  absl::MutexLock lock(&mu_);
  while (!mu_.AwaitWithTimeout(absl::Condition(&stopping_), kHeartbeatCheck)) {
    // Every node is told the same interval.
    const absl::Duration interval = nodes_.front()->heartbeat_interval();
    if (interval <= absl::ZeroDuration() || absl::Now() < last + interval) continue;
    last = absl::Now();
    for (const std::unique_ptr<SimNode>& node : nodes_) node->Heartbeat();
  }
}

}  // namespace netpool::bench
