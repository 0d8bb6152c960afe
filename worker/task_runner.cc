#include "worker/task_runner.h"

#include <exception>
#include <functional>
#include <optional>

#include "absl/strings/str_cat.h"
#include "google/protobuf/arena.h"
#include "common/packed_chunk.h"
#include "common/value_proto.h"
#include "common/value_wire.h"
#include "netpool/v1/worker.pb.h"
#include "netpool/worker.h"
#include "worker/function_registry.h"
#include "worker/task_failure.h"

namespace netpool {
namespace {

// A C++ exception must not escape into the worker process loop.
absl::StatusOr<Value> Call(const TaskFunction& fn, const std::vector<Value>& args,
                           TaskContext& context) {
  try {
    return fn(args, context);
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("function threw an exception: ", e.what()));
  } catch (...) {
    return absl::InternalError("function threw an exception");
  }
}

absl::StatusOr<Value> RunOnce(const TaskFunction& fn,
                              const google::protobuf::RepeatedPtrField<v1::Value>& proto_args,
                              TaskContext& context) {
  absl::StatusOr<std::vector<Value>> args = FromProto(proto_args);
  if (!args.ok()) return args.status();
  return Call(fn, *args, context);
}

// A chunk job of `count` calls, the arguments of call i being args_of(i):
// the list of the calls' results, or the first error (a call's arguments
// are converted only when its turn comes, so that error is the first in
// order too).
absl::StatusOr<Value> RunEach(
    const TaskFunction& fn, size_t count,
    const std::function<absl::StatusOr<std::vector<Value>>(size_t)>& args_of,
    TaskContext& context) {
  ValueList results;
  results.reserve(count);
  for (size_t i = 0; i < count; ++i) {
    absl::StatusOr<std::vector<Value>> args = args_of(i);
    if (!args.ok()) return args.status();
    absl::StatusOr<Value> result = Call(fn, *args, context);
    if (!result.ok()) return result.status();
    results.push_back(*std::move(result));
  }
  return Value(std::move(results));
}

absl::StatusOr<Value> RunEach(const TaskFunction& fn,
                              const google::protobuf::RepeatedPtrField<v1::ValueList>& entries,
                              TaskContext& context) {
  return RunEach(
      fn, entries.size(),
      [&](size_t i) { return FromProto(entries[static_cast<int>(i)].items()); }, context);
}

// A packed chunk, read straight into Values where value_wire can.
absl::StatusOr<Value> RunPacked(const TaskFunction& fn, absl::string_view packed,
                                TaskContext& context) {
  if (std::optional<std::vector<ValueList>> calls = DecodeChunk(packed)) {
    return RunEach(
        fn, calls->size(),
        [&](size_t i) -> absl::StatusOr<std::vector<Value>> { return std::move((*calls)[i]); },
        context);
  }
  google::protobuf::Arena arena;
  auto* chunk = google::protobuf::Arena::CreateMessage<v1::PackedChunk>(&arena);
  if (absl::Status parsed = UnpackChunk(packed, chunk); !parsed.ok()) return parsed;
  return RunEach(fn, chunk->entries(), context);
}

absl::StatusOr<TaskFunction> Find(const std::string& name) {
  std::optional<TaskFunction> fn = FindFunction(name);
  if (!fn.has_value()) return absl::NotFoundError(absl::StrCat("unknown function \"", name, "\""));
  return *std::move(fn);
}

absl::StatusOr<Value> Run(const v1::Assignment& assignment) {
  absl::StatusOr<TaskFunction> fn = Find(assignment.function());
  if (!fn.ok()) return fn.status();
  TaskContext context(assignment.job_id(), assignment.attempt(),
                      assignment.timeout_seconds() > 0 ? absl::Seconds(assignment.timeout_seconds())
                                                       : absl::ZeroDuration());
  if (!assignment.packed_chunk().empty()) {
    return RunPacked(*fn, assignment.packed_chunk(), context);
  }
  if (assignment.chunk().empty()) return RunOnce(*fn, assignment.args(), context);
  return RunEach(*fn, assignment.chunk(), context);
}

// Why a result's `part` cannot leave: `problem`, the scheduler's own check's
// (ValidateValue) answer. `earlier` tells the job's own failure, if any.
absl::Status NotSendable(absl::string_view part, const absl::Status& problem,
                         absl::string_view earlier) {
  return absl::InvalidArgumentError(
      absl::StrCat("result not sendable: ", part, ": ", problem.message(), earlier));
}

// A result that the scheduler would refuse must not leave as it is: the
// scheduler would drop the node's whole stream and run the job again, and
// again. It fails this one job instead (as CPython's MaybeEncodingError
// does).
void MakeSendable(v1::JobResult* result) {
  absl::Status problem = ValidateValue(result->value());
  absl::string_view part = "value";
  if (problem.ok()) {
    problem = ValidateValue(result->error().detail());
    part = "error detail";
  }
  if (problem.ok()) return;
  const std::string earlier =
      result->state() == v1::FAILED
          ? absl::StrCat(" (the job failed: ", result->error().message(), ")")
          : "";
  result->clear_value();
  result->set_state(v1::FAILED);
  StatusToJobError(NotSendable(part, problem, earlier), result->mutable_error());
}

}  // namespace

absl::Status RunInitializer(const Initializer& initializer) {
  absl::StatusOr<TaskFunction> fn = Find(initializer.function);
  if (!fn.ok()) return fn.status();
  TaskContext context(/*job_id=*/"", /*attempt=*/0, /*timeout=*/absl::ZeroDuration());
  return Call(*fn, initializer.args, context).status();
}

v1::JobResult RunAssignment(const v1::Assignment& assignment) {
  v1::JobResult result;
  result.set_job_id(assignment.job_id());
  absl::StatusOr<Value> value = Run(assignment);
  if (value.ok() && !assignment.packed_chunk().empty()) {
    // The result of a packed chunk goes back packed, for only the client to
    // parse, and is built on an arena: it is thousands of messages.
    absl::StatusOr<std::string> packed = PackValue(*value);
    if (packed.ok()) {
      result.set_state(v1::SUCCEEDED);
      *result.mutable_packed_value() = *std::move(packed);
      return result;
    }
    value = NotSendable("value", packed.status(), "");
  }
  if (value.ok()) {
    result.set_state(v1::SUCCEEDED);
    ToProto(*value, result.mutable_value());
  } else {
    result.set_state(v1::FAILED);
    StatusToJobError(value.status(), result.mutable_error());
    if (std::optional<Value> detail = TaskFailureDetail(value.status())) {
      ToProto(*detail, result.mutable_error()->mutable_detail());
    }
  }
  MakeSendable(&result);
  return result;
}

}  // namespace netpool
