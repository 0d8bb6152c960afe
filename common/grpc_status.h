// absl::Status <-> grpc::Status, code and message preserved.
#ifndef NETPOOL_COMMON_GRPC_STATUS_H_
#define NETPOOL_COMMON_GRPC_STATUS_H_

#include "absl/status/status.h"
#include "grpcpp/support/status.h"

namespace netpool {

grpc::Status ToGrpcStatus(const absl::Status& status);
absl::Status FromGrpcStatus(const grpc::Status& status);

}  // namespace netpool

#endif  // NETPOOL_COMMON_GRPC_STATUS_H_
