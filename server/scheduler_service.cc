#include "server/scheduler_service.h"

#include <algorithm>
#include <thread>

#include "common/grpc_status.h"
#include "server/request_validation.h"
#include "server/stream_thread.h"

namespace netpool {
namespace {

constexpr int kDefaultListLimit = 1000;

}  // namespace

absl::StatusOr<Identity> SchedulerService::Authenticate(const grpc::ServerContext& context,
                                                        absl::string_view method) const {
  return authenticator_->Authenticate(context, method, {Role::kClient, Role::kAdmin});
}

// The core checks every job (ValidateJobSpec): all ways into the scheduler
// pass through it.
grpc::Status SchedulerService::Submit(grpc::ServerContext* context,
                                      const v1::SubmitRequest* request,
                                      v1::SubmitResponse* response) {
  absl::StatusOr<Identity> caller = Authenticate(*context, "Submit");
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  std::vector<v1::JobSpec> specs(request->jobs().begin(), request->jobs().end());
  absl::StatusOr<std::vector<std::string>> ids = runtime_->Submit(std::move(specs), *caller);
  if (!ids.ok()) return ToGrpcStatus(ids.status());
  for (std::string& id : *ids) response->add_job_ids(std::move(id));
  return grpc::Status::OK;
}

grpc::Status SchedulerService::Watch(
    grpc::ServerContext* context,
    grpc::ServerReaderWriter<v1::WatchResponse, v1::WatchRequest>* stream) {
  absl::StatusOr<Identity> caller = Authenticate(*context, "Watch");
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  auto watcher = std::make_shared<ResultSubscription>();
  // One writer per stream; results that finish together go out together.
  absl::StatusOr<std::thread> writer = StartThread([&] {
    std::vector<v1::JobResult> batch;
    while (watcher->outbox.PopAll(&batch)) {
      v1::WatchResponse response;
      for (v1::JobResult& result : batch) *response.add_results() = std::move(result);
      batch.clear();
      if (!stream->Write(response)) break;
    }
  });
  if (!writer.ok()) return ToGrpcStatus(writer.status());
  grpc::Status status = grpc::Status::OK;
  v1::WatchRequest request;
  while (stream->Read(&request)) {
    if (absl::Status s = ValidateWatchRequest(request); !s.ok()) {
      status = ToGrpcStatus(s);
      break;
    }
    if (request.job_ids().empty()) continue;
    runtime_->Watch(watcher, {request.job_ids().begin(), request.job_ids().end()}, *caller);
  }
  runtime_->Unwatch(watcher);
  watcher->outbox.Close();
  writer->join();
  return status;
}

grpc::Status SchedulerService::Get(grpc::ServerContext* context, const v1::GetRequest* request,
                                   v1::GetResponse* response) {
  absl::StatusOr<Identity> caller = Authenticate(*context, "Get");
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  if (absl::Status s = ValidateGetRequest(*request); !s.ok()) return ToGrpcStatus(s);
  absl::Time deadline = absl::InfiniteFuture();
  if (request->timeout_seconds() >= 0) {
    deadline = absl::Now() + absl::Seconds(std::min(request->timeout_seconds(), 1e9));
  }
  if (context->deadline() != std::chrono::system_clock::time_point::max()) {
    deadline = std::min(deadline, absl::FromChrono(context->deadline()));
  }
  absl::StatusOr<std::optional<v1::JobResult>> result = runtime_->WaitForResult(
      request->job_id(), *caller, deadline, [context] { return context->IsCancelled(); });
  if (!result.ok()) return ToGrpcStatus(result.status());
  response->set_ready(result->has_value());
  if (result->has_value()) *response->mutable_result() = std::move(**result);
  return grpc::Status::OK;
}

grpc::Status SchedulerService::Cancel(grpc::ServerContext* context,
                                      const v1::CancelRequest* request,
                                      v1::CancelResponse* response) {
  absl::StatusOr<Identity> caller = Authenticate(*context, "Cancel");
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  if (absl::Status s = ValidateCancelRequest(*request); !s.ok()) return ToGrpcStatus(s);
  absl::StatusOr<std::vector<v1::JobStatus>> statuses = runtime_->Cancel(
      {request->job_ids().begin(), request->job_ids().end()}, *caller);
  if (!statuses.ok()) return ToGrpcStatus(statuses.status());
  for (v1::JobStatus& status : *statuses) *response->add_jobs() = std::move(status);
  return grpc::Status::OK;
}

grpc::Status SchedulerService::GetStatus(grpc::ServerContext* context,
                                         const v1::GetStatusRequest* request,
                                         v1::GetStatusResponse* response) {
  absl::StatusOr<Identity> caller = Authenticate(*context, "GetStatus");
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  if (absl::Status s = ValidateGetStatusRequest(*request); !s.ok()) return ToGrpcStatus(s);
  for (const std::string& id : request->job_ids()) {
    absl::StatusOr<v1::JobStatus> status = runtime_->Status(id, *caller);
    if (!status.ok()) return ToGrpcStatus(status.status());
    *response->add_jobs() = std::move(*status);
  }
  return grpc::Status::OK;
}

grpc::Status SchedulerService::ListJobs(grpc::ServerContext* context,
                                        const v1::ListJobsRequest* request,
                                        v1::ListJobsResponse* response) {
  absl::StatusOr<Identity> caller = Authenticate(*context, "ListJobs");
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  if (absl::Status s = ValidateListJobsRequest(*request); !s.ok()) return ToGrpcStatus(s);
  const size_t limit = request->limit() == 0 ? kDefaultListLimit : request->limit();
  for (v1::JobStatus& job : runtime_->ListJobs(request->state(), limit, *caller)) {
    *response->add_jobs() = std::move(job);
  }
  return grpc::Status::OK;
}

grpc::Status SchedulerService::ListWorkers(grpc::ServerContext* context,
                                           const v1::ListWorkersRequest* request,
                                           v1::ListWorkersResponse* response) {
  // Node names, labels and load describe the whole cluster: admins only.
  absl::StatusOr<Identity> caller =
      authenticator_->Authenticate(*context, "ListWorkers", {Role::kAdmin});
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  for (v1::WorkerStatus& worker : runtime_->ListWorkers()) {
    *response->add_workers() = std::move(worker);
  }
  return grpc::Status::OK;
}

grpc::Status SchedulerService::GetStats(grpc::ServerContext* context,
                                        const v1::GetStatsRequest* request,
                                        v1::GetStatsResponse* response) {
  // Clients too: Pool::Map sizes its chunks by the slot count. The counts
  // name no job and carry no data.
  absl::StatusOr<Identity> caller = Authenticate(*context, "GetStats");
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  *response = runtime_->Stats();
  return grpc::Status::OK;
}

}  // namespace netpool
