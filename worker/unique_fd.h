// UniqueFd owns a file descriptor and closes it when it goes away, so that no
// error path in the worker leaks a pipe end (a leaked write end would keep a
// reader from ever seeing EOF).
#ifndef NETPOOL_WORKER_UNIQUE_FD_H_
#define NETPOOL_WORKER_UNIQUE_FD_H_

#include <unistd.h>

#include <utility>

namespace netpool {

class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) Reset(std::exchange(other.fd_, -1));
    return *this;
  }
  ~UniqueFd() { Reset(); }

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  void Reset(int fd = -1) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

}  // namespace netpool

#endif  // NETPOOL_WORKER_UNIQUE_FD_H_
