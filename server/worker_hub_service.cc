#include "server/worker_hub_service.h"

#include "common/grpc_status.h"
#include "netpool/v1/worker.pb.h"
#include "server/outbox_bidi_reactor.h"
#include "server/worker_stream_call.h"

namespace netpool {

grpc::ServerBidiReactor<v1::WorkerMessage, v1::SchedulerMessage>* WorkerHubService::Connect(
    grpc::CallbackServerContext* context) {
  // Before reading anything: an unauthenticated peer gets no stream.
  absl::StatusOr<Identity> caller = authenticator_->AuthenticateNode(*context);
  if (!caller.ok()) {
    return RefusedStream<v1::WorkerMessage, v1::SchedulerMessage>(ToGrpcStatus(caller.status()));
  }
  return WorkerStreamCall::Start(runtime_, *std::move(caller), context);
}

}  // namespace netpool
