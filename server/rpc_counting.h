// Counting of netpoold's RPCs by method and status code, for /metrics: a
// gRPC server interceptor that tells RpcEvents of every call as it ends.
#ifndef NETPOOL_SERVER_RPC_COUNTING_H_
#define NETPOOL_SERVER_RPC_COUNTING_H_

#include <memory>

#include "absl/strings/string_view.h"
#include "grpcpp/support/server_interceptor.h"
#include "grpcpp/support/status.h"

namespace netpool {

class RpcEvents {
 public:
  virtual ~RpcEvents() = default;
  // A call of `method` ("/netpool.v1.Scheduler/Submit") sent its status;
  // a call the client gave up on first is not counted. Called on gRPC's
  // threads: an implementation only counts, and never blocks.
  virtual void OnRpcDone(absl::string_view method, grpc::StatusCode code) = 0;
};

// REQUIRES: `events` outlives every server built with the factory.
std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface> MakeRpcCounter(
    RpcEvents* events);

}  // namespace netpool

#endif  // NETPOOL_SERVER_RPC_COUNTING_H_
