#include "common/shutdown_signal.h"

#include <pthread.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <thread>

#include "gtest/gtest.h"

namespace netpool {
namespace {

// One ShutdownSignal for the whole binary, made before any thread starts,
// exactly as main() would do it.
ShutdownSignal& Signal() {
  static ShutdownSignal* const signal = new ShutdownSignal();
  return *signal;
}
const ShutdownSignal& kEarly = Signal();

TEST(ShutdownSignal, BlocksIntAndTerm) {
  sigset_t current;
  ASSERT_EQ(pthread_sigmask(SIG_BLOCK, nullptr, &current), 0);
  EXPECT_TRUE(sigismember(&current, SIGINT));
  EXPECT_TRUE(sigismember(&current, SIGTERM));
  EXPECT_TRUE(sigismember(&Signal().blocked(), SIGTERM));
  EXPECT_FALSE(sigismember(&Signal().blocked(), SIGPIPE));
}

TEST(ShutdownSignal, WaitReturnsTheSignalSentToTheProcess) {
  // Sent from another thread to the whole process: it stays pending until
  // Wait() collects it instead of killing us.
  std::thread sender([] { kill(getpid(), SIGTERM); });
  EXPECT_EQ(Signal().Wait(), SIGTERM);
  sender.join();
  std::thread second([] { kill(getpid(), SIGINT); });
  EXPECT_EQ(Signal().Wait(), SIGINT);
  second.join();
}

TEST(ShutdownSignal, WritingToAClosedPipeFailsInsteadOfKilling) {
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  close(fds[0]);
  errno = 0;
  EXPECT_EQ(write(fds[1], "x", 1), -1);
  EXPECT_EQ(errno, EPIPE);
  close(fds[1]);
}

}  // namespace
}  // namespace netpool
