#include "tests/support/terminal.h"

#include <fcntl.h>
#include <pty.h>
#include <spawn.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

extern char** environ;

namespace netpool::testing {

absl::StatusOr<TerminalChild> SpawnOnTerminal(std::vector<std::string> argv, int stdout_fd) {
  int master = -1, terminal = -1;
  if (::openpty(&master, &terminal, nullptr, nullptr, nullptr) != 0) {
    return absl::InternalError(absl::StrCat("openpty: ", std::strerror(errno)));
  }
  std::vector<char*> args;
  for (std::string& word : argv) args.push_back(word.data());
  args.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, stdout_fd == -1 ? terminal : stdout_fd,
                                   STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, terminal, STDERR_FILENO);
  pid_t pid = 0;
  const int spawned = posix_spawn(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(terminal);
  if (spawned != 0) {
    ::close(master);
    return absl::InternalError(absl::StrCat("posix_spawn ", argv[0], ": ", std::strerror(spawned)));
  }
  return TerminalChild{pid, master};
}

}  // namespace netpool::testing
