// NodeAgent is a worker node's link to the scheduler. It keeps one
// WorkerHub.Connect stream open (reconnecting with exponential backoff when
// it breaks), hands the assignments it receives to a ProcessPool, and sends
// finished jobs back in batches together with the credits (free slots) they
// return, plus a heartbeat every heartbeat_seconds.
//
// Protocol: the first message carries hello {name, slots, functions,
// labels}; its slots are the initial credits. Each result sent returns one
// credit. After a reconnect the node announces all its slots afresh, so jobs
// of the old stream still running are abandoned (the scheduler has requeued
// them) and their results are not sent.
#ifndef NETPOOL_WORKER_NODE_AGENT_H_
#define NETPOOL_WORKER_NODE_AGENT_H_

#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "grpcpp/grpcpp.h"
#include "netpool/v1/netpool.grpc.pb.h"
#include "worker/process_pool.h"

namespace netpool {

class NodeAgent {
 public:
  struct Options {
    std::string scheduler;  // HOST:PORT
    std::string name;
    int processes = 1;
    int max_tasks_per_child = 0;
    std::map<std::string, std::string> labels;
    std::string executable = "/proc/self/exe";  // spawned as worker processes
    absl::Duration initial_backoff = absl::Milliseconds(100);
    absl::Duration max_backoff = absl::Seconds(5);
  };

  explicit NodeAgent(Options options);
  NodeAgent(const NodeAgent&) = delete;
  NodeAgent& operator=(const NodeAgent&) = delete;
  ~NodeAgent();  // Stop()s

  // Starts the worker processes and the connection to the scheduler.
  void Start();

  // Closes the stream and stops the worker processes.
  void Stop();

 private:
  using Stream = grpc::ClientReaderWriter<v1::WorkerMessage, v1::SchedulerMessage>;

  void ConnectLoop();
  // One stream from hello to its end; true if the scheduler welcomed us.
  bool RunSession(bool* warned);
  void SendLoop(Stream* stream);
  void OnResults(std::vector<v1::JobResult> results);

  // Constant after construction.
  const Options options_;
  std::unique_ptr<v1::WorkerHub::Stub> stub_;

  absl::Mutex mutex_;
  absl::CondVar outbox_changed_;
  bool stopping_ ABSL_GUARDED_BY(mutex_) = false;
  grpc::ClientContext* context_ ABSL_GUARDED_BY(mutex_) = nullptr;  // of the open stream
  bool session_open_ ABSL_GUARDED_BY(mutex_) = false;               // results are kept for sending
  std::vector<v1::JobResult> outbox_ ABSL_GUARDED_BY(mutex_);
  absl::Duration heartbeat_interval_ ABSL_GUARDED_BY(mutex_) = absl::ZeroDuration();

  ProcessPool pool_;
  std::thread connect_thread_;
};

}  // namespace netpool

#endif  // NETPOOL_WORKER_NODE_AGENT_H_
