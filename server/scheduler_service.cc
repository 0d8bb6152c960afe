#include "server/scheduler_service.h"

#include <algorithm>

#include "common/grpc_status.h"
#include "server/get_call.h"
#include "server/outbox_bidi_reactor.h"
#include "server/request_validation.h"
#include "server/watch_call.h"

namespace netpool {
namespace {

// GetStats answers with at most this many queues: a client may make a
// queue per label set, and the answer must stay small.
constexpr int kMaxQueuesInStats = 100;

// `depths`, longest first, into `response`.
void AddQueues(std::vector<QueueDepth> depths, v1::GetStatsResponse* response) {
  depths.erase(std::remove_if(depths.begin(), depths.end(),
                              [](const QueueDepth& queue) { return queue.jobs <= 0; }),
               depths.end());
  const size_t kept = std::min<size_t>(depths.size(), kMaxQueuesInStats);
  std::partial_sort(depths.begin(), depths.begin() + kept, depths.end(),
                    [](const QueueDepth& a, const QueueDepth& b) { return a.jobs > b.jobs; });
  for (size_t i = 0; i < kept; ++i) {
    v1::QueueStatus* queue = response->add_queues();
    queue->set_function(depths[i].function);
    queue->mutable_labels()->insert(depths[i].labels.begin(), depths[i].labels.end());
    queue->set_jobs(depths[i].jobs);
  }
  response->set_queues_left_out(static_cast<int>(depths.size() - kept));
}

}  // namespace

SchedulerService::SchedulerService(SchedulerRuntime* runtime, const Authenticator* authenticator,
                                   ClientLimits limits)
    : runtime_(runtime),
      authenticator_(authenticator),
      max_client_buffer_(limits.max_client_buffer),
      streams_(limits.max_streams_per_client, "open Watch streams", "--max-streams-per-client"),
      waiting_(limits.max_waiting_per_client, "Gets waiting for a result",
               "--max-waiting-per-client") {}

absl::StatusOr<Identity> SchedulerService::Authenticate(const grpc::ServerContextBase& context,
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

grpc::ServerBidiReactor<v1::WatchRequest, v1::WatchResponse>* SchedulerService::Watch(
    grpc::CallbackServerContext* context) {
  auto refuse = [](const absl::Status& status) {
    return RefusedStream<v1::WatchRequest, v1::WatchResponse>(ToGrpcStatus(status));
  };
  absl::StatusOr<Identity> caller = Authenticate(*context, "Watch");
  if (!caller.ok()) return refuse(caller.status());
  absl::StatusOr<PerClientLimit::Lease> stream = streams_.Acquire(caller->name);
  if (!stream.ok()) return refuse(stream.status());
  return WatchCall::Start(runtime_, *std::move(caller), *std::move(stream), max_client_buffer_,
                          context->peer());
}

grpc::ServerUnaryReactor* SchedulerService::Get(grpc::CallbackServerContext* context,
                                                const v1::GetRequest* request,
                                                v1::GetResponse* response) {
  auto answer_now = [context](const absl::Status& status) {
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    reactor->Finish(ToGrpcStatus(status));
    return reactor;
  };
  absl::StatusOr<Identity> caller = Authenticate(*context, "Get");
  if (!caller.ok()) return answer_now(caller.status());
  if (absl::Status s = ValidateGetRequest(*request); !s.ok()) return answer_now(s);
  // A result at hand, or a Get that does not wait, takes no waiting room.
  absl::StatusOr<std::optional<v1::JobResult>> now =
      runtime_->WaitForResult(request->job_id(), *caller, nullptr);
  if (!now.ok()) return answer_now(now.status());
  if (now->has_value() || request->timeout_seconds() == 0) {
    response->set_ready(now->has_value());
    if (now->has_value()) *response->mutable_result() = std::move(**now);
    return answer_now(absl::OkStatus());
  }
  absl::StatusOr<PerClientLimit::Lease> waiting = waiting_.Acquire(caller->name);
  if (!waiting.ok()) return answer_now(waiting.status());
  absl::Time deadline = absl::InfiniteFuture();
  if (request->timeout_seconds() > 0) {
    deadline = absl::Now() + absl::Seconds(std::min(request->timeout_seconds(), 1e9));
  }
  // The client's own deadline cancels the call, which ends the wait.
  return GetCall::Start(runtime_, *caller, request->job_id(), deadline, *std::move(waiting),
                        response);
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
  if (request->with_queues()) AddQueues(runtime_->QueueDepths(), response);
  return grpc::Status::OK;
}

}  // namespace netpool
