// ConfigureSchedulerServer sets up a gRPC server the way netpoold serves its
// two services, so that the scheduler Pool::Local embeds runs on exactly the
// same transport as a remote one: message size limit, thread quota,
// keepalive, and the Scheduler and WorkerHub services; with `rpc_events`,
// every call is counted there (netpoold's /metrics).
#ifndef NETPOOL_SERVER_SERVER_SETUP_H_
#define NETPOOL_SERVER_SERVER_SETUP_H_

#include "grpcpp/server_builder.h"
#include "server/rpc_counting.h"
#include "server/scheduler_service.h"
#include "server/worker_hub_service.h"

namespace netpool {

// REQUIRES: the services outlive the server built from `builder`.
void ConfigureSchedulerServer(grpc::ServerBuilder& builder, SchedulerService* scheduler,
                              WorkerHubService* worker_hub, RpcEvents* rpc_events = nullptr);

}  // namespace netpool

#endif  // NETPOOL_SERVER_SERVER_SETUP_H_
