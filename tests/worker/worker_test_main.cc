// main() of worker_test. The process pool tests spawn this very executable
// as worker processes, so main() registers the test functions and hands
// over to netpool::Init before gtest sees argv.
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstdlib>

#include "gtest/gtest.h"
#include "netpool/worker.h"

namespace {

absl::StatusOr<netpool::Value> Pid(const std::vector<netpool::Value>&, netpool::TaskContext&) {
  return static_cast<int64_t>(::getpid());
}

absl::StatusOr<netpool::Value> Crash(const std::vector<netpool::Value>&, netpool::TaskContext&) {
  const rlimit no_core = {0, 0};
  ::setrlimit(RLIMIT_CORE, &no_core);
  ::signal(SIGSEGV, SIG_DFL);  // a real crash even under AddressSanitizer's handler
  ::raise(SIGSEGV);
  return netpool::Value();
}

absl::StatusOr<netpool::Value> Exit(const std::vector<netpool::Value>& args,
                                    netpool::TaskContext&) {
  std::_Exit(static_cast<int>(args.at(0).AsInt()));
}

}  // namespace

int main(int argc, char** argv) {
  netpool::Register("test.pid", Pid);
  netpool::Register("test.crash", Crash);
  netpool::Register("test.exit", Exit);
  netpool::Init(argc, argv);
  testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
