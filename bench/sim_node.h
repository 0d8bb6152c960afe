// SimNode is one simulated worker node of SimNodes: the reactor of its
// WorkerHub.Connect stream. It says hello with `slots` slots and the "echo"
// function, answers each assignment at once with echo's result and one
// credit, heartbeats when asked to, and forgets results once acknowledged.
// Its reactions only queue and start writes; nothing in them blocks.
#ifndef NETPOOL_BENCH_SIM_NODE_H_
#define NETPOOL_BENCH_SIM_NODE_H_

#include <cstdint>
#include <string>

#include "absl/container/flat_hash_set.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "grpcpp/client_context.h"
#include "grpcpp/support/client_callback.h"
#include "netpool/v1/worker.grpc.pb.h"

namespace netpool::bench {

class SimNode final
    : public grpc::ClientBidiReactor<v1::WorkerMessage, v1::SchedulerMessage> {
 public:
  SimNode(std::string name, int slots) : name_(std::move(name)), slots_(slots) {}

  // The call's context, for the caller to authorize before Start.
  grpc::ClientContext& context() { return context_; }
  // Opens the stream and sends the hello.
  void Start(v1::WorkerHub::Stub& stub);
  // Sends a heartbeat with the next message.
  void Heartbeat();
  // What the welcome asked for; zero until it came.
  absl::Duration heartbeat_interval() const;
  // Ends the stream and returns once gRPC is done with it.
  void Stop();

 private:
  void OnReadDone(bool ok) override;
  void OnWriteDone(bool ok) override;
  void OnDone(const grpc::Status& status) override;
  // Queues the answer to `message`: results, credits, what was acknowledged.
  void Answer(const v1::SchedulerMessage& message) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Starts writing what queued, unless a write is in flight (its end does).
  // Called without mu_: gRPC may run a reaction inside StartWrite.
  void Flush() ABSL_LOCKS_EXCLUDED(mu_);

  const std::string name_;
  const int slots_;
  grpc::ClientContext context_;
  // Read into by one read at a time; only the read reaction touches it.
  v1::SchedulerMessage incoming_;

  mutable absl::Mutex mu_;
  // Owned by the write in flight; set up under mu_ by whoever starts it.
  v1::WorkerMessage in_flight_;
  v1::WorkerMessage queued_ ABSL_GUARDED_BY(mu_);
  bool has_queued_ ABSL_GUARDED_BY(mu_) = false;
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool broken_ ABSL_GUARDED_BY(mu_) = false;  // a read or write failed
  bool done_ ABSL_GUARDED_BY(mu_) = false;
  // Results sent and not acknowledged yet, as a real node keeps them.
  absl::flat_hash_set<std::string> unacknowledged_ ABSL_GUARDED_BY(mu_);
  absl::Duration heartbeat_interval_ ABSL_GUARDED_BY(mu_);
};

}  // namespace netpool::bench

#endif  // NETPOOL_BENCH_SIM_NODE_H_
