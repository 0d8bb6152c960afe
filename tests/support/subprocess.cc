#include "tests/support/subprocess.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"

extern char** environ;

namespace netpool::testing {
namespace {

void CloseFd(int& fd) {
  if (fd >= 0) close(fd);
  fd = -1;
}

int MillisUntil(absl::Time deadline) {
  absl::Duration left = deadline - absl::Now();
  if (left <= absl::ZeroDuration()) return 0;
  return static_cast<int>(std::min<int64_t>(absl::ToInt64Milliseconds(left) + 1, 1000));
}

}  // namespace

absl::StatusOr<Subprocess> Subprocess::Start(const std::vector<std::string>& argv,
                                             Options options) {
  int in[2] = {-1, -1}, out[2] = {-1, -1}, err[2] = {-1, -1};
  if ((options.pipe_stdin && pipe2(in, O_CLOEXEC) != 0) ||
      (options.pipe_stdout && pipe2(out, O_CLOEXEC) != 0) ||
      (options.pipe_stderr && pipe2(err, O_CLOEXEC) != 0)) {
    return absl::InternalError(absl::StrCat("pipe: ", strerror(errno)));
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  if (options.pipe_stdin) posix_spawn_file_actions_adddup2(&actions, in[0], 0);
  if (options.pipe_stdout) posix_spawn_file_actions_adddup2(&actions, out[1], 1);
  if (options.pipe_stderr) posix_spawn_file_actions_adddup2(&actions, err[1], 2);
  // The child gets a clean signal mask whatever the test runner blocked.
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t empty, all;
  sigemptyset(&empty);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&attr, &empty);
  posix_spawnattr_setsigdefault(&attr, &all);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);

  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  std::vector<std::string> env_storage;
  for (char** e = environ; *e != nullptr; ++e) env_storage.push_back(*e);
  for (const std::string& e : options.extra_env) env_storage.push_back(e);
  std::vector<char*> env;
  for (std::string& e : env_storage) env.push_back(e.data());
  env.push_back(nullptr);

  Subprocess process;
  int rc = posix_spawn(&process.pid_, argv[0].c_str(), &actions, &attr, args.data(), env.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  for (int fd : {in[0], out[1], err[1]}) {
    if (fd >= 0) close(fd);
  }
  process.stdin_fd_ = in[1];
  process.stdout_fd_ = out[0];
  process.stderr_fd_ = err[0];
  if (rc != 0) {
    process.pid_ = -1;
    return absl::InternalError(absl::StrCat("cannot start ", argv[0], ": ", strerror(rc)));
  }
  return process;
}

Subprocess::Subprocess(Subprocess&& other) noexcept { *this = std::move(other); }

Subprocess& Subprocess::operator=(Subprocess&& other) noexcept {
  std::swap(pid_, other.pid_);
  std::swap(reaped_, other.reaped_);
  std::swap(exit_code_, other.exit_code_);
  std::swap(stdin_fd_, other.stdin_fd_);
  std::swap(stdout_fd_, other.stdout_fd_);
  std::swap(stderr_fd_, other.stderr_fd_);
  std::swap(stdout_buffer_, other.stdout_buffer_);
  return *this;
}

Subprocess::~Subprocess() {
  if (pid_ > 0 && !reaped_) {
    kill(pid_, SIGKILL);
    int status = 0;
    waitpid(pid_, &status, 0);
  }
  CloseFd(stdin_fd_);
  CloseFd(stdout_fd_);
  CloseFd(stderr_fd_);
}

absl::StatusOr<std::string> Subprocess::ReadLine(absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (true) {
    size_t newline = stdout_buffer_.find('\n');
    if (newline != std::string::npos) {
      std::string line = stdout_buffer_.substr(0, newline);
      stdout_buffer_.erase(0, newline + 1);
      return line;
    }
    if (stdout_fd_ < 0) return absl::FailedPreconditionError("stdout is closed");
    pollfd p{stdout_fd_, POLLIN, 0};
    const int ms = MillisUntil(deadline);
    if (ms == 0) return absl::DeadlineExceededError("no line on stdout in time");
    if (poll(&p, 1, ms) <= 0) continue;
    char buf[4096];
    ssize_t n = read(stdout_fd_, buf, sizeof buf);
    if (n <= 0) {
      CloseFd(stdout_fd_);
      return absl::FailedPreconditionError(
          absl::StrCat("stdout closed before a full line; got \"", stdout_buffer_, "\""));
    }
    stdout_buffer_.append(buf, n);
  }
}

void Subprocess::WriteStdinAndClose(const std::string& data) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = write(stdin_fd_, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    done += n;
  }
  CloseFd(stdin_fd_);
}

absl::StatusOr<int> Subprocess::Communicate(absl::Duration timeout, std::string* out,
                                            std::string* err) {
  const absl::Time deadline = absl::Now() + timeout;
  CloseFd(stdin_fd_);
  if (out != nullptr) *out = std::move(stdout_buffer_);
  stdout_buffer_.clear();
  while (stdout_fd_ >= 0 || stderr_fd_ >= 0) {
    if (absl::Now() >= deadline) {
      Signal(SIGKILL);
      Wait(absl::Seconds(5));
      return absl::DeadlineExceededError("process did not finish in time");
    }
    pollfd fds[2];
    int n = 0;
    if (stdout_fd_ >= 0) fds[n++] = {stdout_fd_, POLLIN, 0};
    if (stderr_fd_ >= 0) fds[n++] = {stderr_fd_, POLLIN, 0};
    if (poll(fds, n, MillisUntil(deadline)) <= 0) continue;
    for (int i = 0; i < n; ++i) {
      if (fds[i].revents == 0) continue;
      char buf[65536];
      ssize_t got = read(fds[i].fd, buf, sizeof buf);
      const bool is_out = fds[i].fd == stdout_fd_;
      if (got <= 0) {
        CloseFd(is_out ? stdout_fd_ : stderr_fd_);
        continue;
      }
      std::string* sink = is_out ? out : err;
      if (sink != nullptr) sink->append(buf, got);
    }
  }
  std::optional<int> code = Wait(deadline - absl::Now());
  if (!code.has_value()) {
    Signal(SIGKILL);
    Wait(absl::Seconds(5));
    return absl::DeadlineExceededError("process did not exit in time");
  }
  return *code;
}

void Subprocess::Signal(int signo) const {
  if (pid_ > 0 && !reaped_) kill(pid_, signo);
}

std::optional<int> Subprocess::Wait(absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (!reaped_) {
    int status = 0;
    pid_t r = waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      Reap(status);
      break;
    }
    if (absl::Now() >= deadline) return std::nullopt;
    absl::SleepFor(absl::Milliseconds(5));
  }
  return exit_code_;
}

bool Subprocess::running() {
  if (reaped_) return false;
  int status = 0;
  if (waitpid(pid_, &status, WNOHANG) == pid_) Reap(status);
  return !reaped_;
}

void Subprocess::Reap(int status) {
  reaped_ = true;
  exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

}  // namespace netpool::testing
