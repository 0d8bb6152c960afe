#include "bench/sim_node.h"

#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "common/worker_protocol.h"
#include "netpool/v1/worker.grpc.pb.h"

namespace netpool::bench {
namespace {

// What the "echo" built-in returns for `args`: the list of them.
v1::Value Echo(const google::protobuf::RepeatedPtrField<v1::Value>& args) {
  v1::Value value;
  *value.mutable_list_value()->mutable_items() = args;
  return value;
}

// Echo's result for a whole assignment: one per chunk entry, when chunked.
v1::Value EchoResult(const v1::Assignment& assignment) {
  if (assignment.chunk().empty()) return Echo(assignment.args());
  v1::Value results;
  for (const v1::ValueList& entry : assignment.chunk()) {
    *results.mutable_list_value()->add_items() = Echo(entry.items());
  }
  return results;
}

}  // namespace

void SimNode::Start(v1::WorkerHub::Stub& stub) {
  stub.async()->Connect(&context_, this);
  {
    absl::MutexLock lock(&mu_);
    v1::WorkerHello* hello = queued_.mutable_hello();
    hello->set_name(name_);
    hello->set_slots(slots_);
    hello->add_functions("echo");
    hello->set_instance_id(absl::StrCat(name_, "-", getpid()));
    hello->set_protocol_version(kWorkerProtocolVersion);
    has_queued_ = true;
  }
  Flush();
  StartRead(&incoming_);
  StartCall();
}

void SimNode::Heartbeat() {
  {
    absl::MutexLock lock(&mu_);
    queued_.set_heartbeat(true);
    has_queued_ = true;
  }
  Flush();
}

absl::Duration SimNode::heartbeat_interval() const {
  absl::MutexLock lock(&mu_);
  return heartbeat_interval_;
}

void SimNode::Stop() {
  context_.TryCancel();
  absl::MutexLock lock(&mu_);
  mu_.Await(absl::Condition(&done_));
}

void SimNode::OnReadDone(bool ok) {
  {
    absl::MutexLock lock(&mu_);
    if (!ok) {
      broken_ = true;
      return;
    }
    Answer(incoming_);
  }
  Flush();
  StartRead(&incoming_);
}

void SimNode::Answer(const v1::SchedulerMessage& message) {
  if (message.has_welcome()) {
    heartbeat_interval_ = absl::Seconds(message.welcome().heartbeat_seconds());
  }
  for (const std::string& id : message.acked_job_ids()) unacknowledged_.erase(id);
  if (message.assignments().empty()) return;
  for (const v1::Assignment& assignment : message.assignments()) {
    v1::JobResult* result = queued_.add_results();
    result->set_job_id(assignment.job_id());
    result->set_state(v1::SUCCEEDED);
    *result->mutable_value() = EchoResult(assignment);
    unacknowledged_.insert(assignment.job_id());
  }
  // Each answered assignment frees its slot at once.
  queued_.set_credits(queued_.credits() + message.assignments_size());
  has_queued_ = true;
}

void SimNode::Flush() {
  {
    absl::MutexLock lock(&mu_);
    if (writing_ || broken_ || !has_queued_) return;
    in_flight_.Clear();
    in_flight_.Swap(&queued_);
    has_queued_ = false;
    writing_ = true;
  }
  StartWrite(&in_flight_);
}

void SimNode::OnWriteDone(bool ok) {
  {
    absl::MutexLock lock(&mu_);
    writing_ = false;
    if (!ok) {
      broken_ = true;
      return;
    }
  }
  Flush();
}

void SimNode::OnDone(const grpc::Status&) {
  absl::MutexLock lock(&mu_);
  done_ = true;
}

}  // namespace netpool::bench
