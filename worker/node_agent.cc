#include "worker/node_agent.h"

#include <unistd.h>

#include <algorithm>
#include <utility>

#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "common/batching.h"
#include "common/grpc_status.h"
#include "common/local_token.h"
#include "common/monotonic_clock.h"
#include "common/worker_protocol.h"
#include "netpool/v1/worker.grpc.pb.h"
#include "netpool/worker.h"
#include "spdlog/spdlog.h"
#include "worker/builtins.h"

namespace netpool {
namespace {

// How long a drained node waits for the scheduler to end the stream after
// the node closed its side, before it cuts the stream.
constexpr absl::Duration kCloseTimeout = absl::Seconds(5);

// A fresh channel for each stream: a channel whose connection failed keeps
// failing calls at once for gRPC's own reconnect backoff, even after the
// scheduler is back, so that a node would rejoin seconds late. With a new
// channel, the node's backoff alone decides when it tries again.
std::unique_ptr<v1::WorkerHub::Stub> NewStub(const std::string& scheduler,
                                             const ClientTransport& transport) {
  grpc::ChannelArguments args;
  // Assignments carry arguments of any size the scheduler accepted.
  args.SetMaxReceiveMessageSize(-1);
  return v1::WorkerHub::NewStub(transport.NewChannel(scheduler, args));
}

}  // namespace

int DefaultProcessCount() {
  return static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

std::string DefaultNodeName() {
  char host[256] = {};
  ::gethostname(host, sizeof(host) - 1);
  return absl::StrCat(host, "-", ::getpid());
}

NodeAgent::NodeAgent(Options options)
    : options_(std::move(options)),
      name_(options_.name.empty() ? DefaultNodeName() : options_.name),
      instance_(NewToken().substr(0, 32)),
      sizer_({options_.processes, options_.prefetch, options_.prefetch_budget}),
      pool_({.processes = options_.processes,
             .max_tasks_per_child = options_.max_tasks_per_child,
             .executable = options_.executable,
             .initializer = options_.initializer,
             .policy = options_.policy,
             .observer = options_.observer},
            [this](std::vector<v1::JobResult> results) { OnResults(std::move(results)); },
            [this](const absl::Status& failure) { OnPoolFailure(failure); }) {}

NodeAgent::~NodeAgent() { Stop(); }

void NodeAgent::Start() {
  pool_.Start();
  connect_thread_ = std::thread([this] { ConnectLoop(); });
}

void NodeAgent::RequestShutdown() {
  absl::MutexLock lock(&mutex_);
  ++shutdown_requests_;
}

absl::Status NodeAgent::WaitForShutdownRequest() {
  absl::MutexLock lock(&mutex_);
  auto asked = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_) {
    return shutdown_requests_ > 0 || !failure_.ok();
  };
  mutex_.Await(absl::Condition(&asked));
  return failure_;
}

void NodeAgent::Drain(absl::Duration grace) {
  const absl::Time deadline = absl::Now() + grace;
  int requests_before;
  size_t running;
  {
    absl::MutexLock lock(&mutex_);
    draining_ = true;
    requests_before = shutdown_requests_;
    running = running_.size();
    send_wakeup_.notify_one();
  }
  spdlog::info("draining: taking no more jobs; waiting up to {} for {} running jobs",
               absl::FormatDuration(grace), running);
  bool drained, hurried;
  size_t unsent;
  {
    absl::MutexLock lock(&mutex_);
    auto all_sent = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_) {
      return running_.empty() && unsent_.empty() && unacked_.empty() && !sending_;
    };
    auto settled = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_) {
      return all_sent() || shutdown_requests_ > requests_before || stopping_;
    };
    mutex_.AwaitWithDeadline(absl::Condition(&settled), deadline);
    drained = all_sent();
    hurried = shutdown_requests_ > requests_before;
    running = running_.size();
    unsent = unsent_.size() + unacked_.size();
  }
  if (drained) {
    spdlog::info("drained: every job finished and the scheduler has its result");
  } else {
    spdlog::info(
        "{}: killing {} running jobs, which the scheduler requeues; {} results not acknowledged",
        hurried ? "asked again to stop" : "grace period over", running, unsent);
    pool_.AbandonAll();
    absl::MutexLock lock(&mutex_);
    running_.clear();
  }
  spdlog::info("closing the connection to the scheduler");
  absl::MutexLock lock(&mutex_);
  closing_ = true;
  send_wakeup_.notify_one();
  auto closed = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_) { return !session_open_; };
  mutex_.AwaitWithTimeout(absl::Condition(&closed), kCloseTimeout);
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
  for (v1::JobResult& result : results) {
    running_.erase(result.job_id());
    unsent_.push_back(std::move(result));
  }
  if (std::optional<absl::Duration> run_time = pool_.RecentRunTime()) sizer_.JobRunTime(*run_time);
  while (unsent_.size() > options_.max_unsent_results) {
    if (unsent_dropped_++ == 0) {
      spdlog::warn(
          "more than {} results unsent: dropping the oldest (job {}); the scheduler runs such "
          "jobs again",
          options_.max_unsent_results, unsent_.front().job_id());
    }
    unsent_.pop_front();
  }
  send_wakeup_.notify_one();
}

