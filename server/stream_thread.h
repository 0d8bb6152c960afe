// StartThread starts the writer thread of one gRPC stream. A client that
// opens streams until the machine runs out of threads gets
// RESOURCE_EXHAUSTED on the next one instead of taking netpoold down.
#ifndef NETPOOL_SERVER_STREAM_THREAD_H_
#define NETPOOL_SERVER_STREAM_THREAD_H_

#include <system_error>
#include <thread>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"

namespace netpool {

template <typename Body>
absl::StatusOr<std::thread> StartThread(Body&& body) {
  try {
    return std::thread(std::forward<Body>(body));
  } catch (const std::system_error& e) {
    return absl::ResourceExhaustedError(absl::StrCat("cannot start a stream thread: ", e.what()));
  }
}

}  // namespace netpool

#endif  // NETPOOL_SERVER_STREAM_THREAD_H_
