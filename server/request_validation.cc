#include "server/request_validation.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "common/job_id.h"
#include "common/value_proto.h"
#include "netpool/v1/worker.pb.h"
#include "server/core/job_spec_validation.h"

namespace netpool {
namespace {

using Ids = google::protobuf::RepeatedPtrField<std::string>;

// Text from a request quoted in an error: cut short and escaped, since it may
// be megabytes long or hold control characters.
std::string Quote(absl::string_view text) {
  constexpr size_t kMaxQuoted = 64;
  return absl::StrCat("\"", absl::CHexEscape(text.substr(0, kMaxQuoted)),
                      text.size() > kMaxQuoted ? "...\"" : "\"");
}

absl::Status FieldError(absl::string_view field, absl::string_view problem) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", problem));
}

absl::Status ValidateJobId(const std::string& id, absl::string_view field) {
  if (IsValidJobId(id)) return absl::OkStatus();
  return FieldError(field, absl::StrCat("malformed job id ", Quote(id), " (1-", kMaxJobIdLength,
                                        " characters: letters, digits, '_', '.' or '-')"));
}

// `min_count` is 0 or 1: whether the list may be empty.
absl::Status ValidateJobIds(const Ids& ids, absl::string_view field, int min_count) {
  if (ids.size() < min_count) return FieldError(field, "no job ids given");
  if (ids.size() > kMaxIdsPerRequest) {
    return FieldError(field, absl::StrCat(ids.size(), " job ids; at most ", kMaxIdsPerRequest));
  }
  for (int i = 0; i < ids.size(); ++i) {
    if (absl::Status s = ValidateJobId(ids[i], absl::StrCat(field, "[", i, "]")); !s.ok()) {
      return s;
    }
  }
  return absl::OkStatus();
}

bool HasControlCharacter(absl::string_view text) {
  return std::any_of(text.begin(), text.end(),
                     [](char c) { return absl::ascii_iscntrl(static_cast<unsigned char>(c)); });
}

// Names and labels end up in logs, tables and the dashboard: readable text of
// bounded length. `min_length` is 0 or 1.
absl::Status ValidateText(absl::string_view text, absl::string_view field, size_t min_length,
                          size_t max_length) {
  if (text.size() < min_length || text.size() > max_length) {
    return FieldError(field, absl::StrCat("must be ", min_length, "-", max_length, " bytes (got ",
                                          text.size(), ")"));
  }
  if (HasControlCharacter(text)) {
    return FieldError(field, absl::StrCat("holds a control character: ", Quote(text)));
  }
  return absl::OkStatus();
}

absl::Status ValidateLabels(const google::protobuf::Map<std::string, std::string>& labels) {
  if (labels.size() > static_cast<size_t>(kMaxLabelsPerWorker)) {
    return FieldError("hello.labels",
                      absl::StrCat(labels.size(), " labels; at most ", kMaxLabelsPerWorker));
  }
  for (const auto& [key, value] : labels) {
    if (absl::Status s = ValidateText(key, "hello.labels key", 1, kMaxLabelKeyLength); !s.ok()) {
      return s;
    }
    if (key.find('=') != std::string::npos) {
      return FieldError("hello.labels key", absl::StrCat(Quote(key), " holds '='"));
    }
    const std::string field = absl::StrCat("hello.labels[", Quote(key), "]");
    if (absl::Status s = ValidateText(value, field, 0, kMaxLabelValueLength); !s.ok()) return s;
  }
  return absl::OkStatus();
}

// A result a worker node reports: which job, and how it ended. Its payload
// is checked by FailUndecodableResults.
absl::Status ValidateWorkerResult(const v1::JobResult& result, absl::string_view field) {
  if (absl::Status s = ValidateJobId(result.job_id(), absl::StrCat(field, ".job_id")); !s.ok()) {
    return s;
  }
  if (result.state() != v1::SUCCEEDED && result.state() != v1::FAILED &&
      result.state() != v1::CANCELLED) {
    return FieldError(absl::StrCat(field, ".state"),
                      absl::StrCat("must be SUCCEEDED, FAILED or CANCELLED (got ",
                                   static_cast<int>(result.state()), ")"));
  }
  return absl::OkStatus();
}

// The value and error detail of a result are passed on to clients as they
// are, so they must decode.
absl::Status ValidateResultPayload(const v1::JobResult& result) {
  if (absl::Status s = ValidateValue(result.value()); !s.ok()) {
    return FieldError("value", s.message());
  }
  if (absl::Status s = ValidateValue(result.error().detail()); !s.ok()) {
    return FieldError("error.detail", s.message());
  }
  return absl::OkStatus();
}

// The fields any worker message may carry besides hello.
absl::Status ValidateWorkerUpdate(const v1::WorkerMessage& message) {
  if (message.credits() < 0 || message.credits() > kMaxCreditsPerMessage) {
    return FieldError("credits", absl::StrCat("must be between 0 and ", kMaxCreditsPerMessage,
                                              " (got ", message.credits(), ")"));
  }
  if (message.results_size() > kMaxResultsPerMessage) {
    return FieldError("results", absl::StrCat(message.results_size(), " results; at most ",
                                              kMaxResultsPerMessage));
  }
  for (int i = 0; i < message.results_size(); ++i) {
    if (absl::Status s = ValidateWorkerResult(message.results(i), absl::StrCat("results[", i, "]"));
        !s.ok()) {
      return s;
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ValidateWatchRequest(const v1::WatchRequest& request) {
  // Checked here, not left to the core: a batch the core refuses is
  // submitted job by job, which must not let a client past the limit.
  if (request.submit_size() > kMaxJobsPerSubmit) {
    return FieldError("submit", absl::StrCat(request.submit_size(), " jobs; at most ",
                                             kMaxJobsPerSubmit));
  }
  return ValidateJobIds(request.job_ids(), "job_ids", 0);
}

absl::Status ValidateGetRequest(const v1::GetRequest& request) {
  if (absl::Status s = ValidateJobId(request.job_id(), "job_id"); !s.ok()) return s;
  if (!std::isfinite(request.timeout_seconds())) {
    return FieldError("timeout_seconds",
                      absl::StrCat("must be a finite number (< 0 waits forever; got ",
                                   request.timeout_seconds(), ")"));
  }
  return absl::OkStatus();
}

absl::Status ValidateCancelRequest(const v1::CancelRequest& request) {
  return ValidateJobIds(request.job_ids(), "job_ids", 1);
}

absl::Status ValidateGetStatusRequest(const v1::GetStatusRequest& request) {
  return ValidateJobIds(request.job_ids(), "job_ids", 1);
}

absl::Status ValidateListJobsRequest(const v1::ListJobsRequest& request) {
  if (!v1::JobState_IsValid(request.state())) {
    return FieldError("state", absl::StrCat("unknown job state ", request.state()));
  }
  if (request.limit() < 0 || request.limit() > kMaxListLimit) {
    return FieldError("limit", absl::StrCat("must be between 0 and ", kMaxListLimit, " (got ",
                                            request.limit(), ")"));
  }
  return absl::OkStatus();
}

absl::Status ValidateWorkerHello(const v1::WorkerHello& hello) {
  if (absl::Status s = ValidateText(hello.name(), "hello.name", 1, kMaxWorkerNameLength); !s.ok()) {
    return s;
  }
  if (absl::Status s = ValidateText(hello.instance_id(), "hello.instance_id", 0, 64); !s.ok()) {
    return s;
  }
  if (hello.slots() < 1 || hello.slots() > kMaxSlotsPerWorker) {
    return FieldError("hello.slots", absl::StrCat("must be between 1 and ", kMaxSlotsPerWorker,
                                                  " (got ", hello.slots(), ")"));
  }
  if (hello.prefetch() < 0 || hello.prefetch() > kMaxPrefetchPerWorker) {
    return FieldError("hello.prefetch", absl::StrCat("must be between 0 and ",
                                                     kMaxPrefetchPerWorker, " (got ",
                                                     hello.prefetch(), ")"));
  }
  if (hello.functions_size() > kMaxFunctionsPerWorker) {
    return FieldError(
        "hello.functions",
        absl::StrCat(hello.functions_size(), " functions; at most ", kMaxFunctionsPerWorker));
  }
  for (int i = 0; i < hello.functions_size(); ++i) {
    if (!IsValidFunctionName(hello.functions(i))) {
      return FieldError(absl::StrCat("hello.functions[", i, "]"),
                        absl::StrCat("invalid function name ", Quote(hello.functions(i))));
    }
  }
  if (absl::Status s = ValidateLabels(hello.labels()); !s.ok()) return s;
  return ValidateJobIds(hello.held_job_ids(), "hello.held_job_ids", 0);
}

absl::Status ValidateFirstWorkerMessage(const v1::WorkerMessage& message) {
  if (!message.has_hello()) {
    return absl::InvalidArgumentError("the first message on a worker stream must carry hello");
  }
  if (absl::Status s = ValidateWorkerHello(message.hello()); !s.ok()) return s;
  return ValidateWorkerUpdate(message);
}

absl::Status ValidateLaterWorkerMessage(const v1::WorkerMessage& message) {
  if (message.has_hello()) return FieldError("hello", "sent twice on one stream");
  return ValidateWorkerUpdate(message);
}

int FailUndecodableResults(v1::WorkerMessage& message) {
  int failed = 0;
  for (v1::JobResult& result : *message.mutable_results()) {
    absl::Status payload = ValidateResultPayload(result);
    if (payload.ok()) continue;
    ++failed;
    std::string job_id = std::move(*result.mutable_job_id());
    result.Clear();
    result.set_job_id(std::move(job_id));
    result.set_state(v1::FAILED);
    result.mutable_error()->set_code(static_cast<int>(absl::StatusCode::kInvalidArgument));
    result.mutable_error()->set_message(
        absl::StrCat("the job's result cannot be sent to clients: ", payload.message()));
  }
  return failed;
}

}  // namespace netpool
