// WorkerHubService is the worker-facing gRPC service (netpool.v1.WorkerHub):
// one bidirectional stream per worker node. It checks the node's hello,
// registers the node with SchedulerRuntime, forwards credits, results and
// heartbeats, and writes assignments and cancels back in batches.
#ifndef NETPOOL_SERVER_WORKER_HUB_SERVICE_H_
#define NETPOOL_SERVER_WORKER_HUB_SERVICE_H_

#include "netpool/v1/netpool.grpc.pb.h"
#include "server/scheduler_runtime.h"

namespace netpool {

class WorkerHubService final : public v1::WorkerHub::Service {
 public:
  explicit WorkerHubService(SchedulerRuntime* runtime) : runtime_(runtime) {}

  grpc::Status Connect(
      grpc::ServerContext* context,
      grpc::ServerReaderWriter<v1::SchedulerMessage, v1::WorkerMessage>* stream) override;

 private:
  SchedulerRuntime* const runtime_;
};

}  // namespace netpool

#endif  // NETPOOL_SERVER_WORKER_HUB_SERVICE_H_
