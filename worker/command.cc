#include "worker/command.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <optional>

#include "absl/strings/str_cat.h"
#include "common/monotonic_clock.h"
#include "spdlog/spdlog.h"
#include "worker/cgroup.h"
#include "worker/poll_timeout.h"
#include "worker/spawn_attributes.h"
#include "worker/unique_fd.h"

extern char** environ;

namespace netpool {
namespace {

// Without a pidfd to wake us, how often to look whether the program ended.
constexpr int kNoPidfdPollMs = 50;

struct Pipe {
  UniqueFd read;
  UniqueFd write;
};

// Close-on-exec, so that a program started later does not inherit this
// pipe's ends and hold it open.
absl::StatusOr<Pipe> MakePipe() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    return absl::InternalError(absl::StrCat("exec: pipe: ", strerror(errno)));
  }
  return Pipe{UniqueFd(fds[0]), UniqueFd(fds[1])};
}

void SetNonBlocking(int fd) { ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK); }

// The inherited environment with `overrides` applied, as KEY=VALUE strings.
std::vector<std::string> MergedEnvironment(const std::map<std::string, std::string>& overrides) {
  std::vector<std::string> env;
  for (char** entry = environ; *entry != nullptr; ++entry) {
    std::string_view text(*entry);
    if (overrides.count(std::string(text.substr(0, text.find('=')))) == 0) env.emplace_back(text);
  }
  for (const auto& [key, value] : overrides) env.push_back(absl::StrCat(key, "=", value));
  return env;
}

std::vector<char*> NullTerminated(std::vector<std::string>& strings) {
  std::vector<char*> pointers;
  for (std::string& s : strings) pointers.push_back(s.data());
  pointers.push_back(nullptr);
  return pointers;
}

// Keeps SIGPIPE blocked on this thread while it feeds the program's stdin:
// a program that exits without reading its input must not kill the worker.
// A SIGPIPE raised meanwhile is consumed before the mask is restored.
class SigpipeBlocker {
 public:
  SigpipeBlocker() {
    sigemptyset(&set_);
    sigaddset(&set_, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &set_, &old_);
  }
  ~SigpipeBlocker() {
    if (!sigismember(&old_, SIGPIPE)) {
      const timespec zero = {0, 0};
      while (sigtimedwait(&set_, nullptr, &zero) > 0) {
      }
    }
    pthread_sigmask(SIG_SETMASK, &old_, nullptr);
  }

 private:
  sigset_t set_;
  sigset_t old_;
};

// Starts the program with stdin from `stdin_fd` (/dev/null when -1) and
// stdout/stderr into the given fds. Returns 0 or the errno of the failure.
int Spawn(const std::vector<std::string>& argv, const CommandOptions& options, int stdin_fd,
          int stdout_fd, int stderr_fd, pid_t* pid) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  if (stdin_fd >= 0) {
    posix_spawn_file_actions_adddup2(&actions, stdin_fd, STDIN_FILENO);
  } else {
    posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  }
  posix_spawn_file_actions_adddup2(&actions, stdout_fd, STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, stderr_fd, STDERR_FILENO);
  // The command sees only stdin/stdout/stderr, not the worker's pipes.
  posix_spawn_file_actions_addclosefrom_np(&actions, STDERR_FILENO + 1);
  if (!options.cwd.empty()) posix_spawn_file_actions_addchdir_np(&actions, options.cwd.c_str());

  const SpawnAttributes attributes(SpawnAttributes::Leads::kProcessGroup);

  std::vector<std::string> args = argv;
  std::vector<std::string> env = MergedEnvironment(options.env);
  int err = posix_spawnp(pid, args[0].c_str(), &actions, attributes.get(),
                         NullTerminated(args).data(),
                         NullTerminated(env).data());
  posix_spawn_file_actions_destroy(&actions);
  return err;
}

// Reads what `fd` has now into `sink`, keeping at most `limit` bytes and
// noting in `truncated` whether more came. Closes the fd at end of stream or
// on an error.
void Drain(UniqueFd& fd, size_t limit, std::string* sink, bool* truncated) {
  char buffer[64 * 1024];
  while (fd.valid()) {
    ssize_t n = ::read(fd.get(), buffer, sizeof(buffer));
    if (n > 0) {
      const size_t room = limit - std::min(sink->size(), limit);
      if (static_cast<size_t>(n) > room) *truncated = true;
      sink->append(buffer, std::min(static_cast<size_t>(n), room));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) return;
    fd.Reset();
  }
}

// Writes what it can of `data` from `*offset` on; closes the fd when all is
// written or the program stopped reading.
void Feed(UniqueFd& fd, const std::string& data, size_t* offset) {
  while (fd.valid() && *offset < data.size()) {
    ssize_t n = ::write(fd.get(), data.data() + *offset, data.size() - *offset);
    if (n > 0) {
      *offset += static_cast<size_t>(n);
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else if (n < 0 && errno == EAGAIN) {
      return;
    } else {
      break;
    }
  }
  fd.Reset();
}

void RecordExit(int wait_status, CommandOutcome* outcome) {
  if (WIFSIGNALED(wait_status)) {
    outcome->signal = WTERMSIG(wait_status);
    outcome->exit_code = 128 + outcome->signal;
  } else {
    outcome->exit_code = WEXITSTATUS(wait_status);
  }
}

}  // namespace

