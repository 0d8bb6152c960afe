// SimNodes is a load generator for netpoold's side of the worker protocol:
// from one process it opens one WorkerHub.Connect stream per simulated node
// and speaks the protocol as netpool-worker does (hello, credits, results,
// heartbeats, acknowledgements), answering every assignment at once with
// the "echo" built-in's result. So a benchmark meets the scheduler with
// 1,000 nodes on one machine, and measures the scheduler, not the nodes.
//
// The streams share a few channels and gRPC's callback threads: a thousand
// nodes cost a few sockets and no thread each.
//
//   absl::StatusOr<std::unique_ptr<SimNodes>> nodes =
//       SimNodes::Start(*cluster, {.nodes = 1'000});
//   ... a Pool maps "echo" over them ...
#ifndef NETPOOL_BENCH_SIM_NODES_H_
#define NETPOOL_BENCH_SIM_NODES_H_

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "bench/sim_node.h"
#include "grpcpp/channel.h"
#include "netpool/v1/worker.grpc.pb.h"
#include "tests/support/test_cluster.h"

namespace netpool::bench {

class SimNodes {
 public:
  struct Options {
    int nodes = 1;     // at least one
    int slots = 2;     // per node; also its first credits
    int channels = 8;  // TCP connections the streams spread over
  };

  // Connects the nodes (named sim-0, sim-1, ...) to the cluster's scheduler
  // with its owner's credentials, and returns once the scheduler lists all
  // of them. REQUIRES: the cluster has no other nodes.
  static absl::StatusOr<std::unique_ptr<SimNodes>> Start(testing::TestCluster& cluster,
                                                         Options options);
  // Ends every stream and waits for each to be done.
  ~SimNodes();

 private:
  SimNodes() = default;
  // Marks a heartbeat on every node each interval the welcome asked for.
  void RunHeartbeats();

  // Before the nodes: a stream must end before its channel goes.
  std::vector<std::unique_ptr<v1::WorkerHub::Stub>> stubs_;
  std::vector<std::unique_ptr<SimNode>> nodes_;
  absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread heartbeats_;
};

}  // namespace netpool::bench

#endif  // NETPOOL_BENCH_SIM_NODES_H_
