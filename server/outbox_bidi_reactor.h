// OutboxBidiReactor serves one bidirectional stream on gRPC's callback API,
// with no thread of its own: it reads the peer's messages one at a time
// (OnRequest) and writes, one batch at a time, what other threads queue with
// Send (a BoundedOutbox). A peer that lets more than `max_queued_bytes` pile
// up is cut off with RESOURCE_EXHAUSTED. The reactor deletes itself once the
// call is done.
//
// gRPC runs no reaction (OnReadDone, OnWriteDone, OnDone) inside the
// StartWrite or Finish that leads to it, so Send and End may be called with
// any lock held, the scheduler's too, even though OnEnd takes it.
#ifndef NETPOOL_SERVER_OUTBOX_BIDI_REACTOR_H_
#define NETPOOL_SERVER_OUTBOX_BIDI_REACTOR_H_

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/grpc_status.h"
#include "grpcpp/support/server_callback.h"
#include "server/bounded_outbox.h"
#include "spdlog/spdlog.h"

namespace netpool {

template <typename Request, typename Response, typename Item>
class OutboxBidiReactor : public grpc::ServerBidiReactor<Request, Response> {
 public:
  // `peer` names the peer in the log line of a cut; `overflow_hint` ends the
  // status message of a cut (what it means for the peer, which flag sets
  // max_queued_bytes).
  OutboxBidiReactor(size_t max_queued_bytes, std::string peer, std::string overflow_hint)
      : peer_(std::move(peer)),
        overflow_hint_(std::move(overflow_hint)),
        outbox_(max_queued_bytes, [this](std::vector<Item>& batch) {
          response_ = Pack(batch);
          this->StartWrite(&response_);
        }) {}

  // Queues `item` for the peer; never blocks.
  void Send(Item item) {
    absl::Status queued = outbox_.Push(std::move(item));
    if (queued.ok()) return;
    spdlog::warn("cutting off the stream of {}: {}", peer_, std::string(queued.message()));
    FinishOnce(ToGrpcStatus(
        absl::ResourceExhaustedError(absl::StrCat(queued.message(), "; ", overflow_hint_))));
  }

  // Ends the stream with `status` once what is queued is written.
  void End(grpc::Status status) {
    {
      absl::MutexLock lock(&mu_);
      if (end_status_.has_value()) return;
      end_status_ = std::move(status);
    }
    if (outbox_.Close()) FinishWithEndStatus();
  }

 protected:
  // Starts reading the peer's messages: the last step of the method handler.
  void StartReading() { this->StartRead(&request_); }

  // A message from the peer; a non-OK status ends the stream with it.
  virtual absl::Status OnRequest(const Request& request) = 0;
  // One message to write for a batch of queued items.
  virtual Response Pack(std::vector<Item>& batch) = 0;
  // The call is over. Once it returns, nothing may Send any more: the
  // reactor is deleted.
  virtual void OnEnd() = 0;

 private:
  void OnReadDone(bool ok) override {
    // !ok: the peer closed its side or went away.
    if (!ok) return End(grpc::Status::OK);
    if (absl::Status s = OnRequest(request_); !s.ok()) return End(ToGrpcStatus(s));
    this->StartRead(&request_);
  }

  void OnWriteDone(bool ok) override {
    if (!ok) {
      outbox_.Discard();
      FinishOnce(grpc::Status(grpc::StatusCode::CANCELLED, "the stream broke"));
      return;
    }
    if (outbox_.WriteDone()) FinishWithEndStatus();
  }

  void OnDone() override {
    OnEnd();
    delete this;
  }

  void FinishWithEndStatus() {
    grpc::Status status;
    {
      absl::MutexLock lock(&mu_);
      // A cut stream (finished already) has none.
      status = end_status_.value_or(grpc::Status::OK);
    }
    FinishOnce(std::move(status));
  }

  void FinishOnce(grpc::Status status) {
    {
      absl::MutexLock lock(&mu_);
      if (finished_) return;
      finished_ = true;
    }
    this->Finish(std::move(status));
  }

  const std::string peer_;
  const std::string overflow_hint_;
  Request request_;
  Response response_;  // the write in flight
  BoundedOutbox<Item> outbox_;
  absl::Mutex mu_;
  std::optional<grpc::Status> end_status_ ABSL_GUARDED_BY(mu_);
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
};

// The reactor of a stream refused before it started (not authenticated, over
// a limit): it only finishes with `status`.
template <typename Request, typename Response>
grpc::ServerBidiReactor<Request, Response>* RefusedStream(grpc::Status status) {
  class Refused final : public grpc::ServerBidiReactor<Request, Response> {
   public:
    explicit Refused(grpc::Status status) { this->Finish(std::move(status)); }
    void OnDone() override { delete this; }
  };
  return new Refused(std::move(status));
}

}  // namespace netpool

#endif  // NETPOOL_SERVER_OUTBOX_BIDI_REACTOR_H_
