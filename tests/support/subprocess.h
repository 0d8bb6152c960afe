// Subprocess runs a real program for a test: started with posix_spawn by
// absolute path (so the pid is the program, not a shell), optionally with
// its stdin/stdout/stderr on pipes. The destructor kills and reaps it, so a
// failing test leaves no process behind.
#ifndef NETPOOL_TESTS_SUPPORT_SUBPROCESS_H_
#define NETPOOL_TESTS_SUPPORT_SUBPROCESS_H_

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace netpool::testing {

class Subprocess {
 public:
  struct Options {
    bool pipe_stdin = false;
    bool pipe_stdout = false;
    bool pipe_stderr = false;
    std::vector<std::string> extra_env;  // "NAME=value"
  };

  static absl::StatusOr<Subprocess> Start(const std::vector<std::string>& argv, Options options);
  static absl::StatusOr<Subprocess> Start(const std::vector<std::string>& argv) {
    return Start(argv, Options());
  }

  // An empty handle, for members assigned later.
  Subprocess() = default;
  Subprocess(Subprocess&& other) noexcept;
  Subprocess& operator=(Subprocess&& other) noexcept;
  ~Subprocess();

  pid_t pid() const { return pid_; }

  // Reads one line from stdout (without the newline), waiting up to
  // `timeout`. REQUIRES: pipe_stdout.
  absl::StatusOr<std::string> ReadLine(absl::Duration timeout);

  // Writes `data` to stdin and closes it. REQUIRES: pipe_stdin.
  void WriteStdinAndClose(const std::string& data);

  // Collects stdout/stderr until both close, then waits for exit. Returns the
  // exit code (128 + signal when killed); kDeadlineExceeded when `timeout`
  // passes (the process is then killed).
  absl::StatusOr<int> Communicate(absl::Duration timeout, std::string* out, std::string* err);

  void Signal(int signo) const;
  // Waits for exit; nullopt on timeout. Exit code, or 128 + signal.
  std::optional<int> Wait(absl::Duration timeout);
  bool running();

 private:
  void Reap(int status);

  pid_t pid_ = -1;
  bool reaped_ = false;
  int exit_code_ = -1;
  int stdin_fd_ = -1;
  int stdout_fd_ = -1;
  int stderr_fd_ = -1;
  std::string stdout_buffer_;
};

}  // namespace netpool::testing

#endif  // NETPOOL_TESTS_SUPPORT_SUBPROCESS_H_
