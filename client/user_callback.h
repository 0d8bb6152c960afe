// RunUserCallback runs a callback the user gave (CallOptions::callback or
// error_callback) on a library thread: an exception it throws is logged, so
// that it cannot take the thread, or a result's readiness, down with it.
#ifndef NETPOOL_CLIENT_USER_CALLBACK_H_
#define NETPOOL_CLIENT_USER_CALLBACK_H_

#include <exception>
#include <string_view>

#include "spdlog/spdlog.h"

namespace netpool {
namespace internal {

// `what` names the callback's owner in the log ("job j-...", "map of 20 items").
template <typename Callback, typename Arg>
void RunUserCallback(const Callback& callback, const Arg& arg, std::string_view what) {
  if (!callback) return;
  try {
    callback(arg);
  } catch (const std::exception& e) {
    spdlog::error("callback of {} threw: {}", what, e.what());
  } catch (...) {
    spdlog::error("callback of {} threw a non-standard exception", what);
  }
}

}  // namespace internal
}  // namespace netpool

#endif  // NETPOOL_CLIENT_USER_CALLBACK_H_
