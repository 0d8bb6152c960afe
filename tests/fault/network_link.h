// NetworkLink is a network cable a fault test can pull: two network
// namespaces made for the test, joined by one veth pair made inside them
// (kFirstAddress in the first, kSecondAddress in the second, a /30 of their
// own), so that nothing appears in the root namespace (as in
// tests/integration/multi_host_test.sh). Programs run in either namespace
// through `ip netns exec`. Both namespaces are deleted when it goes away.
// Needs root and iproute2.
//
//   absl::StatusOr<std::unique_ptr<NetworkLink>> link = NetworkLink::Make("netpool-cut");
//   if (!link.ok()) GTEST_SKIP() << link.status().message();
//   Subprocess::Start((*link)->InSecond({worker, "--scheduler", "10.201.0.1:PORT"}));
//   ASSERT_TRUE((*link)->Cut().ok());
#ifndef NETPOOL_TESTS_FAULT_NETWORK_LINK_H_
#define NETPOOL_TESTS_FAULT_NETWORK_LINK_H_

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace netpool::testing {

class NetworkLink {
 public:
  static constexpr char kFirstAddress[] = "10.201.0.1";
  static constexpr char kSecondAddress[] = "10.201.0.2";

  // Namespaces PREFIX-1 and PREFIX-2 and the veth pair between them, up.
  // kFailedPrecondition (the reason to skip) when this machine cannot make
  // them: not root, no `ip`, no namespaces or veth in this kernel.
  static absl::StatusOr<std::unique_ptr<NetworkLink>> Make(const std::string& prefix);
  // The link Make made, under the namespace names first() and second(), for
  // another process (e.g. a child running in one of them); not deleted by it.
  static absl::StatusOr<std::unique_ptr<NetworkLink>> Join(const std::string& first,
                                                           const std::string& second);
  ~NetworkLink();

  NetworkLink(const NetworkLink&) = delete;
  NetworkLink& operator=(const NetworkLink&) = delete;

  const std::string& first() const { return first_; }
  const std::string& second() const { return second_; }

  // `argv` run in the first or second namespace (`ip netns exec` execs it,
  // so the pid of a Subprocess started with it is the program's).
  std::vector<std::string> InFirst(const std::vector<std::string>& argv) const;
  std::vector<std::string> InSecond(const std::vector<std::string>& argv) const;

  // Takes the first namespace's end of the link down: packets between the
  // two are dropped, silently, as when a cable is pulled at the far end.
  absl::Status Cut();
  // Up again.
  absl::Status Restore();

 private:
  NetworkLink(std::string ip, std::string first, std::string second)
      : ip_(std::move(ip)), first_(std::move(first)), second_(std::move(second)) {}
  // The absolute path of `ip`; kFailedPrecondition without one.
  static absl::StatusOr<std::string> FindIp();

  // Runs `ip ARGS...`; its stderr in the error.
  absl::Status Ip(const std::vector<std::string>& args) const;
  std::vector<std::string> In(const std::string& ns, const std::vector<std::string>& argv) const;

  std::string ip_;  // absolute path of `ip`
  std::string first_;
  std::string second_;
  std::vector<std::string> made_;  // namespaces to delete
};

}  // namespace netpool::testing

#endif  // NETPOOL_TESTS_FAULT_NETWORK_LINK_H_
