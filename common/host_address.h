// Scheduler addresses (HOST:PORT) as netpoold listens on them and clients
// dial them, and whether one is on this machine only. Both sides decide
// security by the latter: netpoold refuses to listen beyond loopback without
// TLS and tokens, and a client sends its same-user default token only to a
// loopback scheduler. So it resolves the host and checks every address it
// resolves to, instead of trusting how the name looks ("127.example.com" is
// not loopback; "localhost" is).
#ifndef NETPOOL_COMMON_HOST_ADDRESS_H_
#define NETPOOL_COMMON_HOST_ADDRESS_H_

#include <string>

namespace netpool {

// Splits "HOST:PORT" (HOST may be "[v6]", kept with its brackets); false
// when malformed or the port is not 0-65535.
bool SplitHostPort(const std::string& address, std::string* host, int* port);

// True when `host` (a name, an IPv4 address, or an IPv6 address with or
// without brackets) resolves to loopback addresses only. A name that does
// not resolve is not loopback.
bool IsLoopbackHost(const std::string& host);

// IsLoopbackHost of the HOST of "HOST:PORT"; false when malformed.
bool IsLoopbackAddress(const std::string& address);

// True when something listens on TCP port `port` of this machine (as this
// process's network namespace sees it, from /proc/net/tcp and tcp6) and
// every such listener belongs to this process's effective user. A client
// checks it before it hands its same-user token to a loopback port: another
// user who took the port (the scheduler was down) must not receive it.
bool ListenerOnPortIsOurs(int port);

}  // namespace netpool

#endif  // NETPOOL_COMMON_HOST_ADDRESS_H_
