#include "worker/process_launcher.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <unistd.h>

#include <vector>

#include "absl/strings/str_cat.h"
#include "worker/spawn_attributes.h"
#include "worker/worker_process.h"

namespace netpool {
namespace {

absl::Status SystemError(const char* what) {
  return absl::InternalError(
      absl::StrCat("cannot start worker process: ", what, ": ", strerror(errno)));
}

// A close-on-exec pipe whose ends are numbered above the child's fixed fds,
// so that the dup2 of one end onto fd 3 or 4 cannot clobber the other.
absl::Status MakePipe(UniqueFd* read_end, UniqueFd* write_end) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return SystemError("pipe");
  UniqueFd original_read(fds[0]), original_write(fds[1]);
  read_end->Reset(::fcntl(fds[0], F_DUPFD_CLOEXEC, kResultFd + 1));
  write_end->Reset(::fcntl(fds[1], F_DUPFD_CLOEXEC, kResultFd + 1));
  if (!read_end->valid() || !write_end->valid()) return SystemError("fcntl");
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<LaunchedProcess> LaunchWorkerProcess(const std::string& executable,
                                                    const Initializer& initializer,
                                                    const ProcessPolicy& policy) {
  UniqueFd task_read, task_write, result_read, result_write;
  if (absl::Status s = MakePipe(&task_read, &task_write); !s.ok()) return s;
  if (absl::Status s = MakePipe(&result_read, &result_write); !s.ok()) return s;

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, task_read.get(), kTaskFd);
  posix_spawn_file_actions_adddup2(&actions, result_write.get(), kResultFd);
  // Nothing else the node holds (inherited without close-on-exec) leaks in.
  posix_spawn_file_actions_addclosefrom_np(&actions, kResultFd + 1);

  // Its own session: killing the session also stops what its task started.
  const SpawnAttributes attributes(SpawnAttributes::Leads::kSession);

  std::vector<std::string> args = WorkerProcessArgs(initializer, policy);
  args.insert(args.begin(), program_invocation_name);
  std::vector<char*> argv;
  for (std::string& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  int err =
      posix_spawn(&pid, executable.c_str(), &actions, attributes.get(), argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (err != 0) {
    return absl::InternalError(
        absl::StrCat("cannot start worker process ", executable, ": ", strerror(err)));
  }
  LaunchedProcess process;
  process.pid = pid;
  process.task_fd = std::move(task_write);
  process.result_fd = std::move(result_read);
  ::fcntl(process.result_fd.get(), F_SETFL, ::fcntl(process.result_fd.get(), F_GETFL) | O_NONBLOCK);
  return process;
}

}  // namespace netpool
