// The worker SDK: register C++ functions that netpool jobs can call, then
// hand main() to WorkerApp to get a worker node with the same flags as the
// stock netpool-worker (built-ins exec, echo and sleep included; exec only
// with --allow-exec).
//
//   absl::StatusOr<netpool::Value> Square(const std::vector<netpool::Value>& args,
//                                         netpool::TaskContext&) {
//     return args.at(0).AsInt() * args.at(0).AsInt();
//   }
//   static const bool kRegistered = netpool::Register("square", Square);
//
//   int main(int argc, char** argv) {
//     netpool::Init(argc, argv);  // a spawned worker process never returns from here
//     return netpool::WorkerApp().Main(argc, argv);
//   }
//
// Worker processes are fresh copies of the executable (posix_spawn, no
// fork): a function exists in them only if registering it happens before
// Init, either at namespace scope as above or in main() before Init.
#ifndef NETPOOL_WORKER_H_
#define NETPOOL_WORKER_H_

#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "netpool/value.h"

namespace netpool {

// What a running task knows about itself.
class TaskContext {
 public:
  TaskContext(std::string job_id, int attempt, absl::Duration timeout)
      : job_id_(std::move(job_id)), attempt_(attempt), timeout_(timeout) {}
  const std::string& job_id() const { return job_id_; }
  int attempt() const { return attempt_; }
  // The job's run-time limit; zero = none.
  absl::Duration timeout() const { return timeout_; }

 private:
  std::string job_id_;
  int attempt_;
  absl::Duration timeout_;
};

// A task: arguments in, a value or an error out. An error status fails the
// job with that status code and message.
using TaskFunction =
    std::function<absl::StatusOr<Value>(const std::vector<Value>& args, TaskContext& context)>;

// Adds `fn` to the process-wide registry under `name` (replacing any earlier
// one). Call it before Init: at namespace scope through the returned value,
// which is always true, or at the top of main(). A function registered after
// Init is missing from the worker processes, which run their loop inside Init.
bool Register(std::string name, TaskFunction fn);

// The names of all registered functions, sorted.
std::vector<std::string> RegisteredFunctions();

// First line of main() in a program whose executable is spawned as a worker
// process (a WorkerApp, or a program that uses Pool::Local): when argv says
// this process is one, Init runs its initializer (--init) and then the worker
// process loop, and exits without returning; otherwise it returns at once.
void Init(int argc, char** argv);

// A worker node: connects to the scheduler, runs worker processes spawned
// from this same executable, and serves the registered functions.
class WorkerApp {
 public:
  // Parses the netpool-worker flags from argv and runs until SIGTERM/SIGINT,
  // then drains: running jobs get --grace seconds to finish (a second signal
  // ends them at once). Returns the process exit code: 0 after a signal, 64
  // for bad flags (an unknown --init function or --run-as user included), 1
  // when a worker process could not start (its initializer failed, or it
  // could not take on the --run-as user or limits), 69 when the --http
  // address cannot be bound.
  int Main(int argc, char** argv);
};

}  // namespace netpool

#endif  // NETPOOL_WORKER_H_
