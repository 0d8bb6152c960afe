// Store is where job records live. The scheduling core reads and changes jobs
// only through it, and calls Update() after each change so that a durable
// store can persist it; MemoryStore (server/store/) is the volatile one.
#ifndef NETPOOL_SERVER_CORE_STORE_H_
#define NETPOOL_SERVER_CORE_STORE_H_

#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "server/core/job.h"

namespace netpool {

class Store {
 public:
  virtual ~Store() = default;

  // Adds new jobs, all or none. Error kAlreadyExists if an id is taken.
  virtual absl::Status Insert(std::vector<Job> jobs) = 0;
  // The live record, or nullptr. The pointer stays valid until the job is
  // erased; the caller that changes it must call Update().
  virtual Job* Find(const std::string& job_id) = 0;
  virtual const Job* Find(const std::string& job_id) const = 0;
  // Records a change made through Find().
  virtual absl::Status Update(const Job& job) = 0;
  // Visits jobs in submission order until `visit` returns false.
  virtual void ForEach(const std::function<bool(const Job&)>& visit) const = 0;
  virtual size_t size() const = 0;
};

}  // namespace netpool

#endif  // NETPOOL_SERVER_CORE_STORE_H_
