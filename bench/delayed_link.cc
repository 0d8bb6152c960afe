#include "bench/delayed_link.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <deque>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace netpool::bench {
namespace {

absl::StatusOr<sockaddr_in> ParseAddress(const std::string& address) {
  const size_t colon = address.rfind(':');
  sockaddr_in result = {};
  result.sin_family = AF_INET;
  int port = 0;
  if (colon == std::string::npos ||
      ::inet_pton(AF_INET, address.substr(0, colon).c_str(), &result.sin_addr) != 1 ||
      !absl::SimpleAtoi(address.substr(colon + 1), &port) || port <= 0 || port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("not a numeric IPv4 HOST:PORT: \"", address, "\""));
  }
  result.sin_port = htons(static_cast<uint16_t>(port));
  return result;
}

absl::Status Errno(const char* what) {
  return absl::InternalError(absl::StrCat(what, ": ", std::strerror(errno)));
}

// Without Nagle's algorithm: a small message waits the added delay and no
// more, as gRPC's own sockets do.
void NoDelay(int fd) {
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

// The bytes from one socket to the other: a reader takes them in as they
// come, a writer passes each piece on `delay` after it came.
struct Direction {
  struct Piece {
    absl::Time due;
    std::string bytes;  // empty: the end of the stream
  };

  Direction(int from, int to, absl::Duration delay) : from(from), to(to), delay(delay) {}

  void Read() {
    char buffer[64 * 1024];
    while (true) {
      const ssize_t n = ::read(from, buffer, sizeof(buffer));
      if (n < 0 && errno == EINTR) continue;
      absl::MutexLock lock(&mutex);
      pieces.push_back({absl::Now() + delay, n > 0 ? std::string(buffer, n) : std::string()});
      if (n <= 0) return;
    }
  }

  void Write() {
    while (true) {
      Piece piece;
      {
        absl::MutexLock lock(&mutex);
        auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex) { return !pieces.empty(); };
        mutex.Await(absl::Condition(&ready));
        piece = std::move(pieces.front());
        pieces.pop_front();
      }
      absl::SleepFor(piece.due - absl::Now());
      if (piece.bytes.empty()) {
        ::shutdown(to, SHUT_WR);
        return;
      }
      for (size_t done = 0; done < piece.bytes.size();) {
        // No SIGPIPE when the far end has gone: that ends this connection only.
        const ssize_t n =
            ::send(to, piece.bytes.data() + done, piece.bytes.size() - done, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
          // The far end is gone: so is this end, for the other direction.
          ::shutdown(from, SHUT_RDWR);
          return;
        }
        done += static_cast<size_t>(n);
      }
    }
  }

  const int from;
  const int to;
  const absl::Duration delay;
  absl::Mutex mutex;
  std::deque<Piece> pieces ABSL_GUARDED_BY(mutex);
};

}  // namespace

// One connection through the link and the four threads that carry it.
struct DelayedLink::Connection {
  Connection(UniqueFd near_end, UniqueFd far_end, absl::Duration delay)
      : near(std::move(near_end)),
        far(std::move(far_end)),
        out(near.get(), far.get(), delay),
        back(far.get(), near.get(), delay) {
    for (Direction* d : {&out, &back}) {
      threads.emplace_back([d] { d->Read(); });
      threads.emplace_back([d] { d->Write(); });
    }
  }

  ~Connection() {
    ::shutdown(near.get(), SHUT_RDWR);
    ::shutdown(far.get(), SHUT_RDWR);
    for (std::thread& t : threads) t.join();
  }

  UniqueFd near;  // to the program that connected to the link
  UniqueFd far;   // to the target
  Direction out;
  Direction back;
  std::vector<std::thread> threads;
};

absl::StatusOr<std::unique_ptr<DelayedLink>> DelayedLink::Start(const std::string& target,
                                                                absl::Duration delay) {
  if (absl::StatusOr<sockaddr_in> parsed = ParseAddress(target); !parsed.ok()) {
    return parsed.status();
  }
  UniqueFd listener(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!listener.valid()) return Errno("socket");
  sockaddr_in address = {};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t size = sizeof(address);
  if (::bind(listener.get(), reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0 ||
      ::listen(listener.get(), 16) != 0 ||
      ::getsockname(listener.get(), reinterpret_cast<sockaddr*>(&address), &size) != 0) {
    return Errno("listen on 127.0.0.1");
  }
  return std::unique_ptr<DelayedLink>(new DelayedLink(
      std::move(listener), absl::StrCat("127.0.0.1:", ntohs(address.sin_port)), target, delay));
}

DelayedLink::DelayedLink(UniqueFd listener, std::string address, std::string target,
                         absl::Duration delay)
    : listener_(std::move(listener)),
      address_(std::move(address)),
      target_(std::move(target)),
      delay_(delay),
      accept_thread_([this] { AcceptLoop(); }) {}

DelayedLink::~DelayedLink() {
  {
    absl::MutexLock lock(&mutex_);
    stopping_ = true;
  }
  accept_thread_.join();
  absl::MutexLock lock(&mutex_);
  connections_.clear();
}

void DelayedLink::AcceptLoop() {
  const sockaddr_in target = *ParseAddress(target_);
  while (true) {
    {
      absl::MutexLock lock(&mutex_);
      if (stopping_) return;
    }
    // Wakes now and then to see whether the link is going away.
    pollfd ready = {listener_.get(), POLLIN, 0};
    if (::poll(&ready, 1, 50) <= 0) continue;
    UniqueFd near(::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC));
    if (!near.valid()) continue;
    UniqueFd far(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!far.valid() ||
        ::connect(far.get(), reinterpret_cast<const sockaddr*>(&target), sizeof(target)) != 0) {
      continue;  // the program sees its connection close, as with no route
    }
    NoDelay(near.get());
    NoDelay(far.get());
    absl::MutexLock lock(&mutex_);
    connections_.push_back(std::make_unique<Connection>(std::move(near), std::move(far), delay_));
  }
}

}  // namespace netpool::bench
