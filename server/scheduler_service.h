// SchedulerService is the client-facing gRPC service (netpool.v1.Scheduler):
// it authenticates each call (before anything else), validates its request,
// calls SchedulerRuntime for the caller's identity and converts the answer.
// Clients and admins may call it; only admins may list worker nodes.
#ifndef NETPOOL_SERVER_SCHEDULER_SERVICE_H_
#define NETPOOL_SERVER_SCHEDULER_SERVICE_H_

#include "netpool/v1/netpool.grpc.pb.h"
#include "server/auth/authenticator.h"
#include "server/scheduler_runtime.h"

namespace netpool {

class SchedulerService final : public v1::Scheduler::Service {
 public:
  // REQUIRES: both outlive the service.
  SchedulerService(SchedulerRuntime* runtime, const Authenticator* authenticator)
      : runtime_(runtime), authenticator_(authenticator) {}

  grpc::Status Submit(grpc::ServerContext* context, const v1::SubmitRequest* request,
                      v1::SubmitResponse* response) override;
  grpc::Status Watch(grpc::ServerContext* context,
                     grpc::ServerReaderWriter<v1::WatchResponse, v1::WatchRequest>* stream) override;
  grpc::Status Get(grpc::ServerContext* context, const v1::GetRequest* request,
                   v1::GetResponse* response) override;
  grpc::Status Cancel(grpc::ServerContext* context, const v1::CancelRequest* request,
                      v1::CancelResponse* response) override;
  grpc::Status GetStatus(grpc::ServerContext* context, const v1::GetStatusRequest* request,
                         v1::GetStatusResponse* response) override;
  grpc::Status ListJobs(grpc::ServerContext* context, const v1::ListJobsRequest* request,
                        v1::ListJobsResponse* response) override;
  grpc::Status ListWorkers(grpc::ServerContext* context, const v1::ListWorkersRequest* request,
                           v1::ListWorkersResponse* response) override;
  grpc::Status GetStats(grpc::ServerContext* context, const v1::GetStatsRequest* request,
                        v1::GetStatsResponse* response) override;

 private:
  absl::StatusOr<Identity> Authenticate(const grpc::ServerContext& context,
                                        absl::string_view method) const;

  SchedulerRuntime* const runtime_;
  const Authenticator* const authenticator_;
};

}  // namespace netpool

#endif  // NETPOOL_SERVER_SCHEDULER_SERVICE_H_
