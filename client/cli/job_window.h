// JobWindow runs the jobs of map and starmap as their input is read: at most
// `capacity` jobs are submitted and unfinished at a time (and as many read
// ahead), so that an input of any length takes bounded memory, and each
// finished job is handed back on the calling thread, in input order or (when
// unordered) as they finish. The input is read on a thread of its own, so a
// slow producer on stdin does not hold back the results of earlier items.
//
//   JobWindow window(4096, /*unordered=*/false, [&](v1::JobSpec spec, const CallOptions& o) {
//     return client->Submit(std::move(spec), o);
//   });
//   absl::Status input = window.Run(next_job, [&](std::optional<size_t> items) { ... });
#ifndef NETPOOL_CLIENT_CLI_JOB_WINDOW_H_
#define NETPOOL_CLIENT_CLI_JOB_WINDOW_H_

#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "client/result_state.h"
#include "netpool/pool.h"
#include "netpool/v1/netpool.pb.h"

namespace netpool {
namespace cli {

class JobWindow {
 public:
  // A job read from the input.
  struct Job {
    v1::JobSpec spec;
    size_t items = 1;  // input items it carries (a chunk carries several)
    // Called once, on the thread in Run, with the finished job (its id and
    // outcome).
    std::function<void(const internal::ResultState& job)> done;
    // When set, called on the thread in Run as soon as the job finished,
    // before `done`, which (in input order) may wait for the jobs before it:
    // what must not wait for them, such as --halt, goes here.
    std::function<void(const internal::ResultState& job)> finished;
  };
  // The next job of the input; nullopt at its end. An error ends the input.
  // Called on the reader thread.
  using Source = std::function<absl::StatusOr<std::optional<Job>>()>;
  // Submits a job without waiting; the callbacks in the options must run
  // once when it finishes, before its result is ready (PoolClient::Submit).
  using Submitter = std::function<std::shared_ptr<internal::ResultState>(
      v1::JobSpec spec, const CallOptions& options)>;
  // Called on the thread in Run at least every kTickInterval, with the
  // number of input items once the whole input has been read.
  using Tick = std::function<void(std::optional<size_t> total_items)>;

  // Given the jobs submitted and not yet finished, to cancel them.
  using Canceller =
      std::function<void(const std::vector<std::shared_ptr<internal::ResultState>>& jobs)>;

  static constexpr absl::Duration kTickInterval = absl::Milliseconds(100);

  // REQUIRES: capacity >= 1.
  JobWindow(size_t capacity, bool unordered, Submitter submit);
  ~JobWindow();  // joins the reader thread if Run did not finish
  JobWindow(const JobWindow&) = delete;
  JobWindow& operator=(const JobWindow&) = delete;

  // Reads, submits and hands back every job of `source`; returns once all
  // jobs read have been handed back: the error the input ended with, or OK.
  // Call it once.
  absl::Status Run(Source source, const Tick& tick);

  // Submits no further job (those read and not submitted are dropped, never
  // handed back) and, when `cancel_running` is set, gives it the unfinished
  // jobs; Run returns once those have been handed back. For --halt: call it
  // from a job's `done`.
  void Stop(Canceller cancel_running);

 private:
  struct Shared;
  void ReadLoop(const Source& source);

  const size_t capacity_;
  const bool unordered_;
  const Submitter submit_;
  // Shared with the reader thread and with the jobs' callbacks, whose copies
  // the library may destroy after Run has returned.
  const std::shared_ptr<Shared> shared_;

  // Set by Stop; only the thread in Run touches them.
  bool stopped_ = false;
  Canceller cancel_running_;

  std::thread reader_;
};

}  // namespace cli
}  // namespace netpool

#endif  // NETPOOL_CLIENT_CLI_JOB_WINDOW_H_
