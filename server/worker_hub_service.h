// WorkerHubService is the worker-facing gRPC service (netpool.v1.WorkerHub):
// one bidirectional stream per worker node (a WorkerStreamCall), served on
// gRPC's callback API so that a connected node holds no thread. It
// authenticates the node (a worker or admin token, and a certificate when
// --tls-client-ca asks for one) before reading anything from it.
#ifndef NETPOOL_SERVER_WORKER_HUB_SERVICE_H_
#define NETPOOL_SERVER_WORKER_HUB_SERVICE_H_

#include "netpool/v1/worker.grpc.pb.h"
#include "server/auth/authenticator.h"
#include "server/scheduler_runtime.h"

namespace netpool {

class WorkerHubService final : public v1::WorkerHub::CallbackService {
 public:
  // REQUIRES: both outlive the service.
  WorkerHubService(SchedulerRuntime* runtime, const Authenticator* authenticator)
      : runtime_(runtime), authenticator_(authenticator) {}

  grpc::ServerBidiReactor<v1::WorkerMessage, v1::SchedulerMessage>* Connect(
      grpc::CallbackServerContext* context) override;

 private:
  SchedulerRuntime* const runtime_;
  const Authenticator* const authenticator_;
};

}  // namespace netpool

#endif  // NETPOOL_SERVER_WORKER_HUB_SERVICE_H_
