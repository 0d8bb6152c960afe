#include "server/http/api_v1.h"

#include <algorithm>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/packed_chunk.h"
#include "common/records.h"
#include "common/value_proto.h"
#include "common/version.h"
#include "httplib.h"
#include "server/auth/authenticator.h"
#include "server/http/finished_history.h"
#include "server/http/http_access.h"
#include "server/request_validation.h"
#include "server/scheduler_runtime.h"

namespace netpool {
namespace {

// A job's result shows whole up to this much JSON; a bigger one (a large
// value, a command's long output) as its first bytes, since a page that
// wants more can `netpool get` it.
constexpr size_t kMaxResultJson = 4096;

void ReplyJson(httplib::Response& response, int code, const Value& record) {
  response.status = code;
  response.set_content(record.ToJson() + "\n", "application/json");
}

void ReplyError(httplib::Response& response, const absl::Status& status) {
  ReplyJson(response, HttpStatusFor(status, response), ErrorValue(status));
}

// The caller when its token admits it to `request` with one of `roles`;
// otherwise the refusal is in `response`.
std::optional<Identity> Caller(const Authenticator& authenticator,
                               const httplib::Request& request, httplib::Response& response,
                               std::initializer_list<Role> roles) {
  absl::StatusOr<Identity> caller = AuthenticateRequest(
      authenticator, request, absl::StrCat("GET ", request.path), roles);
  if (!caller.ok()) {
    ReplyError(response, caller.status());
    return std::nullopt;
  }
  return *std::move(caller);
}

// What /api/v1/jobs lists.
struct JobQuery {
  v1::ListJobsRequest request;
  std::string function;  // empty: any
  std::map<std::string, std::string> labels;  // each must match
  bool newest_first = false;
  std::string before;  // with newest_first: only jobs submitted before this one