void NodeAgent::OnPoolFailure(const absl::Status& failure) {
  {
    absl::MutexLock lock(&mutex_);
    failure_ = failure;
  }
  if (options_.on_failure) options_.on_failure(failure);
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
    auto done = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_) { return stopping_ || closing_; };
    if (mutex_.AwaitWithTimeout(absl::Condition(&done), delay)) return;
  }
}

v1::WorkerMessage NodeAgent::Hello() {
  v1::WorkerMessage message;
  v1::WorkerHello* hello = message.mutable_hello();
  hello->set_name(name_);
  hello->set_default_name(options_.name.empty());
  hello->set_instance_id(instance_);
  hello->set_protocol_version(kWorkerProtocolVersion);
  hello->set_slots(options_.processes);
  hello->set_prefetch(options_.prefetch);
  for (const std::string& name : RegisteredFunctions()) {
    // So that the scheduler refuses exec jobs here rather than fail them.
    if (name == kExecFunction && !CheckExecAllowed(options_.policy).ok()) continue;
    hello->add_functions(name);
  }
  hello->mutable_labels()->insert(options_.labels.begin(), options_.labels.end());
  std::set<std::string> held = running_;
  for (const v1::JobResult& result : unsent_) held.insert(result.job_id());
  for (const auto& [job_id, result] : unacked_) held.insert(job_id);
  for (const std::string& job_id : held) hello->add_held_job_ids(job_id);
  return message;
}

