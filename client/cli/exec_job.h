// Jobs of the stock `exec` function as the CLI sees them: `netpool exec` and
// `netpool map -- CMD` build them from a command line and turn their outcome
// back into the command's output and exit status.
#ifndef NETPOOL_CLIENT_CLI_EXEC_JOB_H_
#define NETPOOL_CLIENT_CLI_EXEC_JOB_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "client/result_state.h"
#include "common/builtin_functions.h"
#include "netpool/v1/netpool.pb.h"

namespace netpool {
namespace cli {

// The job that runs `argv` on a worker: exec with args [argv], plus the
// options map {timeout} when `timeout` is set. exec enforces the timeout
// itself, so a command that overruns still reports its output.
v1::JobSpec ExecJob(const std::vector<std::string>& argv,
                    absl::Duration timeout = absl::ZeroDuration());

// What the command did, as exec reports it in its result, or in its error's
// detail when the command failed.
struct CommandReport {
  int exit_code = 0;  // as a shell reports it: 128 + N when killed by signal N
  std::string stdout_data;
  std::string stderr_data;
};

// The command's report; nullopt when the job ended without one (say its
// worker process died, or the function is unknown).
std::optional<CommandReport> ReportOf(const internal::Outcome& outcome);

// The exit status to end with, as if the command had run here: its own; 124
// when it ran out of time, as timeout(1) ends; or 1 when the job failed
// without a report (or with a report claiming success).
int ExitStatusOf(const internal::Outcome& outcome, const std::optional<CommandReport>& report);

// How the command ended, as GNU parallel's --joblog tells it: (code, 0) when
// it exited; (0, N) when signal N killed it; (-1, 15) when it ran out of
// time (parallel ends it with SIGTERM); (-1, 0) when the job ended without a
// report.
struct CommandEnd {
  int exit_value = 0;
  int signal = 0;
};
CommandEnd CommandEndOf(const internal::Outcome& outcome,
                        const std::optional<CommandReport>& report);

// Whether a failed job needs a message beyond the command's own output: yes,
// unless the command just exited with a non-zero code of its own (a timeout or
// a signal shows as 128 + N, which deserves a word).
bool NeedsErrorMessage(const internal::Outcome& outcome,
                       const std::optional<CommandReport>& report);

}  // namespace cli
}  // namespace netpool

#endif  // NETPOOL_CLIENT_CLI_EXEC_JOB_H_
