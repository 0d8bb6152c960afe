// NodeAgent is a worker node's link to the scheduler. It keeps one
// WorkerHub.Connect stream open (reconnecting with exponential backoff when
// it breaks), hands the assignments it receives to a ProcessPool, and sends
// finished jobs back in batches together with the credits (free slots) they
// return, plus a heartbeat every heartbeat_seconds. netpool-worker
// (WorkerApp) runs one; so does Pool::Local, inside the caller's process,
// with worker processes spawned from the caller's own executable.
//
//   NodeAgent::Options options;
//   options.scheduler = "127.0.0.1:7340";
//   NodeAgent agent(options);
//   agent.Start();
//   ...
//   agent.Drain(absl::Seconds(30));  // optional: let running jobs finish
//   agent.Stop();
//
// Protocol: the first message of a stream carries hello {name, slots (the
// worker processes), functions (the registered ones, less exec unless the
// policy allows it), labels, held_job_ids}; the scheduler's
// welcome answers it. Each credit lets the scheduler assign one more job.
// The node keeps a window of jobs it may hold (running, queued, or credits
// not yet used): one per worker process, plus up to `prefetch` queued ones
// while its jobs are short, since then the round trip to the scheduler would
// idle the processes between jobs (see PrefetchSizer). Results sent return
// their credits as far as the window allows, so it grows and shrinks with
// the jobs' run time and the measured round trip.
//
// Work survives a broken stream: running jobs keep running, and results that
// could not be sent are kept (at most max_unsent_results; the oldest are
// dropped beyond that, and the scheduler runs those jobs again). A result
// written to the stream is kept too until the scheduler acknowledges it as
// durable (protocol version 1, common/worker_protocol.h), since a write into
// a connection that is already dead succeeds as well. The hello of the next
// stream lists all of them as held_job_ids, and the unacknowledged results
// go out again on it. The scheduler counts the
// held jobs it keeps as running on this node, so its first credits are the
// truly free slots, and answers the others with drop_job_ids in the welcome
// message: the node kills those still running and discards their results,
// with no credit for them. The kept results go out right after the welcome.
#ifndef NETPOOL_WORKER_NODE_AGENT_H_
#define NETPOOL_WORKER_NODE_AGENT_H_

#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/transport.h"
#include "grpcpp/grpcpp.h"
#include "netpool/v1/worker.grpc.pb.h"
#include "worker/prefetch_sizer.h"
#include "worker/process_policy.h"
#include "worker/process_pool.h"
#include "worker/worker_process.h"

namespace netpool {

// One worker process per core (at least one).
int DefaultProcessCount();

// HOSTNAME-PID: unique among the nodes of one host.
std::string DefaultNodeName();

class NodeAgent {
 public:
  struct Options {
    std::string scheduler;  // HOST:PORT
    // TLS and token (see common/transport.h), resolved for each stream.
    ClientSecurity security;
    // Used as is instead of `security` when set (Pool::Local's own token).
    std::optional<ClientTransport> transport;
    // Empty: DefaultNodeName(), and the scheduler may qualify it with the
    // node's credential (see WorkerHello.default_name).
    std::string name;
    int processes = DefaultProcessCount();
    int max_tasks_per_child = 0;  // 0: a worker process serves any number of jobs
    Initializer initializer;      // REQUIRES: CheckInitializer(initializer).ok()
    std::map<std::string, std::string> labels;
    std::string executable = "/proc/self/exe";  // spawned as worker processes
    // What the worker processes may do (exec, limits, user); the default
    // allows no exec, and then the hello does not offer it either.
    ProcessPolicy policy;
    // Called once, on a node thread, when the node gives up: a worker
    // process could not start (kFailedPrecondition, "initializer FN failed:
    // ..." or "cannot apply the node's worker process policy: ..."). The node
    // then starts no more worker processes. It must not call back into the
    // NodeAgent.
    std::function<void(const absl::Status& failure)> on_failure;
    absl::Duration initial_backoff = absl::Milliseconds(100);
    absl::Duration max_backoff = absl::Seconds(5);
    size_t max_unsent_results = 10'000;  // kept across a broken stream
    // At most this many jobs queued on the node beyond its processes, and
    // only about the measured round trip to the scheduler plus
    // prefetch_budget of work per process by the jobs' recent run time (none
    // before one has run): a long job never waits here while another node
    // idles.
    int prefetch = 64;
    absl::Duration prefetch_budget = absl::Milliseconds(10);
    // Told what the worker processes do (netpool-worker --http); may be null.
    // REQUIRES: outlives the agent.
    PoolObserver* observer = nullptr;
  };

