// fault-worker: a netpool worker node for the fault-injection suite. Same
// flags as netpool-worker, plus one function:
//
//   nonce(arg [, sleep_ms]) -> [arg, a random 64-bit integer]
//
// Each execution draws a new random number, so two executions of one job
// (at-least-once) almost surely return different results: a test that
// compares the result a client first received with the one the scheduler
// holds at the end sees any result recorded twice, or replaced.
//
// With NETPOOL_FAULT_EXECUTIONS=FILE in its environment, every execution also
// appends one line "JOB_ID NODE_PID\n" to FILE before it starts, so that a test
// counts the executions themselves, not only the results (see
// execution_log.h): a job run twice whose second result was dropped still
// shows. NODE_PID is the worker node's pid (the worker process's parent).
#include <fcntl.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "netpool/netpool.h"

namespace {

// Appends this execution of `job_id` to $NETPOOL_FAULT_EXECUTIONS, if set.
// One write() of a short line to an O_APPEND file: lines of concurrent
// processes never interleave, and a line written is on the node's side for
// good, whatever happens to the scheduler afterwards.
absl::Status RecordExecution(const std::string& job_id) {
  const char* path = std::getenv("NETPOOL_FAULT_EXECUTIONS");
  if (path == nullptr || *path == '\0') return absl::OkStatus();
  const std::string line = absl::StrCat(job_id, " ", getppid(), "\n");
  const int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return absl::InternalError(absl::StrCat("cannot open ", path));
  const ssize_t written = write(fd, line.data(), line.size());
  close(fd);
  if (written != static_cast<ssize_t>(line.size())) {
    return absl::InternalError(absl::StrCat("cannot append to ", path));
  }
  return absl::OkStatus();
}

absl::StatusOr<netpool::Value> Nonce(const std::vector<netpool::Value>& args,
                                     netpool::TaskContext& context) {
  if (args.empty() || args.size() > 2 || (args.size() == 2 && !args[1].is_int())) {
    return absl::InvalidArgumentError("nonce takes (arg [, sleep_ms])");
  }
  if (absl::Status recorded = RecordExecution(context.job_id()); !recorded.ok()) return recorded;
  if (args.size() == 2) absl::SleepFor(absl::Milliseconds(args[1].AsInt()));
  // One generator per process, seeded from the OS: processes spawned at the
  // same moment must not draw the same numbers.
  static std::mt19937_64 random(std::random_device{}());
  return netpool::ValueList{args[0], static_cast<int64_t>(random())};
}

}  // namespace

int main(int argc, char** argv) {
  netpool::Register("nonce", Nonce);
  return netpool::WorkerApp().Main(argc, argv);
}
