#include "server/core/job_spec_validation.h"

#include <cmath>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/job_id.h"
#include "common/value_proto.h"

namespace netpool {
namespace {

absl::Status ValidateArgs(const google::protobuf::RepeatedPtrField<v1::Value>& args,
                          const std::string& where) {
  if (args.size() > kMaxArgsPerJob) {
    return absl::InvalidArgumentError(
        absl::StrCat(where, " has ", args.size(), " arguments; at most ", kMaxArgsPerJob));
  }
  for (int i = 0; i < args.size(); ++i) {
    if (args[i].has_job_ref()) {
      return absl::UnimplementedError(
          absl::StrCat(where, " argument ", i, ": job results as arguments are not supported yet"));
    }
  }
  absl::StatusOr<std::vector<Value>> values = FromProto(args);
  if (!values.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(where, ": ", values.status().message()));
  }
  return absl::OkStatus();
}

}  // namespace

bool IsValidFunctionName(std::string_view name) {
  if (name.empty() || name.size() > kMaxFunctionNameLength || name[0] == '-') return false;
  for (char c : name) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '.' && c != ':' &&
        c != '-') {
      return false;
    }
  }
  return true;
}

absl::Status ValidateJobSpec(const v1::JobSpec& spec) {
  if (!spec.job_id().empty() && !IsValidJobId(spec.job_id())) {
    return absl::InvalidArgumentError(
        "job_id must be 1-64 characters of letters, digits, '_', '.' or '-'");
  }
  if (!IsValidFunctionName(spec.function())) {
    return absl::InvalidArgumentError(absl::StrCat(
        "function name must be 1-", kMaxFunctionNameLength,
        " characters of letters, digits, '_', '.', ':' or '-' (got \"",
        spec.function().substr(0, kMaxFunctionNameLength), "\")"));
  }
  if (absl::Status s = ValidateArgs(spec.args(), "job"); !s.ok()) return s;
  if (spec.chunk_size() > kMaxChunkEntries) {
    return absl::InvalidArgumentError(
        absl::StrCat("chunk has ", spec.chunk_size(), " entries; at most ", kMaxChunkEntries));
  }
  if (spec.chunk_size() > 0 && spec.args_size() > 0) {
    return absl::InvalidArgumentError("a chunk job takes its arguments from chunk, not args");
  }
  for (int i = 0; i < spec.chunk_size(); ++i) {
    if (absl::Status s = ValidateArgs(spec.chunk(i).items(), absl::StrCat("chunk entry ", i));
        !s.ok()) {
      return s;
    }
  }
  if (!std::isfinite(spec.timeout_seconds()) || spec.timeout_seconds() < 0) {
    return absl::InvalidArgumentError("timeout_seconds must be a finite number >= 0");
  }
  if (spec.max_attempts() < 0 || spec.max_attempts() > kMaxAttemptsLimit) {
    return absl::InvalidArgumentError(
        absl::StrCat("max_attempts must be between 0 and ", kMaxAttemptsLimit));
  }
  if (spec.labels_size() > 0) {
    // Accepting them without honouring them would run a job where it must not.
    return absl::UnimplementedError("placement by labels is not supported yet");
  }
  if (spec.idempotency_key().size() > kMaxIdempotencyKeyLength) {
    return absl::InvalidArgumentError(
        absl::StrCat("idempotency_key is longer than ", kMaxIdempotencyKeyLength, " bytes"));
  }
  return absl::OkStatus();
}

}  // namespace netpool