absl::StatusOr<CommandOutcome> RunCommand(const std::vector<std::string>& argv,
                                          const CommandOptions& options) {
  if (argv.empty() || argv[0].empty()) return absl::InvalidArgumentError("exec: empty command");
  struct stat st;
  if (!options.cwd.empty() && (::stat(options.cwd.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))) {
    return absl::InvalidArgumentError(
        absl::StrCat("exec: cwd \"", options.cwd, "\" is not a directory"));
  }
  absl::StatusOr<Pipe> out = MakePipe();
  if (!out.ok()) return out.status();
  absl::StatusOr<Pipe> err = MakePipe();
  if (!err.ok()) return err.status();
  Pipe in;
  if (options.stdin_data.has_value()) {
    absl::StatusOr<Pipe> made = MakePipe();
    if (!made.ok()) return made.status();
    in = *std::move(made);
  }

  SigpipeBlocker sigpipe_blocker;
  absl::Time deadline = options.timeout > absl::ZeroDuration() ? MonotonicNow() + options.timeout
                                                               : absl::InfiniteFuture();
  static std::atomic<int> commands{0};
  const std::optional<Cgroup> cgroup =
      Cgroup::TryCreate(nullptr, absl::StrCat("exec-", ::getpid(), "-", ++commands));
  pid_t pid = 0;
  int spawn_error = Spawn(argv, options, in.read.valid() ? in.read.get() : -1, out->write.get(),
                          err->write.get(), &pid);
  out->write.Reset();
  err->write.Reset();
  in.read.Reset();
  CommandOutcome outcome;
  if (spawn_error != 0) {
    if (cgroup.has_value()) cgroup->KillAndRemove();
    outcome.exit_code = spawn_error == ENOENT ? 127 : 126;
    outcome.stderr_data =
        absl::StrCat("netpool: exec: ", argv[0], ": ", strerror(spawn_error), "\n");
    return outcome;
  }
  // The program runs already, but it has only just exec'd: it starts
  // nothing before it is in the cgroup.
  if (cgroup.has_value()) {
    if (absl::Status added = cgroup->Add(pid); !added.ok()) {
      spdlog::debug("exec: {}", std::string(added.message()));
    }
  }
  // Ends the program's whole tree, reaps the program and removes the cgroup.
  // The group is killed before the program is reaped: until then its pid
  // cannot be reused, so -pid names no stranger's group.
  auto end_tree = [&](int* wait_status) {
    ::kill(-pid, SIGKILL);
    if (cgroup.has_value()) cgroup->Kill();
    while (::waitpid(pid, wait_status, 0) < 0 && errno == EINTR) {
    }
    if (cgroup.has_value()) cgroup->KillAndRemove();
  };

  // The program has exited when its pidfd becomes readable; without pidfds
  // (old kernels) we look every kNoPidfdPollMs. waitid(WNOWAIT) leaves
  // it a zombie until end_tree.
  // (Called through syscall(): glibc 2.36's <sys/pidfd.h> lacks extern "C".)
  UniqueFd exit_fd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
  auto has_exited = [pid] {
    siginfo_t info = {};
    return ::waitid(P_PID, pid, &info, WEXITED | WNOHANG | WNOWAIT) == 0 && info.si_pid == pid;
  };
  SetNonBlocking(out->read.get());
  SetNonBlocking(err->read.get());
  if (in.write.valid()) SetNonBlocking(in.write.get());
  size_t stdin_offset = 0;
  bool exited = false;
  while (!exited) {
    int timeout_ms = PollTimeoutMs(deadline);
    if (timeout_ms == 0) {
      outcome.timed_out = true;
      break;
    }
    if (!exit_fd.valid() && (timeout_ms < 0 || timeout_ms > kNoPidfdPollMs)) {
      timeout_ms = kNoPidfdPollMs;
    }
    pollfd fds[4];
    UniqueFd* owners[4];
    nfds_t count = 0;
    for (UniqueFd* fd : {&out->read, &err->read, &exit_fd, &in.write}) {
      if (!fd->valid()) continue;
      fds[count] = {fd->get(), static_cast<short>(fd == &in.write ? POLLOUT : POLLIN), 0};
      owners[count++] = fd;
    }
    if (::poll(fds, count, timeout_ms) < 0) {
      if (errno == EINTR) continue;
      const int poll_error = errno;
      end_tree(nullptr);
      return absl::InternalError(absl::StrCat("exec: poll: ", strerror(poll_error)));
    }
    for (nfds_t i = 0; i < count; ++i) {
      if (fds[i].revents == 0) continue;
      if (owners[i] == &out->read) {
        Drain(out->read, options.max_output_bytes, &outcome.stdout_data, &outcome.stdout_truncated);
      }
      if (owners[i] == &err->read) {
        Drain(err->read, options.max_output_bytes, &outcome.stderr_data, &outcome.stderr_truncated);
      }
      if (owners[i] == &in.write) Feed(in.write, *options.stdin_data, &stdin_offset);
    }
    exited = has_exited();
  }
  int wait_status = 0;
  end_tree(&wait_status);
  // What the program (and the rest of its tree, until it was killed) wrote.
  Drain(out->read, options.max_output_bytes, &outcome.stdout_data, &outcome.stdout_truncated);
  Drain(err->read, options.max_output_bytes, &outcome.stderr_data, &outcome.stderr_truncated);
  RecordExit(wait_status, &outcome);
  return outcome;
}

}  // namespace netpool
