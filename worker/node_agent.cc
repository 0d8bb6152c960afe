#include "worker/node_agent.h"

#include <algorithm>

#include "absl/random/random.h"
#include "common/grpc_status.h"
#include "netpool/worker.h"
#include "spdlog/spdlog.h"

namespace netpool {
namespace {

std::shared_ptr<grpc::Channel> MakeChannel(const NodeAgent::Options& options) {
  grpc::ChannelArguments args;
  // gRPC's own reconnect backoff grows to two minutes; ours stops at
  // max_backoff, and a call on a channel still backing off fails at once.
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS,
              static_cast<int>(absl::ToInt64Milliseconds(options.initial_backoff)));
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS,
              static_cast<int>(absl::ToInt64Milliseconds(options.initial_backoff)));
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS,
              static_cast<int>(absl::ToInt64Milliseconds(options.max_backoff)));
  // Assignments carry arguments of any size the scheduler accepted.
  args.SetMaxReceiveMessageSize(-1);
  return grpc::CreateCustomChannel(options.scheduler, grpc::InsecureChannelCredentials(), args);
}

v1::WorkerMessage Hello(const NodeAgent::Options& options) {
  v1::WorkerMessage message;
  v1::WorkerHello* hello = message.mutable_hello();
  hello->set_name(options.name);
  hello->set_slots(options.processes);
  for (const std::string& name : RegisteredFunctions()) hello->add_functions(name);
  hello->mutable_labels()->insert(options.labels.begin(), options.labels.end());
  return message;
}

}  // namespace

NodeAgent::NodeAgent(Options options)
    : options_(std::move(options)),
      stub_(v1::WorkerHub::NewStub(MakeChannel(options_))),
      pool_({options_.processes, options_.max_tasks_per_child, options_.executable},
            [this](std::vector<v1::JobResult> results) { OnResults(std::move(results)); }) {}

NodeAgent::~NodeAgent() { Stop(); }

void NodeAgent::Start() {
  pool_.Start();
  connect_thread_ = std::thread([this] { ConnectLoop(); });
}

void NodeAgent::Stop() {
  {
    absl::MutexLock lock(&mutex_);
    stopping_ = true;
    if (context_ != nullptr) context_->TryCancel();
  }
  if (connect_thread_.joinable()) connect_thread_.join();
  pool_.Stop();
}

void NodeAgent::OnResults(std::vector<v1::JobResult> results) {
  absl::MutexLock lock(&mutex_);
  if (!session_open_) return;  // the scheduler requeues what it did not hear back about
  std::move(results.begin(), results.end(), std::back_inserter(outbox_));
  outbox_changed_.Signal();
}

void NodeAgent::ConnectLoop() {
  absl::BitGen random;
  absl::Duration backoff = options_.initial_backoff;
  bool warned = false;  // about the current run of failed attempts
  while (true) {
    if (RunSession(&warned)) backoff = options_.initial_backoff;
    // Jitter keeps a fleet of nodes from reconnecting in lockstep.
    absl::Duration delay = backoff * absl::Uniform(random, 0.5, 1.0);
    backoff = std::min(backoff * 2, options_.max_backoff);
    absl::MutexLock lock(&mutex_);
    if (mutex_.AwaitWithTimeout(absl::Condition(&stopping_), delay)) return;
  }
}

bool NodeAgent::RunSession(bool* warned) {
  grpc::ClientContext context;
  {
    absl::MutexLock lock(&mutex_);
    if (stopping_) return false;
    context_ = &context;
  }
  std::unique_ptr<Stream> stream = stub_->Connect(&context);
  // The hello announces every slot as free: jobs of an earlier stream must
  // not hold any of them, nor report into this one.
  pool_.AbandonAll();
  {
    absl::MutexLock lock(&mutex_);
    outbox_.clear();
    heartbeat_interval_ = absl::ZeroDuration();
    session_open_ = true;
  }
  std::thread sender;
  bool welcomed = false;
  if (stream->Write(Hello(options_))) {
    sender = std::thread([this, &stream] { SendLoop(stream.get()); });
    v1::SchedulerMessage message;
    while (stream->Read(&message)) {
      if (message.has_welcome()) {
        welcomed = true;
        *warned = false;
        spdlog::info("connected to scheduler {} as worker {} with {} processes", options_.scheduler,
                     message.welcome().worker_id(), options_.processes);
        absl::MutexLock lock(&mutex_);
        heartbeat_interval_ = absl::Seconds(message.welcome().heartbeat_seconds());
        outbox_changed_.Signal();
      }
      for (v1::Assignment& assignment : *message.mutable_assignments()) {
        pool_.Run(std::move(assignment));
      }
      for (const std::string& job_id : message.cancel_job_ids()) pool_.Cancel(job_id);
    }
  }
  {
    absl::MutexLock lock(&mutex_);
    session_open_ = false;
    context_ = nullptr;
    outbox_changed_.Signal();
  }
  // The call is over once Read fails, so a Write in progress fails too.
  if (sender.joinable()) sender.join();
  std::string status = FromGrpcStatus(stream->Finish()).ToString();
  absl::MutexLock lock(&mutex_);
  if (stopping_) return welcomed;
  if (welcomed) {
    spdlog::warn("disconnected from scheduler {}: {}; reconnecting", options_.scheduler, status);
  } else if (!*warned) {
    spdlog::warn("cannot connect to scheduler {}: {}; retrying", options_.scheduler, status);
    *warned = true;
  } else {
    spdlog::debug("cannot connect to scheduler {}: {}", options_.scheduler, status);
  }
  return welcomed;
}

void NodeAgent::SendLoop(Stream* stream) {
  absl::Time last_heartbeat = absl::Now();
  while (true) {
    v1::WorkerMessage message;
    {
      absl::MutexLock lock(&mutex_);
      while (session_open_ && outbox_.empty()) {
        absl::Time heartbeat_at = heartbeat_interval_ > absl::ZeroDuration()
                                      ? last_heartbeat + heartbeat_interval_
                                      : absl::InfiniteFuture();
        if (absl::Now() >= heartbeat_at) break;
        outbox_changed_.WaitWithDeadline(&mutex_, heartbeat_at);
      }
      if (!session_open_) return;
      // Every result returns the slot its job held.
      message.set_credits(static_cast<int>(outbox_.size()));
      for (v1::JobResult& result : outbox_) *message.add_results() = std::move(result);
      outbox_.clear();
      if (heartbeat_interval_ > absl::ZeroDuration() &&
          absl::Now() >= last_heartbeat + heartbeat_interval_) {
        message.set_heartbeat(true);
        last_heartbeat = absl::Now();
      }
    }
    if (!stream->Write(message)) return;  // the reader sees the broken stream too
  }
}

}  // namespace netpool