  bool Matches(const v1::JobStatus& job) const {
    if (!function.empty() && job.function() != function) return false;
    for (const auto& [key, value] : labels) {
      auto it = job.labels().find(key);
      if (it == job.labels().end() || it->second != value) return false;
    }
    return true;
  }
};

absl::StatusOr<JobQuery> ParseJobQuery(const httplib::Request& request) {
  JobQuery query;
  for (const auto& [name, value] : request.params) {
    if (name == "state") {
      absl::StatusOr<v1::JobState> state = ParseJobState(value);
      if (!state.ok()) return state.status();
      query.request.set_state(*state);
    } else if (name == "function") {
      query.function = value;
    } else if (name == "label") {
      const size_t equals = value.find('=');
      if (equals == std::string::npos || equals == 0) {
        return absl::InvalidArgumentError(
            absl::StrCat("label must be KEY=VALUE, its = written %3D (got \"", value, "\")"));
      }
      if (!query.labels.emplace(value.substr(0, equals), value.substr(equals + 1)).second) {
        return absl::InvalidArgumentError(
            absl::StrCat("label ", value.substr(0, equals), " given twice"));
      }
    } else if (name == "limit") {
      int limit = 0;
      if (!absl::SimpleAtoi(value, &limit) || limit < 1) {
        return absl::InvalidArgumentError(
            absl::StrCat("limit must be a number from 1 to ", kMaxListLimit, " (got \"", value,
                         "\")"));
      }
      query.request.set_limit(limit);
    } else if (name == "order") {
      if (value != "newest" && value != "oldest") {
        return absl::InvalidArgumentError(
            absl::StrCat("order must be newest or oldest (got \"", value, "\")"));
      }
      query.newest_first = value == "newest";
    } else if (name == "before") {
      query.before = value;
    } else {
      return absl::InvalidArgumentError(absl::StrCat(
          "unknown parameter \"", name, "\" (state, function, label, limit, order, before)"));
    }
  }
  if (!query.before.empty() && !query.newest_first) {
    return absl::InvalidArgumentError("before needs order=newest");
  }
  if (absl::Status s = ValidateListJobsRequest(query.request); !s.ok()) return s;
  return query;
}

// The jobs `query` asks for, in submission order or, with order=newest,
// newest first. Newest first reads a page from the store and no more (see
// ListJobPage), so it is what a listing of a big store pages with. Oldest
// first, the scheduler lists by state and owner only, so a filter looks
// through as many jobs as any listing may before it takes `limit`.
absl::StatusOr<SchedulerRuntime::JobStatusPage> ListJobs(SchedulerRuntime& runtime,
                                                         const JobQuery& query,
                                                         const Identity& caller) {
  const size_t limit = query.request.limit() == 0 ? kDefaultListLimit : query.request.limit();
  if (query.newest_first) {
    JobListing listing;
    listing.state = query.request.state();
    listing.function = query.function;
    listing.labels = query.labels;
    listing.limit = limit;
    return runtime.ListJobPage(std::move(listing), query.before, caller);
  }
  SchedulerRuntime::JobStatusPage page;
  if (query.function.empty() && query.labels.empty()) {
    page.jobs = runtime.ListJobs(query.request.state(), limit, caller);
    return page;
  }
  for (v1::JobStatus& job : runtime.ListJobs(query.request.state(), kMaxListLimit, caller)) {
    if (page.jobs.size() == limit) break;
    if (query.Matches(job)) page.jobs.push_back(std::move(job));
  }
  return page;
}

// The overview's "history": {interval_s, succeeded: [..], failed: [..],
// cancelled: [..]}, one count per interval, oldest first, the last the
// interval under way.
Value HistoryValue(const FinishedHistory& history) {
  ValueList succeeded;
  ValueList failed;
  ValueList cancelled;
  for (const FinishedHistory::Counts& counts : history.Snapshot()) {
    succeeded.push_back(counts.succeeded);
    failed.push_back(counts.failed);
    cancelled.push_back(counts.cancelled);
  }
  return ValueMap{{"interval_s", absl::ToDoubleSeconds(history.interval())},
                  {"succeeded", std::move(succeeded)},
                  {"failed", std::move(failed)},
                  {"cancelled", std::move(cancelled)}};
}

// {value} or {error}, as `netpool get -o json` has them; when its JSON is
// over kMaxResultJson, {truncated: true, json: its first bytes}.
Value ResultValue(const v1::JobResult& result) {
  Value record;
  if (result.state() == v1::SUCCEEDED) {
    absl::StatusOr<Value> value = result.packed_value().empty()
                                      ? FromProto(result.value())
                                      : UnpackToValue(result.packed_value());
    record = value.ok() ? ValueMap{{"value", *std::move(value)}}
                        : ValueMap{{"error", ErrorValue(value.status())}};
  } else {
    absl::Status error = JobErrorToStatus(result.error());
    if (error.ok()) error = absl::CancelledError("cancelled");
    Value detail;
    if (result.error().has_detail()) {
      absl::StatusOr<Value> parsed = FromProto(result.error().detail());
      if (parsed.ok()) detail = *std::move(parsed);
    }
    record = ValueMap{{"error", ErrorValue(error, detail)}};
  }
  std::string json = record.ToJson();
  if (json.size() <= kMaxResultJson) return record;
  // Cut before a UTF-8 continuation byte, so that the text stays valid.
  size_t cut = kMaxResultJson;
  while (cut > 0 && (static_cast<unsigned char>(json[cut]) & 0xC0) == 0x80) --cut;
  json.resize(cut);
  return ValueMap{{"truncated", true}, {"json", std::move(json)}};
}

}  // namespace

void ServeApiV1(httplib::Server& server, SchedulerRuntime* runtime,
                const FinishedHistory* history, const Authenticator* authenticator) {
  server.Get("/api/v1/overview", [runtime, history, authenticator](
                                     const httplib::Request& request,
                                     httplib::Response& response) {
    if (!Caller(*authenticator, request, response, {Role::kClient, Role::kAdmin})) return;
    ValueMap overview = StatsValue(runtime->Stats()).AsMap();
    overview.emplace("version", Version());
    overview.emplace("history", HistoryValue(*history));
    ReplyJson(response, 200, overview);
  });

  // Node names, labels and load describe the whole cluster: admins only.
  server.Get("/api/v1/workers", [runtime, authenticator](const httplib::Request& request,
                                                         httplib::Response& response) {
    if (!Caller(*authenticator, request, response, {Role::kAdmin})) return;
    ValueList workers;
    for (const v1::WorkerStatus& worker : runtime->ListWorkers()) {
      workers.push_back(WorkerValue(worker));
    }
    ReplyJson(response, 200, workers);
  });

  server.Get("/api/v1/jobs", [runtime, authenticator](const httplib::Request& request,
                                                      httplib::Response& response) {
    std::optional<Identity> caller =
        Caller(*authenticator, request, response, {Role::kClient, Role::kAdmin});
    if (!caller) return;
    absl::StatusOr<JobQuery> query = ParseJobQuery(request);
    if (!query.ok()) return ReplyError(response, query.status());
    const absl::Time now = absl::Now();
    const absl::StatusOr<SchedulerRuntime::JobStatusPage> page =
        ListJobs(*runtime, *query, *caller);
    if (!page.ok()) return ReplyError(response, page.status());
    ValueList jobs;
    for (const v1::JobStatus& job : page->jobs) jobs.push_back(JobValue(job, now));
    // A page newest first may end short of `limit` with older jobs left
    // (ListJobPage reads a bounded number of jobs): the next page starts
    // before this job.
    if (!page->next_before_job_id.empty()) {
      response.set_header("X-Netpool-Next-Before", page->next_before_job_id);
    }
    ReplyJson(response, 200, jobs);
  });

  server.Get(R"(/api/v1/jobs/([^/]+))", [runtime, authenticator](const httplib::Request& request,
                                                                 httplib::Response& response) {
    std::optional<Identity> caller =
        Caller(*authenticator, request, response, {Role::kClient, Role::kAdmin});
    if (!caller) return;
    const std::string id = request.matches[1];
    absl::StatusOr<v1::JobStatus> job = runtime->Status(id, *caller);
    // Another identity's job is as unknown as one that never was, so that
    // ids cannot be probed.
    if (absl::IsPermissionDenied(job.status())) {
      job = absl::NotFoundError(absl::StrCat("no job ", id));
    }
    if (!job.ok()) return ReplyError(response, job.status());
    ValueMap record = JobValue(*job).AsMap();
    absl::StatusOr<std::optional<v1::JobResult>> result = runtime->PeekResult(id, *caller);
    record.emplace("result", result.ok() && result->has_value() ? ResultValue(**result) : Value());
    ReplyJson(response, 200, record);
  });
}

}  // namespace netpool
