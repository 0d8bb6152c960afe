// The worker SDK: register C++ functions that netpool jobs can call, then
// hand main() to WorkerApp to get a worker node with the same flags as the
// stock netpool-worker (built-ins exec, echo and sleep included).
//
//   absl::StatusOr<netpool::Value> Square(const std::vector<netpool::Value>& args,
//                                         netpool::TaskContext&) {
//     return args.at(0).AsInt() * args.at(0).AsInt();
//   }
//   int main(int argc, char** argv) {
//     netpool::Register("square", Square);
//     return netpool::WorkerApp().Main(argc, argv);
//   }
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
// one). Call it at start-up, before WorkerApp::Main or Init.
void Register(std::string name, TaskFunction fn);

// The names of all registered functions, sorted.
std::vector<std::string> RegisteredFunctions();

// First line of main() in a program whose executable is spawned as a worker
// process: when argv says this process is one, Init runs the worker process
// loop and exits; otherwise it returns at once.
void Init(int argc, char** argv);

// A worker node: connects to the scheduler, runs worker processes spawned
// from this same executable, and serves the registered functions.
class WorkerApp {
 public:
  // Parses the netpool-worker flags from argv and runs until SIGTERM/SIGINT.
  // Returns the process exit code.
  int Main(int argc, char** argv);
};

}  // namespace netpool

#endif  // NETPOOL_WORKER_H_