bool NodeAgent::RunSession(bool* warned) {
  grpc::ClientContext context;
  v1::WorkerMessage hello;
  {
    absl::MutexLock lock(&mutex_);
    if (stopping_ || closing_) return false;
    context_ = &context;
    session_open_ = true;
    welcomed_ = false;
    draining_announced_ = false;
    heartbeat_interval_ = absl::ZeroDuration();
    hello = Hello();
  }
  // Resolved for each stream: a token file may have changed meanwhile (a
  // volatile scheduler restarted with a new token, or a token rotated).
  absl::StatusOr<ClientTransport> transport =
      options_.transport.has_value()
          ? *options_.transport
          : ClientTransport::Create(options_.scheduler, options_.security);
  if (!transport.ok()) {
    if (!*warned) spdlog::warn("cannot connect to scheduler {}: {}", options_.scheduler,
                               std::string(transport.status().message()));
    *warned = true;
    absl::MutexLock lock(&mutex_);
    session_open_ = false;
    context_ = nullptr;
    return false;
  }
  transport->Authorize(context);
  std::unique_ptr<v1::WorkerHub::Stub> stub = NewStub(options_.scheduler, *transport);
  std::unique_ptr<Stream> stream = stub->Connect(&context);
  std::thread sender;
  bool welcomed = false;
  if (stream->Write(hello)) {
    sender = std::thread([this, &stream] { SendLoop(stream.get()); });
    v1::SchedulerMessage message;
    while (stream->Read(&message)) {
      // Drops before the welcome they come with: once welcomed, kept
      // results go out, and a dropped job's must not.
      if (!message.drop_job_ids().empty()) DropHeldJobs(message.drop_job_ids());
      if (message.has_welcome()) {
        welcomed = true;
        *warned = false;
        spdlog::info(
            "connected to scheduler {} as worker {} with {} processes, holding {} jobs from "
            "before ({} dropped)",
            options_.scheduler, message.welcome().worker_id(), options_.processes,
            hello.hello().held_job_ids_size(), message.drop_job_ids_size());
        absl::MutexLock lock(&mutex_);
        if (unsent_dropped_ > 0) {
          spdlog::warn("dropped {} unsent results beyond the {} kept", unsent_dropped_,
                       options_.max_unsent_results);
          unsent_dropped_ = 0;
        }
        welcomed_ = true;
        acks_results_ = message.welcome().protocol_version() >= kFirstVersionWithResultAcks;
        // Maybe lost with the old stream: sent again, ahead of newer ones.
        for (auto& [job_id, result] : unacked_) unsent_.push_front(std::move(result));
        unacked_.clear();
        // The scheduler keeps the held jobs it did not drop as running here
        // and gives credits up to the processes plus prefetch.
        const int held = static_cast<int>(running_.size() + unsent_.size());
        window_ = std::min(held + options_.processes, options_.processes + options_.prefetch);
        sizer_.NewStream();
        heartbeat_interval_ = absl::Seconds(message.welcome().heartbeat_seconds());
        send_wakeup_.notify_one();
      }
      if (!message.assignments().empty()) {
        absl::MutexLock lock(&mutex_);
        sizer_.AssignmentArrived(MonotonicNow());
        for (const v1::Assignment& assignment : message.assignments()) {
          running_.insert(assignment.job_id());
        }
      }
      for (v1::Assignment& assignment : *message.mutable_assignments()) {
        pool_.Run(std::move(assignment));
      }
      for (const std::string& job_id : message.cancel_job_ids()) pool_.Cancel(job_id);
      if (!message.acked_job_ids().empty()) ForgetAcknowledged(message.acked_job_ids());
    }
  }
  {
    absl::MutexLock lock(&mutex_);
    session_open_ = false;
    welcomed_ = false;
    context_ = nullptr;
    send_wakeup_.notify_one();
  }
  // The call is over once Read fails, so a Write in progress fails too.
  if (sender.joinable()) sender.join();
  std::string status = FromGrpcStatus(stream->Finish()).ToString();
  absl::MutexLock lock(&mutex_);
  if (stopping_ || closing_) return welcomed;
  if (welcomed) {
    spdlog::warn("disconnected from scheduler {}: {}; reconnecting, keeping {} running jobs",
                 options_.scheduler, status, running_.size());
  } else if (!*warned) {
    spdlog::warn("cannot connect to scheduler {}: {}; retrying", options_.scheduler, status);
    *warned = true;
  } else {
    spdlog::debug("cannot connect to scheduler {}: {}", options_.scheduler, status);
  }
  return welcomed;
}

void NodeAgent::DropHeldJobs(const google::protobuf::RepeatedPtrField<std::string>& job_ids) {
  std::vector<std::string> ids(job_ids.begin(), job_ids.end());
  // Once Drop returns, the pool reports nothing more of these jobs; what it
  // reported before is in unsent_.
  pool_.Drop(ids);
  std::set<std::string> dropped(ids.begin(), ids.end());
  absl::MutexLock lock(&mutex_);
  for (const std::string& job_id : ids) running_.erase(job_id);
  unsent_.erase(std::remove_if(unsent_.begin(), unsent_.end(),
                               [&](const v1::JobResult& r) { return dropped.count(r.job_id()); }),
                unsent_.end());
  for (const std::string& job_id : ids) unacked_.erase(job_id);
}

void NodeAgent::ForgetAcknowledged(
    const google::protobuf::RepeatedPtrField<std::string>& job_ids) {
  absl::MutexLock lock(&mutex_);
  const absl::Time now = MonotonicNow();
  for (const std::string& job_id : job_ids) {
    sizer_.Acknowledged(job_id, now);
    // The answer can overtake SendLoop's return from the write.
    if (unacked_.erase(job_id) == 0 && sending_) acked_while_sending_.insert(job_id);
  }
}

