#include "server/core/job_listing.h"

namespace netpool {

bool JobListing::Matches(const Job& job) const {
  if (state != v1::JOB_STATE_UNSPECIFIED && job.state != state) return false;
  if (owner != nullptr && job.owner() != *owner) return false;
  if (!function.empty() && job.function() != function) return false;
  for (const auto& [key, value] : labels) {
    auto it = job.labels().find(key);
    if (it == job.labels().end() || it->second != value) return false;
  }
  return true;
}

JobPage ListJobPage(Store& store, const JobListing& listing) {
  JobPage page;
  size_t visited = 0;
  uint64_t last_sequence = 0;
  std::string last_job_id;
  store.ForEachNewestFirst(listing.before_sequence, [&](const Job& job) {
    if (page.jobs.size() == listing.limit || visited == listing.max_visited) {
      page.next_before_sequence = last_sequence;
      page.next_before_job_id = last_job_id;
      return false;
    }
    ++visited;
    last_sequence = job.sequence;
    last_job_id = std::string(job.id());
    if (listing.Matches(job)) page.jobs.push_back(job);
    return true;
  });
  return page;
}

}  // namespace netpool
