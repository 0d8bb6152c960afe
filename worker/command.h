// RunCommand runs an external program to completion and captures its output:
// the engine of the `exec` built-in. The program is started with
// posix_spawnp (no fork), stdout and stderr are read through pipes with
// poll() so that neither can fill up and deadlock, and stdin is fed from a
// string (or is /dev/null).
//
// The program leads a process group of its own, and is put in a cgroup of
// its own where one can be made (see cgroup.h). The command ends when the
// program ends: what is left of its group and cgroup, e.g. a background
// child still holding stdout, is killed then, as on a timeout.
#ifndef NETPOOL_WORKER_COMMAND_H_
#define NETPOOL_WORKER_COMMAND_H_

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace netpool {

// How much of each of stdout and stderr is kept unless said otherwise
// (netpool-worker --max-output).
inline constexpr size_t kDefaultMaxOutputBytes = 16u << 20;

struct CommandOptions {
  std::string cwd;                                // empty: the worker's own
  std::map<std::string, std::string> env;         // added to the inherited environment
  std::optional<std::string> stdin_data;          // nullopt: /dev/null
  absl::Duration timeout = absl::ZeroDuration();  // zero: none
  // Each of stdout and stderr keeps at most this much; the rest is read and
  // dropped so that the program is never blocked on a full pipe.
  size_t max_output_bytes = kDefaultMaxOutputBytes;
};

struct CommandOutcome {
  // As a shell reports it: the exit status, or 128 + the signal that killed
  // it; 127 when the program was not found and 126 when it could not be run.
  int exit_code = 0;
  int signal = 0;          // the signal that killed it, else 0
  bool timed_out = false;  // killed with SIGKILL because the timeout passed
  std::string stdout_data;
  std::string stderr_data;
  bool stdout_truncated = false;  // it wrote more than max_output_bytes
  bool stderr_truncated = false;
};

// A program that cannot be started is an outcome, not an error, as in a
// shell: exit code 127 or 126 and "netpool: exec: CMD: REASON" on stderr.
// Errors: kInvalidArgument for an empty argv or a cwd that is not a
// directory, kInternal when pipes cannot be created.
absl::StatusOr<CommandOutcome> RunCommand(const std::vector<std::string>& argv,
                                          const CommandOptions& options);

}  // namespace netpool

#endif  // NETPOOL_WORKER_COMMAND_H_
