// LocalPool is the cluster that Pool::Local and `netpool map --local` run
// inside the caller's own process, so that nothing has to be started first:
// a scheduler (SchedulerRuntime over a MemoryStore, served by netpoold's own
// gRPC services on 127.0.0.1 with an OS-picked port) and one worker node whose
// processes are spawned from the caller's executable (/proc/self/exe) in the
// worker child mode. The caller talks to it through an ordinary PoolClient,
// so a local pool behaves exactly as a remote one; that client owns the
// LocalPool, which therefore lives until the Pool and all of its results are
// gone (as a Python Pool lives while its AsyncResults do).
//
// The program must call netpool::Init(argc, argv) first thing in main():
// that is where the spawned copies of it turn into worker processes.
//
//   absl::StatusOr<std::unique_ptr<LocalPool>> local = LocalPool::Start(4);
//   absl::StatusOr<std::shared_ptr<PoolClient>> client = ConnectLocalPool(*std::move(local));
#ifndef NETPOOL_CLIENT_LOCAL_POOL_H_
#define NETPOOL_CLIENT_LOCAL_POOL_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "client/pool_client.h"

namespace grpc {
class Server;
}  // namespace grpc

namespace netpool {

class Authenticator;
class Clock;
class NodeAgent;
class SchedulerRuntime;
class SchedulerService;
class WorkerHubService;

namespace internal {

class LocalPool {
 public:
  // Starts the scheduler and a node of `processes` worker processes (0: one
  // per core), and returns once the scheduler counts the node's slots.
  // Errors: kInvalidArgument for a negative count; kFailedPrecondition when
  // called in a worker process (main() did not call netpool::Init first);
  // kUnavailable when the server or the node cannot start.
  static absl::StatusOr<std::unique_ptr<LocalPool>> Start(int processes);

  // Stops the worker processes (and waits until they are gone), then the
  // server.
  ~LocalPool();
  LocalPool(const LocalPool&) = delete;
  LocalPool& operator=(const LocalPool&) = delete;

  // Where the embedded scheduler listens: 127.0.0.1:PORT.
  const std::string& address() const { return address_; }
  // The one token the embedded scheduler accepts, fresh and random, known
  // only to this process: other local users cannot use the pool.
  const std::string& token() const { return token_; }

  // Stops the worker processes, and the commands they started, now: for a
  // program that is being interrupted. Jobs still running are abandoned.
  void StopWorkers();

 private:
  LocalPool() = default;

  // Declared in the order they start; torn down in reverse.
  std::unique_ptr<Clock> clock_;
  std::string token_;
  std::unique_ptr<Authenticator> authenticator_;
  std::unique_ptr<SchedulerRuntime> runtime_;
  std::unique_ptr<SchedulerService> scheduler_service_;
  std::unique_ptr<WorkerHubService> worker_hub_service_;
  std::unique_ptr<grpc::Server> server_;
  std::string address_;
  std::unique_ptr<NodeAgent> node_;
};

// A client connected to `pool` that owns it.
absl::StatusOr<std::shared_ptr<PoolClient>> ConnectLocalPool(std::shared_ptr<LocalPool> pool);

}  // namespace internal
}  // namespace netpool

#endif  // NETPOOL_CLIENT_LOCAL_POOL_H_
