#include "client/scheduler_client.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "common/grpc_status.h"
#include "grpcpp/support/channel_arguments.h"

namespace netpool {
namespace {

absl::StatusOr<ClientTransport> ResolveTransport(const std::string& address,
                                                 const SchedulerClient::Options& options) {
  if (options.transport.has_value()) return *options.transport;
  return ClientTransport::Create(address, options.security);
}

std::shared_ptr<grpc::Channel> MakeChannel(const std::string& address,
                                           const absl::StatusOr<ClientTransport>& transport) {
  grpc::ChannelArguments args;
  // Results can be large and the client trusts its own scheduler; the
  // scheduler enforces the limits on what it accepts.
  args.SetMaxReceiveMessageSize(-1);
  // Come back quickly after a scheduler restart: gRPC's default first retry
  // waits a full second and later ones up to two minutes.
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 5000);
  // Without a transport every call fails before using the channel, which
  // then only needs to exist.
  return (transport.ok() ? *transport : ClientTransport::ForLocalScheduler(""))
      .NewChannel(address, args);
}

}  // namespace

SchedulerClient::SchedulerClient(std::string address, Options options)
    : address_(std::move(address)),
      options_(options),
      transport_(ResolveTransport(address_, options_)),
      channel_(MakeChannel(address_, transport_)),
      stub_(v1::Scheduler::NewStub(channel_)) {}

absl::Status SchedulerClient::WaitForConnection(absl::Duration timeout, ConnectMode mode) {
  if (!transport_.ok()) return transport_.status();
  const absl::Time deadline = absl::Now() + timeout;
  grpc_connectivity_state state = channel_->GetState(/*try_to_connect=*/true);
  while (state != GRPC_CHANNEL_READY) {
    if (state == GRPC_CHANNEL_TRANSIENT_FAILURE && mode == ConnectMode::kFailFast) {
      return absl::UnavailableError(
          absl::StrCat("cannot connect to the scheduler at ", address_));
    }
    if (!channel_->WaitForStateChange(state, absl::ToChronoTime(deadline))) {
      return absl::UnavailableError(absl::StrCat("no answer from the scheduler at ", address_,
                                                 " within ", absl::FormatDuration(timeout)));
    }
    state = channel_->GetState(/*try_to_connect=*/true);
  }
  return absl::OkStatus();
}

absl::Status SchedulerClient::RpcError(const grpc::Status& status, const char* method) const {
  switch (status.error_code()) {
    case grpc::StatusCode::UNAVAILABLE:
      return absl::UnavailableError(absl::StrCat("scheduler at ", address_,
                                                 " is unavailable: ", status.error_message()));
    case grpc::StatusCode::UNAUTHENTICATED:
      return absl::UnauthenticatedError(absl::StrCat("scheduler at ", address_, " refused ",
                                                     method, ": ", status.error_message()));
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      // Our deadlines leave room for the scheduler's own waiting, so running
      // out of time means the scheduler is not answering.
      return absl::UnavailableError(
          absl::StrCat("scheduler at ", address_, " did not answer ", method, " in time"));
    default:
      return FromGrpcStatus(status);
  }
}

template <typename Request, typename Response>
absl::StatusOr<Response> SchedulerClient::Call(UnaryMethod<Request, Response> method,
                                               const char* name, const Request& request,
                                               absl::Duration deadline) {
  if (!transport_.ok()) return transport_.status();
  grpc::ClientContext context;
  transport_->Authorize(context);
  if (deadline != absl::InfiniteDuration()) {
    context.set_deadline(absl::ToChronoTime(absl::Now() + deadline));
  }
  context.set_wait_for_ready(options_.wait_for_ready);
  Response response;
  grpc::Status status = (stub_.get()->*method)(&context, request, &response);
  if (!status.ok()) return RpcError(status, name);
  return response;
}

absl::StatusOr<v1::SubmitResponse> SchedulerClient::Submit(const v1::SubmitRequest& request) {
  return Call(&v1::Scheduler::Stub::Submit, "Submit", request, options_.rpc_timeout);
}

absl::StatusOr<std::string> SchedulerClient::SubmitOne(v1::JobSpec spec) {
  v1::SubmitRequest request;
  *request.add_jobs() = std::move(spec);
  absl::StatusOr<v1::SubmitResponse> response = Submit(request);
  if (!response.ok()) return response.status();
  if (response->job_ids_size() != 1) {
    return absl::InternalError("the scheduler answered Submit without a job id");
  }
  return response->job_ids(0);
}

absl::StatusOr<v1::GetResponse> SchedulerClient::Get(const v1::GetRequest& request) {
  const absl::Duration deadline =
      request.timeout_seconds() < 0
          ? absl::InfiniteDuration()
          : absl::Seconds(request.timeout_seconds()) + options_.rpc_timeout;
  return Call(&v1::Scheduler::Stub::Get, "Get", request, deadline);
}

absl::StatusOr<v1::CancelResponse> SchedulerClient::Cancel(const v1::CancelRequest& request) {
  return Call(&v1::Scheduler::Stub::Cancel, "Cancel", request, options_.rpc_timeout);
}

absl::StatusOr<v1::GetStatusResponse> SchedulerClient::GetStatus(
    const v1::GetStatusRequest& request) {
  return Call(&v1::Scheduler::Stub::GetStatus, "GetStatus", request, options_.rpc_timeout);
}

absl::StatusOr<v1::ListJobsResponse> SchedulerClient::ListJobs(
    const v1::ListJobsRequest& request) {
  return Call(&v1::Scheduler::Stub::ListJobs, "ListJobs", request, options_.rpc_timeout);
}

absl::StatusOr<v1::ListWorkersResponse> SchedulerClient::ListWorkers() {
  return Call(&v1::Scheduler::Stub::ListWorkers, "ListWorkers", v1::ListWorkersRequest(),
              options_.rpc_timeout);
}

absl::StatusOr<v1::GetStatsResponse> SchedulerClient::GetStats(
    const v1::GetStatsRequest& request) {
  return Call(&v1::Scheduler::Stub::GetStats, "GetStats", request,
              options_.rpc_timeout);
}

std::unique_ptr<SchedulerClient::WatchStream> SchedulerClient::OpenWatch(
    grpc::ClientContext* context) {
  if (transport_.ok()) transport_->Authorize(*context);
  context->set_wait_for_ready(options_.wait_for_ready);
  return stub_->Watch(context);
}

}  // namespace netpool
