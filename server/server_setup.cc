#include "server/server_setup.h"

#include <memory>
#include <utility>
#include <vector>

#include "grpcpp/resource_quota.h"
#include "server/request_validation.h"

namespace netpool {

void ConfigureSchedulerServer(grpc::ServerBuilder& builder, SchedulerService* scheduler,
                              WorkerHubService* worker_hub, RpcEvents* rpc_events) {
  builder.SetMaxReceiveMessageSize(kMaxRequestBytes);
  // Synchronous calls (the unary calls that answer at once) hold a thread
  // each: past this, new ones get RESOURCE_EXHAUSTED. Worker node streams,
  // Watch and Get hold none (the callback API).
  // (The builder keeps its own reference to the quota.)
  grpc::ResourceQuota quota("netpoold");
  quota.SetMaxThreads(4096);
  builder.SetResourceQuota(quota);
  // Notice a dead peer on an idle stream within ~30 s.
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIME_MS, 20'000);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 10'000);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS, 5'000);
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MAX_PING_STRIKES, 0);
  builder.RegisterService(scheduler);
  builder.RegisterService(worker_hub);
  if (rpc_events != nullptr) {
    std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> counters;
    counters.push_back(MakeRpcCounter(rpc_events));
    builder.experimental().SetInterceptorCreators(std::move(counters));
  }
}

}  // namespace netpool
