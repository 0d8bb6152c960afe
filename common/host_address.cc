#include "common/host_address.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"

namespace netpool {
namespace {

bool IsLoopbackSockaddr(const sockaddr* address) {
  if (address->sa_family == AF_INET) {
    const auto* v4 = reinterpret_cast<const sockaddr_in*>(address);
    return (ntohl(v4->sin_addr.s_addr) >> 24) == 127;
  }
  if (address->sa_family == AF_INET6) {
    const in6_addr& v6 = reinterpret_cast<const sockaddr_in6*>(address)->sin6_addr;
    if (IN6_IS_ADDR_LOOPBACK(&v6)) return true;
    return IN6_IS_ADDR_V4MAPPED(&v6) && v6.s6_addr[12] == 127;
  }
  return false;
}

}  // namespace

bool SplitHostPort(const std::string& address, std::string* host, int* port) {
  const size_t colon = address.rfind(':');
  if (colon == std::string::npos || colon == 0) return false;
  *host = address.substr(0, colon);
  if (host->front() == '[' && host->back() != ']') return false;
  return absl::SimpleAtoi(address.substr(colon + 1), port) && *port >= 0 && *port <= 65535;
}

bool IsLoopbackHost(const std::string& host) {
  std::string name = host;
  if (name.size() >= 2 && name.front() == '[' && name.back() == ']') {
    name = name.substr(1, name.size() - 2);
  }
  if (name.empty()) return false;
  addrinfo hints = {};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* results = nullptr;
  if (::getaddrinfo(name.c_str(), nullptr, &hints, &results) != 0) return false;
  bool loopback = results != nullptr;
  for (const addrinfo* it = results; it != nullptr; it = it->ai_next) {
    if (!IsLoopbackSockaddr(it->ai_addr)) loopback = false;
  }
  ::freeaddrinfo(results);
  return loopback;
}

bool ListenerOnPortIsOurs(int port) {
  constexpr char kListen[] = "0A";
  const uid_t us = ::geteuid();
  bool found = false;
  for (const char* table : {"/proc/net/tcp", "/proc/net/tcp6"}) {
    std::ifstream in(table);
    std::string line;
    std::getline(in, line);  // the header
    while (std::getline(in, line)) {
      // sl local_address rem_address st tx:rx tr:when retrnsmt uid ...
      std::vector<absl::string_view> fields = absl::StrSplit(line, ' ', absl::SkipWhitespace());
      if (fields.size() < 8 || fields[3] != kListen) continue;
      const size_t colon = fields[1].rfind(':');
      int local_port = 0;
      uint32_t uid = 0;
      if (colon == absl::string_view::npos ||
          !absl::SimpleHexAtoi(fields[1].substr(colon + 1), &local_port) || local_port != port ||
          !absl::SimpleAtoi(fields[7], &uid)) {
        continue;
      }
      if (uid != us) return false;
      found = true;
    }
  }
  return found;
}

bool IsLoopbackAddress(const std::string& address) {
  std::string host;
  int port = 0;
  return SplitHostPort(address, &host, &port) && IsLoopbackHost(host);
}

}  // namespace netpool
