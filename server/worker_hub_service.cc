#include "server/worker_hub_service.h"

#include <thread>

#include "absl/strings/str_cat.h"
#include "common/grpc_status.h"
#include "common/job_id.h"
#include "server/core/job_spec_validation.h"
#include "server/stream_thread.h"

namespace netpool {
namespace {

constexpr size_t kMaxNameLength = 256;

absl::Status CheckWorkerMessage(const v1::WorkerMessage& message) {
  if (message.has_hello()) return absl::InvalidArgumentError("hello sent twice");
  if (message.credits() < 0 || message.credits() > kMaxSlotsPerWorker) {
    return absl::InvalidArgumentError(absl::StrCat("credits out of range: ", message.credits()));
  }
  if (message.results_size() > kMaxResultsPerMessage) {
    return absl::InvalidArgumentError("too many results in one message");
  }
  for (const v1::JobResult& result : message.results()) {
    if (!IsValidJobId(result.job_id())) return absl::InvalidArgumentError("malformed job id");
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<WorkerInfo> WorkerInfoFromHello(const v1::WorkerHello& hello) {
  if (hello.name().empty() || hello.name().size() > kMaxNameLength) {
    return absl::InvalidArgumentError(
        absl::StrCat("worker name must be 1-", kMaxNameLength, " bytes"));
  }
  if (hello.slots() < 1 || hello.slots() > kMaxSlotsPerWorker) {
    return absl::InvalidArgumentError(
        absl::StrCat("slots must be between 1 and ", kMaxSlotsPerWorker));
  }
  if (hello.functions_size() > kMaxFunctionsPerWorker) {
    return absl::InvalidArgumentError("too many functions");
  }
  WorkerInfo info;
  info.name = hello.name();
  info.slots = hello.slots();
  for (const std::string& fn : hello.functions()) {
    if (!IsValidFunctionName(fn)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "invalid function name \"", fn.substr(0, kMaxFunctionNameLength), "\""));
    }
    info.functions.push_back(fn);
  }
  info.labels.insert(hello.labels().begin(), hello.labels().end());
  return info;
}

grpc::Status WorkerHubService::Connect(
    grpc::ServerContext* context,
    grpc::ServerReaderWriter<v1::SchedulerMessage, v1::WorkerMessage>* stream) {
  v1::WorkerMessage message;
  if (!stream->Read(&message)) return grpc::Status::OK;
  if (!message.has_hello()) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                        "the first message on a worker stream must carry hello");
  }
  absl::StatusOr<WorkerInfo> info = WorkerInfoFromHello(message.hello());
  if (!info.ok()) return ToGrpcStatus(info.status());

  auto outbox = std::make_shared<WorkerOutbox>();
  absl::StatusOr<std::thread> writer = StartThread([&] {
    std::vector<v1::SchedulerMessage> batch;
    while (outbox->PopAll(&batch)) {
      v1::SchedulerMessage merged;
      for (const v1::SchedulerMessage& part : batch) merged.MergeFrom(part);
      batch.clear();
      if (!stream->Write(merged)) break;
    }
  });
  if (!writer.ok()) return ToGrpcStatus(writer.status());
  const WorkerId worker = runtime_->ConnectWorker(*std::move(info), outbox);
  grpc::Status status = grpc::Status::OK;
  while (stream->Read(&message)) {
    if (absl::Status s = CheckWorkerMessage(message); !s.ok()) {
      status = ToGrpcStatus(s);
      break;
    }
    runtime_->HandleWorkerMessage(worker, message);
  }
  runtime_->DisconnectWorker(worker);  // also closes the outbox
  outbox->Close();
  writer->join();
  return status;
}

}  // namespace netpool
