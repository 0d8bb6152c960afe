#include "tests/worker/shell_job.h"

#include <unistd.h>

#include <fstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace netpool::testing {

ShellJob::ShellJob(const std::string& name, const std::string& tail) {
  // Unique per test process: several engineers' tests share /tmp.
  const std::string base = absl::StrCat("/tmp/netpool-shell-job-", ::getpid(), "-", name);
  pid_file_ = base + ".pid";
  release_file_ = base + ".go";
  ::unlink(pid_file_.c_str());
  ::unlink(release_file_.c_str());
  const std::string rest =
      tail.empty() ? absl::StrCat("while [ ! -e '", release_file_, "' ]; do sleep 0.01; done")
                   : tail;
  // Written whole, then renamed, so a reader never sees half a pid.
  script_ = absl::StrCat("echo $$ > '", pid_file_, ".tmp' && mv '", pid_file_, ".tmp' '",
                         pid_file_, "'; ", rest);
}

ShellJob::~ShellJob() {
  ::unlink(pid_file_.c_str());
  ::unlink(release_file_.c_str());
}

std::vector<Value> ShellJob::args() const {
  return {Value(ValueList{"sh", "-c", script_})};
}

std::optional<pid_t> ShellJob::WaitUntilStarted(absl::Duration timeout) const {
  const absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    std::ifstream file(pid_file_);
    std::string text;
    int pid = 0;
    if (file >> text && absl::SimpleAtoi(text, &pid)) return pid;
    absl::SleepFor(absl::Milliseconds(5));
  }
  return std::nullopt;
}

void ShellJob::Release() const { std::ofstream(release_file_).flush(); }

}  // namespace netpool::testing
