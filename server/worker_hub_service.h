// WorkerHubService is the worker-facing gRPC service (netpool.v1.WorkerHub):
// one bidirectional stream per worker node. It authenticates the node (a
// worker or admin token, and a certificate when --tls-client-ca asks for
// one), binds the node's name to that credential, checks the node's hello,
// registers the node with SchedulerRuntime, forwards credits, results and
// heartbeats, and writes assignments and cancels back in batches.
#ifndef NETPOOL_SERVER_WORKER_HUB_SERVICE_H_
#define NETPOOL_SERVER_WORKER_HUB_SERVICE_H_

#include "netpool/v1/netpool.grpc.pb.h"
#include "server/auth/authenticator.h"
#include "server/scheduler_runtime.h"

namespace netpool {

class WorkerHubService final : public v1::WorkerHub::Service {
 public:
  // REQUIRES: both outlive the service.
  WorkerHubService(SchedulerRuntime* runtime, const Authenticator* authenticator)
      : runtime_(runtime), authenticator_(authenticator) {}

  grpc::Status Connect(
      grpc::ServerContext* context,
      grpc::ServerReaderWriter<v1::SchedulerMessage, v1::WorkerMessage>* stream) override;

 private:
  SchedulerRuntime* const runtime_;
  const Authenticator* const authenticator_;
};

}  // namespace netpool

#endif  // NETPOOL_SERVER_WORKER_HUB_SERVICE_H_
