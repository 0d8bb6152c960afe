#include "server/worker_hub_service.h"

#include <thread>

#include "common/grpc_status.h"
#include "server/request_validation.h"
#include "server/stream_thread.h"
#include "spdlog/spdlog.h"

namespace netpool {
namespace {

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

grpc::Status WorkerHubService::Connect(
    grpc::ServerContext* context,
    grpc::ServerReaderWriter<v1::SchedulerMessage, v1::WorkerMessage>* stream) {
  // Before reading anything: an unauthenticated peer gets no stream.
  absl::StatusOr<Identity> caller = authenticator_->AuthenticateNode(*context);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  v1::WorkerMessage message;
  if (!stream->Read(&message)) return grpc::Status::OK;
  if (absl::Status s = ValidateFirstWorkerMessage(message); !s.ok()) return ToGrpcStatus(s);
  absl::StatusOr<std::string> name =
      BindNodeName(*caller, message.hello().name(), !message.hello().default_name());
  if (!name.ok()) {
    spdlog::warn("audit: node {} refused for {}: {}", message.hello().name(), caller->name,
                 std::string(name.status().message()));
    return ToGrpcStatus(name.status());
  }

  auto outbox = std::make_shared<WorkerOutbox>();
  absl::StatusOr<std::thread> writer = StartThread([&] {
    std::vector<v1::SchedulerMessage> batch;
    while (outbox->PopAll(&batch)) {
      v1::SchedulerMessage merged;
      for (v1::SchedulerMessage& part : batch) {
        // Moved, not copied: assignments carry the jobs' arguments.
        for (v1::Assignment& assignment : *part.mutable_assignments()) {
          merged.add_assignments()->Swap(&assignment);
        }
        part.clear_assignments();
        merged.MergeFrom(part);
      }
      batch.clear();
      if (!stream->Write(merged)) break;
    }
  });
  if (!writer.ok()) return ToGrpcStatus(writer.status());
  absl::StatusOr<WorkerId> connected =
      runtime_->ConnectWorker(WorkerInfoFromHello(message.hello(), *std::move(name)), outbox,
                              [context] { context->TryCancel(); }, *caller);
  if (!connected.ok()) {
    outbox->Close();
    writer->join();
    return ToGrpcStatus(connected.status());
  }
  const WorkerId worker = *connected;
  grpc::Status status = grpc::Status::OK;
  while (stream->Read(&message)) {
    if (absl::Status s = ValidateLaterWorkerMessage(message); !s.ok()) {
      status = ToGrpcStatus(s);
      break;
    }
    if (int failed = FailUndecodableResults(message); failed > 0) {
      spdlog::warn("worker node w-{} sent {} results clients could not decode; those jobs fail",
                   worker, failed);
    }
    runtime_->HandleWorkerMessage(worker, message);
  }
  runtime_->DisconnectWorker(worker);  // also closes the outbox
  outbox->Close();
  writer->join();
  return status;
}

}  // namespace netpool
