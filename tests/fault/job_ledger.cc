#include "tests/fault/job_ledger.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/value_proto.h"

namespace netpool::testing {
namespace {

// Problems listed per kind; the counts say how many there were in all.
constexpr int kProblemsPerKind = 10;

// GetStatus ids per request, far below the scheduler's limit.
constexpr int kIdsPerStatusRequest = 1000;

std::string Describe(const absl::StatusOr<Value>& outcome) {
  return outcome.ok() ? outcome->ToJson() : outcome.status().ToString();
}

// Whether `value` is a nonce result of job `number`: [number, random].
bool IsNonceOf(int64_t number, const Value& value) {
  return value.is_list() && value.AsList().size() == 2 && value.AsList()[0].is_int() &&
         value.AsList()[0].AsInt() == number && value.AsList()[1].is_int();
}

// Collects problem lines, at most kProblemsPerKind of each kind.
class ProblemList {
 public:
  // Adds `count` to `counter`, and `line` if few of its kind are listed yet.
  void Add(int64_t& counter, std::string line, int64_t count = 1) {
    if (counter < kProblemsPerKind) lines_.push_back(std::move(line));
    counter += count;
  }
  std::vector<std::string> Take() { return std::move(lines_); }

 private:
  std::vector<std::string> lines_;
};

// What the scheduler says about an unfinished job: state, attempt, worker.
std::string StatusLine(SchedulerClient& scheduler, const std::string& id) {
  v1::GetStatusRequest request;
  request.add_job_ids(id);
  absl::StatusOr<v1::GetStatusResponse> response = scheduler.GetStatus(request);
  if (!response.ok() || response->jobs_size() != 1) return "its status is unknown";
  const v1::JobStatus& status = response->jobs(0);
  return absl::StrCat("still ", v1::JobState_Name(status.state()), " in attempt ",
                      status.attempt(), " of ", status.max_attempts(),
                      status.worker().empty() ? "" : absl::StrCat(" on ", status.worker()));
}

}  // namespace

absl::StatusOr<Value> OutcomeOf(const v1::JobResult& result) {
  switch (result.state()) {
    case v1::SUCCEEDED:
      return FromProto(result.value());
    case v1::JOB_STATE_UNSPECIFIED:
      if (!result.has_error()) return absl::NotFoundError("unknown to the scheduler");
      return JobErrorToStatus(result.error());
    default:
      return JobErrorToStatus(result.error());
  }
}

std::string SchedulerCounts(SchedulerClient& scheduler) {
  absl::StatusOr<v1::GetStatsResponse> stats = scheduler.GetStats();
  if (!stats.ok()) {
    return absl::StrCat("the scheduler's counts are unknown: ", stats.status().ToString());
  }
  absl::StatusOr<v1::ListWorkersResponse> workers = scheduler.ListWorkers();
  int busy = 0;
  if (workers.ok()) {
    for (const v1::WorkerStatus& worker : workers->workers()) busy += worker.running();
  }
  return absl::StrCat("the scheduler has ", stats->pending(), " pending, ", stats->running(),
                      " running, ", stats->succeeded(), " succeeded, ", stats->failed(),
                      " failed; ", stats->workers(), " worker nodes with ", stats->slots(),
                      " slots, ", busy, " busy");
}

std::string JobLedger::Audit::Problems() const {
  if (problems.empty()) return "no problems";
  return absl::StrCat("\n  ", absl::StrJoin(problems, "\n  "));
}

void JobLedger::Acknowledged(const std::string& id, int64_t number) {
  absl::MutexLock lock(&mutex_);
  if (acknowledged_.emplace(id, Entry{number, std::nullopt}).second) ++outstanding_;
}

void JobLedger::Unacknowledged(const std::string& id) {
  absl::MutexLock lock(&mutex_);
  unacknowledged_.push_back(id);
}

void JobLedger::Delivered(const std::string& id, absl::StatusOr<Value> outcome) {
  absl::MutexLock lock(&mutex_);
  auto it = acknowledged_.find(id);
  if (it == acknowledged_.end() || it->second.delivered.has_value()) return;
  it->second.delivered = std::move(outcome);
  --outstanding_;
}

void JobLedger::Delivered(const v1::JobResult& result) {
  Delivered(result.job_id(), OutcomeOf(result));
}

int64_t JobLedger::acknowledged() const {
  absl::MutexLock lock(&mutex_);
  return static_cast<int64_t>(acknowledged_.size());
}

int64_t JobLedger::outstanding() const {
  absl::MutexLock lock(&mutex_);
  return outstanding_;
}

bool JobLedger::WaitForOutstandingAtMost(int64_t count, absl::Duration timeout) const {
  struct Args {
    const int64_t* outstanding;
    int64_t count;
  } args{nullptr, count};
  absl::MutexLock lock(&mutex_);
  args.outstanding = &outstanding_;
  return mutex_.AwaitWithTimeout(
      absl::Condition(+[](Args* a) { return *a->outstanding <= a->count; }, &args), timeout);
}

JobLedger::Audit JobLedger::Check(SchedulerClient& scheduler) const {
  absl::flat_hash_map<std::string, Entry> acknowledged;
  std::vector<std::string> unacknowledged;
  {
    absl::MutexLock lock(&mutex_);
    acknowledged = acknowledged_;
    unacknowledged = unacknowledged_;
  }
  Audit audit;
  audit.acknowledged = static_cast<int64_t>(acknowledged.size());
  ProblemList problems;
  // Sorted, so that the problems read in submission order.
  std::vector<std::string> ids;
  ids.reserve(acknowledged.size());
  for (const auto& [id, entry] : acknowledged) ids.push_back(id);
  std::sort(ids.begin(), ids.end());

  for (const std::string& id : ids) {
    const Entry& entry = acknowledged.at(id);
    const std::string job = absl::StrCat("job ", id, " (nonce ", entry.number, ")");
    v1::GetRequest request;
    request.set_job_id(id);
    request.set_timeout_seconds(0);
    absl::StatusOr<v1::GetResponse> final_result = scheduler.Get(request);
    if (!final_result.ok()) {
      problems.Add(audit.lost, absl::StrCat("lost: ", job, " was acknowledged, but Get says ",
                                            final_result.status().ToString()));
      continue;
    }
    if (!final_result->ready()) {
      problems.Add(audit.lost, absl::StrCat("lost: ", job, " never finished: ",
                                            StatusLine(scheduler, id)));
      continue;
    }
    const absl::StatusOr<Value> held = OutcomeOf(final_result->result());
    if (!held.ok()) {
      problems.Add(audit.lost, absl::StrCat("lost: ", job, " ended ",
                                            v1::JobState_Name(final_result->result().state()),
                                            ": ", held.status().ToString()));
      continue;
    }
    if (!IsNonceOf(entry.number, *held)) {
      problems.Add(audit.duplicated, absl::StrCat("duplicated: ", job,
                                                  " holds another job's result ", Describe(held)));
      continue;
    }
    if (!entry.delivered.has_value()) {
      problems.Add(audit.lost, absl::StrCat("lost: ", job, " succeeded with ", Describe(held),
                                            " but no result ever reached the client"));
      continue;
    }
    if (!entry.delivered->ok()) {
      problems.Add(audit.lost, absl::StrCat("lost: the client was told ", job, " failed (",
                                            Describe(*entry.delivered),
                                            ") but the scheduler holds ", Describe(held)));
      continue;
    }
    if (!(**entry.delivered == *held)) {
      problems.Add(audit.duplicated,
                   absl::StrCat("duplicated: the client received ", Describe(*entry.delivered),
                                " for ", job, " but the scheduler now holds ", Describe(held)));
    }
  }

  // How many jobs ran more than once, which shows the faults hit running work.
  for (size_t first = 0; first < ids.size(); first += kIdsPerStatusRequest) {
    v1::GetStatusRequest request;
    const size_t last = std::min(ids.size(), first + kIdsPerStatusRequest);
    for (size_t i = first; i < last; ++i) request.add_job_ids(ids[i]);
    absl::StatusOr<v1::GetStatusResponse> statuses = scheduler.GetStatus(request);
    if (!statuses.ok()) continue;  // a lost job in the batch, counted above
    for (const v1::JobStatus& status : statuses->jobs()) {
      if (status.attempt() > 1) ++audit.retried;
    }
  }

  for (const std::string& id : unacknowledged) {
    v1::GetStatusRequest request;
    request.add_job_ids(id);
    if (scheduler.GetStatus(request).ok()) {
      ++audit.unacknowledged_present;
    } else {
      ++audit.unacknowledged_absent;
    }
  }

  // A job stored twice, or a job nobody submitted, shows in the totals: this
  // scheduler has only ever seen this ledger's client.
  absl::StatusOr<v1::GetStatsResponse> stats = scheduler.GetStats();
  if (!stats.ok()) {
    problems.Add(audit.lost, absl::StrCat("GetStats failed: ", stats.status().ToString()));
  } else {
    const int64_t held = stats->pending() + stats->running() + stats->succeeded() +
                         stats->failed() + stats->cancelled();
    const int64_t submitted = audit.acknowledged + audit.unacknowledged_present;
    if (held > submitted) {
      problems.Add(audit.duplicated,
                   absl::StrCat("duplicated: the scheduler holds ", held, " jobs but only ",
                                submitted, " were submitted"),
                   held - submitted);
    }
  }
  audit.problems = problems.Take();
  return audit;
}

}  // namespace netpool::testing
