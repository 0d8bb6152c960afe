// ShellJob is an `exec` job that a worker test can watch and steer: its
// shell writes its pid to a file as soon as it runs, then runs `tail`, or,
// with no tail, waits until the test calls Release(). So a test knows when
// the job surely runs, which process is the job's, and when it may end.
//
//   ShellJob job("long", "exec sleep 30");
//   Assign("job-1", "exec", job.args());
//   std::optional<pid_t> pid = job.WaitUntilStarted(kWait);
#ifndef NETPOOL_TESTS_WORKER_SHELL_JOB_H_
#define NETPOOL_TESTS_WORKER_SHELL_JOB_H_

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "netpool/value.h"

namespace netpool::testing {

class ShellJob {
 public:
  // `name` keeps the files of jobs of one test apart; `tail` is shell code
  // run after the pid is written ("exec CMD" keeps the pid the job's).
  explicit ShellJob(const std::string& name, const std::string& tail = "");
  ShellJob(const ShellJob&) = delete;
  ShellJob& operator=(const ShellJob&) = delete;
  ~ShellJob();  // removes its files

  // The arguments of the `exec` built-in that run this job.
  std::vector<Value> args() const;

  // The job's pid once it runs; nullopt if it did not start within `timeout`.
  std::optional<pid_t> WaitUntilStarted(absl::Duration timeout) const;

  // Lets a job with no tail end.
  void Release() const;

 private:
  std::string pid_file_;
  std::string release_file_;
  std::string script_;
};

}  // namespace netpool::testing

#endif  // NETPOOL_TESTS_WORKER_SHELL_JOB_H_