  explicit NodeAgent(Options options);
  NodeAgent(const NodeAgent&) = delete;
  NodeAgent& operator=(const NodeAgent&) = delete;
  ~NodeAgent();  // Stop()s

  // Starts the worker processes and the connection to the scheduler.
  void Start();

  // Asks the node to shut down, e.g. on SIGTERM: the first call makes
  // WaitForShutdownRequest return; a later one ends a Drain at once.
  // Thread-safe and non-blocking.
  void RequestShutdown();

  // Blocks until RequestShutdown is called or the node fails (a worker
  // process could not start). Returns that failure, or OK.
  absl::Status WaitForShutdownRequest();

  // Stops taking work: tells the scheduler the node is draining and gives
  // no more credits. Waits up to `grace` for the running jobs to finish and
  // their results to be sent, or until RequestShutdown is called again; then
  // kills what still runs (the scheduler requeues those jobs when the stream
  // ends) and closes the stream. Logs each step.
  void Drain(absl::Duration grace);

  // Closes the stream and stops the worker processes; jobs still running
  // are abandoned.
  void Stop();

 private:
  using Stream = grpc::ClientReaderWriter<v1::WorkerMessage, v1::SchedulerMessage>;

  void ConnectLoop();
  // One stream from hello to its end; true if the scheduler welcomed us.
  bool RunSession(bool* warned);
  v1::WorkerMessage Hello() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  void HandleMessage(v1::SchedulerMessage& message, bool* welcomed, bool* warned);
  void DropHeldJobs(const google::protobuf::RepeatedPtrField<std::string>& job_ids);
  void ForgetAcknowledged(const google::protobuf::RepeatedPtrField<std::string>& job_ids);
  void SendLoop(Stream* stream);
  bool HasMessageToSend() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  void OnResults(std::vector<v1::JobResult> results);
  void OnPoolFailure(const absl::Status& failure);

  // Constant after construction.
  const Options options_;
  const std::string name_;
  const std::string instance_;  // WorkerHello.instance_id

  absl::Mutex mutex_;
  // Something for SendLoop to do. A std::condition_variable_any, unlike
  // absl::CondVar, waits on the monotonic clock: heartbeats keep going when
  // the node's wall clock is set back.
  std::condition_variable_any send_wakeup_;
  bool stopping_ ABSL_GUARDED_BY(mutex_) = false;
  bool closing_ ABSL_GUARDED_BY(mutex_) = false;  // drained: half-close, no new stream
  grpc::ClientContext* context_ ABSL_GUARDED_BY(mutex_) = nullptr;  // of the open stream
  bool session_open_ ABSL_GUARDED_BY(mutex_) = false;
  // The open stream's welcome (and the drops it carried) has been handled:
  // results may go out.
  bool welcomed_ ABSL_GUARDED_BY(mutex_) = false;
  bool sending_ ABSL_GUARDED_BY(mutex_) = false;  // SendLoop is writing a message
  absl::Duration heartbeat_interval_ ABSL_GUARDED_BY(mutex_) = absl::ZeroDuration();
  bool draining_ ABSL_GUARDED_BY(mutex_) = false;
  bool draining_announced_ ABSL_GUARDED_BY(mutex_) = false;  // on the open stream
  int shutdown_requests_ ABSL_GUARDED_BY(mutex_) = 0;
  absl::Status failure_ ABSL_GUARDED_BY(mutex_);
  // Jobs handed to the pool that it has not reported yet.
  std::set<std::string> running_ ABSL_GUARDED_BY(mutex_);
  // Finished jobs not yet sent, oldest first.
  std::deque<v1::JobResult> unsent_ ABSL_GUARDED_BY(mutex_);
  // The scheduler of the open stream acknowledges results.
  bool acks_results_ ABSL_GUARDED_BY(mutex_) = false;
  // Results sent and not acknowledged yet, by job id.
  std::map<std::string, v1::JobResult> unacked_ ABSL_GUARDED_BY(mutex_);
  // Acknowledged while the message carrying them was still being written.
  std::set<std::string> acked_while_sending_ ABSL_GUARDED_BY(mutex_);
  int unsent_dropped_ ABSL_GUARDED_BY(mutex_) = 0;  // since last logged
  // Jobs the scheduler may have this node hold on the open stream: assigned
  // and not yet reported, plus the credits it has not used.
  int window_ ABSL_GUARDED_BY(mutex_) = 0;
  // How large window_ should be.
  PrefetchSizer sizer_ ABSL_GUARDED_BY(mutex_);

  ProcessPool pool_;
  std::thread connect_thread_;
};

}  // namespace netpool

#endif  // NETPOOL_WORKER_NODE_AGENT_H_
