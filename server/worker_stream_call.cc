#include "server/worker_stream_call.h"

#include <cstdint>
#include <utility>

#include "netpool/v1/worker.pb.h"
#include "server/request_validation.h"
#include "spdlog/spdlog.h"

namespace netpool {
namespace {

// A node is never cut off for reading slowly unless it falls this far
// behind: its credits bound what queues for it (slots + prefetch
// assignments, each with up to 64 MiB of arguments, plus small cancels and
// acknowledgements), so only a node that grants itself credits it does not
// read can get here, and it should not hold a copy of the whole queue.
constexpr size_t kMaxQueuedBytesPerNode = size_t{4} << 30;

// REQUIRES: ValidateWorkerHello(hello) is OK.
WorkerInfo WorkerInfoFromHello(const v1::WorkerHello& hello, std::string name) {
  WorkerInfo info;
  info.name = std::move(name);
  info.instance = hello.instance_id();
  info.protocol_version = hello.protocol_version();
  info.slots = hello.slots();
  info.prefetch = hello.prefetch();
  info.functions.assign(hello.functions().begin(), hello.functions().end());
  info.labels.insert(hello.labels().begin(), hello.labels().end());
  info.held_job_ids.assign(hello.held_job_ids().begin(), hello.held_job_ids().end());
  return info;
}

}  // namespace

grpc::ServerBidiReactor<v1::WorkerMessage, v1::SchedulerMessage>* WorkerStreamCall::Start(
    SchedulerRuntime* runtime, Identity caller, grpc::CallbackServerContext* context) {
  auto* call = new WorkerStreamCall(runtime, std::move(caller), context);
  call->StartReading();
  return call;
}

WorkerStreamCall::WorkerStreamCall(SchedulerRuntime* runtime, Identity caller,
                                   grpc::CallbackServerContext* context)
    : OutboxBidiReactor(kMaxQueuedBytesPerNode,
                        absl::StrCat("worker node of ", caller.name, " at ", context->peer()),
                        "the node stopped reading its stream; its jobs go to other nodes"),
      runtime_(runtime),
      caller_(std::move(caller)),
      context_(context),
      connection_(std::make_shared<Connection>(this)) {}

absl::Status WorkerStreamCall::OnRequest(const v1::WorkerMessage& message) {
  if (worker_ == kNoWorker) return Connect(message);
  if (absl::Status s = ValidateLaterWorkerMessage(message); !s.ok()) return s;
  // FailUndecodableResults rewrites the results in place; the message is
  // the call's read buffer, read into afresh next time.
  v1::WorkerMessage& results = const_cast<v1::WorkerMessage&>(message);
  if (int failed = FailUndecodableResults(results); failed > 0) {
    spdlog::warn("worker node w-{} sent {} results clients could not decode; those jobs fail",
                 worker_, failed);
  }
  runtime_->HandleWorkerMessage(worker_, message);
  return absl::OkStatus();
}

absl::Status WorkerStreamCall::Connect(const v1::WorkerMessage& message) {
  if (absl::Status s = ValidateFirstWorkerMessage(message); !s.ok()) return s;
  absl::StatusOr<std::string> name =
      BindNodeName(caller_, message.hello().name(), !message.hello().default_name());
  if (!name.ok()) {
    spdlog::warn("audit: node {} refused for {}: {}", message.hello().name(), caller_.name,
                 std::string(name.status().message()));
    return name.status();
  }
  absl::StatusOr<WorkerId> worker = runtime_->ConnectWorker(
      WorkerInfoFromHello(message.hello(), *std::move(name)), connection_, caller_);
  if (!worker.ok()) return worker.status();
  worker_ = *worker;
  return absl::OkStatus();
}

v1::SchedulerMessage WorkerStreamCall::Pack(std::vector<v1::SchedulerMessage>& batch) {
  v1::SchedulerMessage merged;
  for (v1::SchedulerMessage& part : batch) {
    // Moved, not copied: assignments carry the jobs' arguments.
    for (v1::Assignment& assignment : *part.mutable_assignments()) {
      merged.add_assignments()->Swap(&assignment);
    }
    part.clear_assignments();
    merged.MergeFrom(part);
  }
  return merged;
}

void WorkerStreamCall::OnEnd() {
  if (worker_ != kNoWorker) runtime_->DisconnectWorker(worker_);
}

}  // namespace netpool
