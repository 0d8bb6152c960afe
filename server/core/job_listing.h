// ListJobPage reads one page of a job listing, newest first, from the store:
// what the dashboard and /api/v1/jobs page through. It reads the jobs it
// visits and no others, and at most `max_visited` of them, so a page costs
// the same (and holds the scheduler's lock as briefly) whether the store
// holds a thousand jobs or millions.
#ifndef NETPOOL_SERVER_CORE_JOB_LISTING_H_
#define NETPOOL_SERVER_CORE_JOB_LISTING_H_

#include <cstdint>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include "server/core/job.h"
#include "server/core/store.h"

namespace netpool {

struct JobListing {
  // Each filter left empty matches every job.
  v1::JobState state = v1::JOB_STATE_UNSPECIFIED;
  std::string function;
  std::map<std::string, std::string> labels;  // the job has each of them
  const std::string* owner = nullptr;         // only this identity's jobs
  // Only jobs submitted before the job of this sequence.
  uint64_t before_sequence = std::numeric_limits<uint64_t>::max();
  size_t limit = 0;
  // Jobs read, matching or not, before the page ends short.
  size_t max_visited = 100'000;

  bool Matches(const Job& job) const;
};

struct JobPage {
  std::vector<Job> jobs;  // newest first
  // When the page ended on `limit` or on `max_visited` with older jobs left,
  // the last job it read, which the next page lists jobs before; else 0 and
  // empty.
  uint64_t next_before_sequence = 0;
  std::string next_before_job_id;
};

JobPage ListJobPage(Store& store, const JobListing& listing);

}  // namespace netpool

#endif  // NETPOOL_SERVER_CORE_JOB_LISTING_H_
