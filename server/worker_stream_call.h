// WorkerStreamCall is one worker node's WorkerHub.Connect stream on gRPC's
// callback API, holding no thread while it waits: it checks the node's
// hello, binds the node's name to its credential and registers the node
// with SchedulerRuntime, forwards its credits, results and heartbeats, and
// writes the scheduler's assignments, cancels and acknowledgements back in
// batches. However the stream ends, the node is disconnected once.
#ifndef NETPOOL_SERVER_WORKER_STREAM_CALL_H_
#define NETPOOL_SERVER_WORKER_STREAM_CALL_H_

#include <memory>
#include <string>
#include <vector>

#include "grpcpp/server_context.h"
#include "netpool/v1/netpool.pb.h"
#include "netpool/v1/worker.pb.h"
#include "server/auth/identity.h"
#include "server/core/job.h"
#include "server/outbox_bidi_reactor.h"
#include "server/scheduler_runtime.h"

namespace netpool {

class WorkerStreamCall final
    : public OutboxBidiReactor<v1::WorkerMessage, v1::SchedulerMessage, v1::SchedulerMessage> {
 public:
  // Starts serving the stream of the node authenticated as `caller`; the
  // call deletes itself when it is done.
  // REQUIRES: `runtime` outlives the call; `context` is gRPC's for the call.
  static grpc::ServerBidiReactor<v1::WorkerMessage, v1::SchedulerMessage>* Start(
      SchedulerRuntime* runtime, Identity caller, grpc::CallbackServerContext* context);

 private:
  // The runtime's handle on the stream. The runtime uses it only until
  // DisconnectWorker returns, which OnEnd waits for, so the call outlives
  // every use.
  class Connection final : public WorkerConnection {
   public:
    explicit Connection(WorkerStreamCall* call) : call_(call) {}
    void Send(v1::SchedulerMessage message) override { call_->Send(std::move(message)); }
    // As the sync server's TryCancel did: what is queued is dropped, not
    // written first (assignments queued for a lost node were requeued).
    void End() override { call_->context_->TryCancel(); }

   private:
    WorkerStreamCall* const call_;
  };

  WorkerStreamCall(SchedulerRuntime* runtime, Identity caller,
                   grpc::CallbackServerContext* context);

  absl::Status OnRequest(const v1::WorkerMessage& message) override;
  // The first message: the node's hello.
  absl::Status Connect(const v1::WorkerMessage& message);
  v1::SchedulerMessage Pack(std::vector<v1::SchedulerMessage>& batch) override;
  void OnEnd() override;

  SchedulerRuntime* const runtime_;
  const Identity caller_;
  grpc::CallbackServerContext* const context_;
  const std::shared_ptr<Connection> connection_;
  // Set once the runtime has registered the node. Only the reactions touch
  // it, and gRPC runs them one at a time (reads one by one, OnDone last).
  WorkerId worker_ = kNoWorker;
};

}  // namespace netpool

#endif  // NETPOOL_SERVER_WORKER_STREAM_CALL_H_
