// A program started on a pseudo-terminal (openpty), as from an interactive
// shell, for tests of what the CLI draws only on a terminal (the progress
// line, `netpool top`'s redrawn frames).
//
//   absl::StatusOr<TerminalChild> child = SpawnOnTerminal({CliPath(), "top"});
//   ASSERT_TRUE(child.ok()) << child.status();
//   // read child->master until EIO, close it, then waitpid(child->pid, ...)
#ifndef NETPOOL_TESTS_SUPPORT_TERMINAL_H_
#define NETPOOL_TESTS_SUPPORT_TERMINAL_H_

#include <sys/types.h>

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace netpool::testing {

// TerminalChild is a program that SpawnOnTerminal started, and the test's
// end of its terminal. The test owns both: it reads `master` (EIO once the
// terminal's last writer is gone), closes it, and reaps `pid` with waitpid.
struct TerminalChild {
  pid_t pid = -1;
  int master = -1;
};

// Starts `argv` (argv[0] an absolute path) with standard input from
// /dev/null, standard error on a fresh pseudo-terminal, and standard output
// on it too, or on `stdout_fd` when that is not -1.
absl::StatusOr<TerminalChild> SpawnOnTerminal(std::vector<std::string> argv,
                                              int stdout_fd = -1);

}  // namespace netpool::testing

#endif  // NETPOOL_TESTS_SUPPORT_TERMINAL_H_
