// A task failure that carries a structured detail value besides its code and
// message, e.g. exec's {exit_code, stdout, stderr}. TaskFunction returns only
// StatusOr<Value>, so the detail rides along as an absl::Status payload and
// the task runner moves it into JobError.detail.
//
//   return TaskFailure(absl::StatusCode::kUnknown, "command exited with code 3",
//                      ValueMap{{"exit_code", 3}, ...});
#ifndef NETPOOL_WORKER_TASK_FAILURE_H_
#define NETPOOL_WORKER_TASK_FAILURE_H_

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "netpool/value.h"

namespace netpool {

// REQUIRES: code != kOk.
absl::Status TaskFailure(absl::StatusCode code, std::string message, const Value& detail);

// The detail attached by TaskFailure, if any.
std::optional<Value> TaskFailureDetail(const absl::Status& status);

}  // namespace netpool

#endif  // NETPOOL_WORKER_TASK_FAILURE_H_
