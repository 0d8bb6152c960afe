#include "tests/fault/network_link.h"

#include <unistd.h>

#include <tuple>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "tests/support/scratch_dir.h"
#include "tests/support/test_cluster.h"

namespace netpool::testing {
namespace {

// The two ends of the veth pair, in the first and the second namespace.
constexpr char kFirstEnd[] = "cut1";
constexpr char kSecondEnd[] = "cut2";

}  // namespace

absl::StatusOr<std::unique_ptr<NetworkLink>> NetworkLink::Make(const std::string& prefix) {
  if (geteuid() != 0) return absl::FailedPreconditionError("network namespaces need root");
  absl::StatusOr<std::string> ip = FindIp();
  if (!ip.ok()) return ip.status();
  std::unique_ptr<NetworkLink> link(
      new NetworkLink(*ip, absl::StrCat(prefix, "-1"), absl::StrCat(prefix, "-2")));
  for (const std::string& ns : {link->first_, link->second_}) {
    if (absl::Status made = link->Ip({"netns", "add", ns}); !made.ok()) {
      return absl::FailedPreconditionError(
          absl::StrCat("cannot make a network namespace: ", made.message()));
    }
    link->made_.push_back(ns);
  }
  if (absl::Status made = link->Ip({"-n", link->first_, "link", "add", kFirstEnd, "type", "veth",
                                    "peer", "name", kSecondEnd, "netns", link->second_});
      !made.ok()) {
    return absl::FailedPreconditionError(absl::StrCat("cannot make a veth pair: ", made.message()));
  }
  for (const auto& [ns, end, address] : {std::tuple{link->first_, kFirstEnd, kFirstAddress},
                                         std::tuple{link->second_, kSecondEnd, kSecondAddress}}) {
    for (const std::vector<std::string>& args :
         {std::vector<std::string>{"-n", ns, "link", "set", "lo", "up"},
          {"-n", ns, "addr", "add", absl::StrCat(address, "/30"), "dev", end},
          {"-n", ns, "link", "set", end, "up"}}) {
      if (absl::Status done = link->Ip(args); !done.ok()) return done;
    }
  }
  return link;
}

absl::StatusOr<std::unique_ptr<NetworkLink>> NetworkLink::Join(const std::string& first,
                                                               const std::string& second) {
  absl::StatusOr<std::string> ip = FindIp();
  if (!ip.ok()) return ip.status();
  return std::unique_ptr<NetworkLink>(new NetworkLink(*ip, first, second));
}

absl::StatusOr<std::string> NetworkLink::FindIp() {
  for (const char* candidate : {"/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"}) {
    if (FileExists(candidate)) return std::string(candidate);
  }
  return absl::FailedPreconditionError("no ip command (iproute2)");
}

NetworkLink::~NetworkLink() {
  for (const std::string& ns : made_) Ip({"netns", "del", ns}).IgnoreError();
}

std::vector<std::string> NetworkLink::InFirst(const std::vector<std::string>& argv) const {
  return In(first_, argv);
}

std::vector<std::string> NetworkLink::InSecond(const std::vector<std::string>& argv) const {
  return In(second_, argv);
}

std::vector<std::string> NetworkLink::In(const std::string& ns,
                                         const std::vector<std::string>& argv) const {
  std::vector<std::string> full = {ip_, "netns", "exec", ns};
  full.insert(full.end(), argv.begin(), argv.end());
  return full;
}

absl::Status NetworkLink::Cut() { return Ip({"-n", first_, "link", "set", kFirstEnd, "down"}); }

absl::Status NetworkLink::Restore() { return Ip({"-n", first_, "link", "set", kFirstEnd, "up"}); }

absl::Status NetworkLink::Ip(const std::vector<std::string>& args) const {
  std::vector<std::string> argv = {ip_};
  argv.insert(argv.end(), args.begin(), args.end());
  CliResult result = RunProgram(argv, "", absl::Seconds(30));
  if (result.exit_code == 0) return absl::OkStatus();
  return absl::InternalError(absl::StrCat("ip ", absl::StrJoin(args, " "), ": exit ",
                                          result.exit_code, ": ",
                                          absl::StripTrailingAsciiWhitespace(result.err)));
}

}  // namespace netpool::testing
