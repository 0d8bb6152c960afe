// FakeHub stands in for the scheduler in worker tests: a WorkerHub service
// served on 127.0.0.1 that records every message each stream sends and lets
// the test answer on the open stream, hang up, or refuse streams. Worker
// tests use it to see exactly what a node agent says, which a real
// scheduler would not show.
//
//   FakeHub hub;
//   ASSERT_TRUE(hub.ok());
//   ... start a node against hub.address() ...
//   ASSERT_TRUE(hub.WaitForHellos(1));
//   hub.Send(welcome);
#ifndef NETPOOL_TESTS_WORKER_FAKE_HUB_H_
#define NETPOOL_TESTS_WORKER_FAKE_HUB_H_

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "grpcpp/grpcpp.h"
#include "netpool/v1/worker.grpc.pb.h"

namespace netpool::testing {

class FakeHub {
 public:
  // A message as received, with the stream it came on (1 = the first).
  struct Received {
    int stream = 0;
    v1::WorkerMessage message;
  };
  using Match = std::function<bool(const Received&)>;

  // Serves on `address`; "127.0.0.1:0" picks a free port.
  explicit FakeHub(const std::string& address = "127.0.0.1:0");
  FakeHub(const FakeHub&) = delete;
  FakeHub& operator=(const FakeHub&) = delete;
  ~FakeHub();  // Shutdown()s

  // Whether the server started.
  bool ok() const { return server_ != nullptr; }
  // HOST:PORT it serves on.
  const std::string& address() const { return address_; }
  // Stops serving, ending every stream.
  void Shutdown();

  // Ends each of the next `count` streams right after its hello.
  void HangUpAfterHello(int count);
  // Ends every new stream right after its hello, until AcceptStreams.
  void RefuseStreams();
  // Keeps new streams open again. Returns the number of the next stream.
  int AcceptStreams();
  // Breaks the open stream, as a scheduler that goes away would.
  void HangUp();
  // Writes to the open stream; false if none is open or the write failed.
  bool Send(const v1::SchedulerMessage& message);
  // Sends the welcome, with these drop_job_ids, on the open stream, as a
  // scheduler of `protocol_version` (0: one that acknowledges no results).
  bool Welcome(double heartbeat_seconds = 10, const std::vector<std::string>& drop_job_ids = {},
               uint32_t protocol_version = 0);

  // The first message received so far that matches, waiting up to `timeout`.
  std::optional<Received> WaitFor(const Match& match, absl::Duration timeout);
  // Waits until `count` hellos arrived in all.
  bool WaitForHellos(int count, absl::Duration timeout);
  // The hello of stream `stream`, waiting up to `timeout`.
  std::optional<v1::WorkerHello> HelloOf(int stream, absl::Duration timeout);
  // The first result of `job_id` received, waiting up to `timeout`.
  std::optional<Received> ResultMessage(const std::string& job_id, absl::Duration timeout);
  // Waits until the node closed its side of `count` streams (half-close).
  bool WaitForClosedByNode(int count, absl::Duration timeout);

  // Everything received so far.
  std::vector<Received> received();

 private:
  class Service;
  using Stream = grpc::ServerReaderWriter<v1::SchedulerMessage, v1::WorkerMessage>;

  grpc::Status Connect(grpc::ServerContext* context, Stream* stream);

  std::unique_ptr<Service> service_;
  std::unique_ptr<grpc::Server> server_;
  std::string address_;

  absl::Mutex mutex_;
  grpc::ServerContext* context_ ABSL_GUARDED_BY(mutex_) = nullptr;
  Stream* stream_ ABSL_GUARDED_BY(mutex_) = nullptr;
  int streams_ ABSL_GUARDED_BY(mutex_) = 0;
  int hang_ups_ ABSL_GUARDED_BY(mutex_) = 0;
  int closed_by_node_ ABSL_GUARDED_BY(mutex_) = 0;
  std::vector<Received> received_ ABSL_GUARDED_BY(mutex_);
};

}  // namespace netpool::testing

#endif  // NETPOOL_TESTS_WORKER_FAKE_HUB_H_
