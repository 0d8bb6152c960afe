#include "server/rpc_counting.h"

#include "grpcpp/support/interceptor.h"

namespace netpool {
namespace {

using grpc::experimental::InterceptionHookPoints;

class RpcCountingInterceptor final : public grpc::experimental::Interceptor {
 public:
  RpcCountingInterceptor(RpcEvents* events, const char* method)
      : events_(events), method_(method) {}

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_STATUS)) {
      events_->OnRpcDone(method_, methods->GetSendStatus().error_code());
    }
    methods->Proceed();
  }

 private:
  RpcEvents* const events_;
  const char* const method_;  // gRPC's, valid for the call
};

class RpcCounterFactory final : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  explicit RpcCounterFactory(RpcEvents* events) : events_(events) {}

  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override {
    return new RpcCountingInterceptor(events_, info->method());
  }

 private:
  RpcEvents* const events_;
};

}  // namespace

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface> MakeRpcCounter(
    RpcEvents* events) {
  return std::make_unique<RpcCounterFactory>(events);
}

}  // namespace netpool
