// DelayedLink stands in for the network between two hosts on a machine whose
// kernel cannot delay packets itself (no netem qdisc): it listens on
// 127.0.0.1 with a port of its own and forwards each connection to `target`,
// holding what passes `delay` in each direction, so that a round trip
// through it takes 2 x delay longer. netpool_bench puts one between a node
// and its scheduler.
//
//   absl::StatusOr<std::unique_ptr<DelayedLink>> link =
//       DelayedLink::Start(cluster->address(), absl::Milliseconds(10));
//   ... netpool-worker --scheduler (*link)->address() ...
#ifndef NETPOOL_BENCH_DELAYED_LINK_H_
#define NETPOOL_BENCH_DELAYED_LINK_H_

#include <list>
#include <memory>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "worker/unique_fd.h"

namespace netpool::bench {

class DelayedLink {
 public:
  // REQUIRES: target is "127.0.0.1:PORT" or another numeric IPv4 address.
  static absl::StatusOr<std::unique_ptr<DelayedLink>> Start(const std::string& target,
                                                            absl::Duration delay);
  ~DelayedLink();  // cuts every connection

  DelayedLink(const DelayedLink&) = delete;
  DelayedLink& operator=(const DelayedLink&) = delete;

  const std::string& address() const { return address_; }

 private:
  struct Connection;

  DelayedLink(UniqueFd listener, std::string address, std::string target, absl::Duration delay);
  void AcceptLoop();

  const UniqueFd listener_;
  const std::string address_;
  const std::string target_;
  const absl::Duration delay_;

  absl::Mutex mutex_;
  bool stopping_ ABSL_GUARDED_BY(mutex_) = false;
  std::list<std::unique_ptr<Connection>> connections_ ABSL_GUARDED_BY(mutex_);

  std::thread accept_thread_;
};

}  // namespace netpool::bench

#endif  // NETPOOL_BENCH_DELAYED_LINK_H_
