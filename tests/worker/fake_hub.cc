#include "tests/worker/fake_hub.h"

#include <algorithm>
#include <limits>

#include "absl/strings/str_cat.h"
#include "common/transport.h"
#include "netpool/v1/worker.grpc.pb.h"

namespace netpool::testing {

class FakeHub::Service final : public v1::WorkerHub::Service {
 public:
  explicit Service(FakeHub* hub) : hub_(hub) {}
  grpc::Status Connect(grpc::ServerContext* context, Stream* stream) override {
    return hub_->Connect(context, stream);
  }

 private:
  FakeHub* const hub_;
};

FakeHub::FakeHub(const std::string& address) : service_(std::make_unique<Service>(this)) {
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(address, *MakeServerCredentials(ServerTls()), &port);
  builder.RegisterService(service_.get());
  server_ = builder.BuildAndStart();
  if (server_ != nullptr) address_ = absl::StrCat("127.0.0.1:", port);
}

FakeHub::~FakeHub() { Shutdown(); }

void FakeHub::Shutdown() {
  if (server_ == nullptr) return;
  server_->Shutdown(absl::ToChronoTime(absl::Now() + absl::Seconds(1)));
  server_->Wait();
  server_.reset();
}

grpc::Status FakeHub::Connect(grpc::ServerContext* context, Stream* stream) {
  int number;
  bool hang_up;  // decided as the stream starts, so that AcceptStreams can name the next one
  {
    absl::MutexLock lock(&mutex_);
    number = ++streams_;
    hang_up = hang_ups_ > 0;
    if (hang_up) --hang_ups_;
    context_ = context;
    stream_ = stream;
  }
  v1::WorkerMessage message;
  bool hung_up = false;
  while (stream->Read(&message)) {
    absl::MutexLock lock(&mutex_);
    received_.push_back({number, message});
    if (message.has_hello() && hang_up) {
      hung_up = true;
      break;
    }
  }
  absl::MutexLock lock(&mutex_);
  if (!hung_up && !context->IsCancelled()) ++closed_by_node_;
  if (stream_ == stream) {
    stream_ = nullptr;
    context_ = nullptr;
  }
  return grpc::Status(grpc::StatusCode::UNAVAILABLE, "hub hung up");
}

void FakeHub::HangUpAfterHello(int count) {
  absl::MutexLock lock(&mutex_);
  hang_ups_ = count;
}

void FakeHub::RefuseStreams() { HangUpAfterHello(std::numeric_limits<int>::max()); }

int FakeHub::AcceptStreams() {
  absl::MutexLock lock(&mutex_);
  hang_ups_ = 0;
  return streams_ + 1;
}

void FakeHub::HangUp() {
  absl::MutexLock lock(&mutex_);
  if (context_ != nullptr) context_->TryCancel();
}

bool FakeHub::Send(const v1::SchedulerMessage& message) {
  absl::MutexLock lock(&mutex_);
  return stream_ != nullptr && stream_->Write(message);
}

bool FakeHub::Welcome(double heartbeat_seconds, const std::vector<std::string>& drop_job_ids,
                      uint32_t protocol_version) {
  v1::SchedulerMessage welcome;
  welcome.mutable_welcome()->set_worker_id("w-1");
  welcome.mutable_welcome()->set_heartbeat_seconds(heartbeat_seconds);
  welcome.mutable_welcome()->set_protocol_version(protocol_version);
  for (const std::string& job_id : drop_job_ids) welcome.add_drop_job_ids(job_id);
  return Send(welcome);
}

std::optional<FakeHub::Received> FakeHub::WaitFor(const Match& match, absl::Duration timeout) {
  absl::MutexLock lock(&mutex_);
  std::optional<Received> found;
  auto arrived = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_) {
    auto it = std::find_if(received_.begin(), received_.end(), match);
    if (it == received_.end()) return false;
    found = *it;
    return true;
  };
  mutex_.AwaitWithTimeout(absl::Condition(&arrived), timeout);
  return found;
}

bool FakeHub::WaitForHellos(int count, absl::Duration timeout) {
  absl::MutexLock lock(&mutex_);
  auto enough = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_) {
    return std::count_if(received_.begin(), received_.end(),
                         [](const Received& r) { return r.message.has_hello(); }) >= count;
  };
  return mutex_.AwaitWithTimeout(absl::Condition(&enough), timeout);
}

std::optional<v1::WorkerHello> FakeHub::HelloOf(int stream, absl::Duration timeout) {
  std::optional<Received> hello = WaitFor(
      [stream](const Received& r) { return r.stream == stream && r.message.has_hello(); },
      timeout);
  if (!hello.has_value()) return std::nullopt;
  return hello->message.hello();
}

std::optional<FakeHub::Received> FakeHub::ResultMessage(const std::string& job_id,
                                                        absl::Duration timeout) {
  return WaitFor(
      [&job_id](const Received& r) {
        return std::any_of(r.message.results().begin(), r.message.results().end(),
                           [&](const v1::JobResult& result) { return result.job_id() == job_id; });
      },
      timeout);
}

bool FakeHub::WaitForClosedByNode(int count, absl::Duration timeout) {
  absl::MutexLock lock(&mutex_);
  auto closed = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_) { return closed_by_node_ >= count; };
  return mutex_.AwaitWithTimeout(absl::Condition(&closed), timeout);
}

std::vector<FakeHub::Received> FakeHub::received() {
  absl::MutexLock lock(&mutex_);
  return received_;
}

}  // namespace netpool::testing
