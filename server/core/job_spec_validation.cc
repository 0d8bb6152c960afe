#include "server/core/job_spec_validation.h"

#include <cmath>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "common/job_id.h"
#include "common/value_proto.h"

namespace netpool {
namespace {

// `field` names the argument list in errors: "args" or "chunk[3].items".
absl::Status ValidateArgs(const google::protobuf::RepeatedPtrField<v1::Value>& args,
                          const std::string& field) {
  if (args.size() > kMaxArgsPerJob) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, " has ", args.size(), " entries; at most ", kMaxArgsPerJob));
  }
  for (int i = 0; i < args.size(); ++i) {
    if (absl::Status s = ValidateValue(args[i]); !s.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(field, "[", i, "]: ", s.message()));
    }
  }
  return absl::OkStatus();
}

// Whether `seconds` is a usable duration: finite, >= 0, at most `max`.
absl::Status ValidateSeconds(double seconds, double max, absl::string_view field) {
  if (std::isfinite(seconds) && seconds >= 0 && seconds <= max) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(
      field, " must be a finite number of seconds between 0 and ", max, " (got ", seconds, ")"));
}

// What IsValidFunctionName accepts, for error messages.
std::string NameRule() {
  return absl::StrCat("1-", kMaxFunctionNameLength,
                      " characters of letters, digits, '_', '.', ':' or '-'");
}

absl::Status ValidateLabels(const google::protobuf::Map<std::string, std::string>& labels) {
  if (labels.size() > static_cast<size_t>(kMaxLabelsPerJob)) {
    return absl::InvalidArgumentError(
        absl::StrCat("labels has ", labels.size(), " entries; at most ", kMaxLabelsPerJob));
  }
  for (const auto& [key, value] : labels) {
    const std::string quoted_key =
        absl::StrCat("\"", absl::CHexEscape(key.substr(0, kMaxFunctionNameLength)), "\"");
    if (!IsValidFunctionName(key)) {
      return absl::InvalidArgumentError(
          absl::StrCat("labels key must be ", NameRule(), " (got ", quoted_key, ")"));
    }
    if (value.size() > kMaxJobLabelValueLength || !IsValidUtf8(value)) {
      return absl::InvalidArgumentError(absl::StrCat("labels[", quoted_key, "] must be at most ",
                                                     kMaxJobLabelValueLength, " bytes of UTF-8"));
    }
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

bool IsValidIdempotencyKey(std::string_view key) {
  if (key.empty() || key.size() > kMaxIdempotencyKeyLength) return false;
  for (char c : key) {
    if (absl::ascii_iscntrl(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

absl::Status ValidateJobSpec(const v1::JobSpec& spec) {
  if (!spec.job_id().empty() && !IsValidJobId(spec.job_id())) {
    return absl::InvalidArgumentError(
        absl::StrCat("job_id must be 1-", kMaxJobIdLength,
                     " characters of letters, digits, '_', '.' or '-' (got \"",
                     absl::CHexEscape(spec.job_id().substr(0, kMaxJobIdLength)), "\")"));
  }
  if (!IsValidFunctionName(spec.function())) {
    return absl::InvalidArgumentError(
        absl::StrCat("function name must be ", NameRule(), " (got \"",
                     absl::CHexEscape(spec.function().substr(0, kMaxFunctionNameLength)), "\")"));
  }
  if (absl::Status s = ValidateArgs(spec.args(), "args"); !s.ok()) return s;
  if (spec.chunk_size() > kMaxChunkEntries) {
    return absl::InvalidArgumentError(
        absl::StrCat("chunk has ", spec.chunk_size(), " entries; at most ", kMaxChunkEntries));
  }
  if (spec.chunk_size() > 0 && spec.args_size() > 0) {
    return absl::InvalidArgumentError("a chunk job takes its arguments from chunk, not args");
  }
  // The scheduler does not read a packed chunk (the worker process checks
  // it), so all there is to check is that it is the job's only arguments.
  if (!spec.packed_chunk().empty() && (spec.chunk_size() > 0 || spec.args_size() > 0)) {
    return absl::InvalidArgumentError(
        "a packed_chunk job takes its arguments from packed_chunk, not args or chunk");
  }
  for (int i = 0; i < spec.chunk_size(); ++i) {
    if (absl::Status s = ValidateArgs(spec.chunk(i).items(), absl::StrCat("chunk[", i, "].items"));
        !s.ok()) {
      return s;
    }
  }
  if (absl::Status s =
          ValidateSeconds(spec.timeout_seconds(), kMaxTimeoutSeconds, "timeout_seconds");
      !s.ok()) {
    return s;
  }
  if (spec.max_attempts() < 0 || spec.max_attempts() > kMaxAttemptsLimit) {
    return absl::InvalidArgumentError(absl::StrCat("max_attempts must be between 0 and ",
                                                   kMaxAttemptsLimit, " (got ", spec.max_attempts(),
                                                   ")"));
  }
  if (spec.priority() < kMinPriority || spec.priority() > kMaxPriority) {
    return absl::InvalidArgumentError(absl::StrCat("priority must be between ", kMinPriority,
                                                   " and ", kMaxPriority, " (got ", spec.priority(),
                                                   ")"));
  }
  if (absl::Status s = ValidateSeconds(spec.retry_backoff_seconds(), kMaxRetryBackoffSeconds,
                                       "retry_backoff_seconds");
      !s.ok()) {
    return s;
  }
  if (absl::Status s = ValidateLabels(spec.labels()); !s.ok()) return s;
  if (!spec.idempotency_key().empty() && !IsValidIdempotencyKey(spec.idempotency_key())) {
    return absl::InvalidArgumentError(absl::StrCat("idempotency_key must be 1-",
                                                   kMaxIdempotencyKeyLength,
                                                   " bytes of text without control characters"));
  }
  return absl::OkStatus();
}

}  // namespace netpool