bool NodeAgent::HasMessageToSend() const {
  return welcomed_ && (!unsent_.empty() || (draining_ && !draining_announced_));
}

void NodeAgent::SendLoop(Stream* stream) {
  absl::Time last_heartbeat = MonotonicNow();
  absl::Time last_sent = absl::InfinitePast();
  while (true) {
    v1::WorkerMessage message;
    {
      absl::MutexLock lock(&mutex_);
      while (session_open_ && !closing_ && !HasMessageToSend()) {
        absl::Time heartbeat_at = welcomed_ && heartbeat_interval_ > absl::ZeroDuration()
                                      ? last_heartbeat + heartbeat_interval_
                                      : absl::InfiniteFuture();
        const absl::Time now = MonotonicNow();
        if (now >= heartbeat_at) break;
        // What condition_variable_any calls lock()/unlock(), this Abseil
        // spells Lock()/Unlock().
        struct HeldMutex {
          absl::Mutex* mutex;
          void lock() ABSL_NO_THREAD_SAFETY_ANALYSIS { mutex->Lock(); }
          void unlock() ABSL_NO_THREAD_SAFETY_ANALYSIS { mutex->Unlock(); }
        } held{&mutex_};
        send_wakeup_.wait_for(held, absl::ToChronoNanoseconds(
                                        std::min(heartbeat_at - now, absl::Hours(1))));
      }
      if (!session_open_) return;
      if (closing_ && !HasMessageToSend()) break;
      // Under steady traffic (the previous message left moments ago and
      // more jobs are still running) results wait a moment to go out
      // together; a lone result goes at once.
      if (unsent_.size() < kBatchEnough && !running_.empty() &&
          MonotonicNow() - last_sent < kBatchLinger) {
        auto grown = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_) {
          return !session_open_ || closing_ || unsent_.size() >= kBatchEnough ||
                 running_.empty();
        };
        mutex_.AwaitWithTimeout(absl::Condition(&grown), kBatchLinger);
        if (!session_open_) return;
      }
      if (draining_) {
        message.set_draining(true);
        draining_announced_ = true;
      } else {
        // A draining node gives no more credits.
        window_ = std::max(0, window_ - static_cast<int>(unsent_.size()));
        const int credits = std::max(0, sizer_.Window() - window_);
        const int unused = std::max(0, window_ - static_cast<int>(running_.size()));
        sizer_.CreditsSent(credits, unused, MonotonicNow());
        window_ += credits;
        message.set_credits(credits);
      }
      if (acks_results_ && !unsent_.empty()) {
        sizer_.ResultsSent(unsent_.front().job_id(), MonotonicNow());
      }
      for (v1::JobResult& result : unsent_) *message.add_results() = std::move(result);
      unsent_.clear();
      if (heartbeat_interval_ > absl::ZeroDuration() &&
          MonotonicNow() >= last_heartbeat + heartbeat_interval_) {
        message.set_heartbeat(true);
        last_heartbeat = MonotonicNow();
      }
      sending_ = true;
    }
    bool written = stream->Write(message);
    last_sent = MonotonicNow();
    absl::MutexLock lock(&mutex_);
    sending_ = false;
    const std::set<std::string> acked_early = std::exchange(acked_while_sending_, {});
    if (!written) {
      // Maybe never delivered: the next stream reports them as held.
      for (int i = message.results_size() - 1; i >= 0; --i) {
        unsent_.push_front(std::move(*message.mutable_results(i)));
      }
      return;  // the reader sees the broken stream too
    }
    if (acks_results_) {
      for (v1::JobResult& result : *message.mutable_results()) {
        if (acked_early.count(result.job_id()) > 0) continue;
        std::string job_id = result.job_id();
        unacked_.insert_or_assign(std::move(job_id), std::move(result));
      }
    }
  }
  // Closing after a drain: the scheduler reads everything sent, then ends
  // the call.
  stream->WritesDone();
}

}  // namespace netpool
