// main() of worker_test. The process pool tests spawn this very executable
// as worker processes, so the test functions are registered at namespace
// scope and main() hands over to netpool::Init before gtest sees argv.
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "netpool/worker.h"
#include "tests/support/scratch_dir.h"
#include "worker/worker_process.h"

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

// What test.init did in this process, as test.init_state reports it.
int init_calls = 0;
netpool::Value init_args;

// An initializer that records its arguments.
absl::StatusOr<netpool::Value> Init(const std::vector<netpool::Value>& args,
                                    netpool::TaskContext&) {
  ++init_calls;
  init_args = netpool::ValueList(args);
  return netpool::Value();
}

// [init_calls, init_args, pid]
absl::StatusOr<netpool::Value> InitState(const std::vector<netpool::Value>&,
                                         netpool::TaskContext&) {
  return netpool::ValueList{init_calls, init_args, static_cast<int64_t>(::getpid())};
}

// An initializer that fails with its first argument as the message.
absl::StatusOr<netpool::Value> FailInit(const std::vector<netpool::Value>& args,
                                        netpool::TaskContext&) {
  return absl::UnavailableError(args.at(0).AsString());
}

// A list nested as many levels deep as its argument says.
absl::StatusOr<netpool::Value> Deep(const std::vector<netpool::Value>& args,
                                    netpool::TaskContext&) {
  netpool::Value value = 1;
  for (int64_t level = 0; level < args.at(0).AsInt(); ++level) {
    value = netpool::ValueList{std::move(value)};
  }
  return value;
}

// Fails with a message that is not valid UTF-8.
absl::StatusOr<netpool::Value> FailInLatin1(const std::vector<netpool::Value>&,
                                            netpool::TaskContext&) {
  return absl::UnknownError("caf\xe9 closed");
}

// [marker, min_bytes, optional release path]: creates MARKER.started, waits
// until the node has queued at least min_bytes of further tasks on this
// worker process's task pipe (which it reads only between tasks), creates
// MARKER.queued, then waits until the release file, if any, exists. Returns
// the bytes queued; fails when they never come.
absl::StatusOr<netpool::Value> AwaitQueued(const std::vector<netpool::Value>& args,
                                           netpool::TaskContext&) {
  const std::string marker = args.at(0).AsString();
  std::ofstream(marker + ".started").close();
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  int queued = 0;
  while (::ioctl(netpool::kTaskFd, FIONREAD, &queued) == 0 && queued < args.at(1).AsInt() &&
         absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(2));
  }
  if (queued < args.at(1).AsInt()) {
    return absl::FailedPreconditionError(absl::StrCat("only ", queued, " bytes of tasks queued"));
  }
  std::ofstream(marker + ".queued").close();
  while (args.size() > 2 && !netpool::testing::FileExists(args.at(2).AsString()) &&
         absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(2));
  }
  return static_cast<int64_t>(queued);
}

const bool kRegistered = netpool::Register("test.pid", Pid) &&
                         netpool::Register("test.crash", Crash) &&
                         netpool::Register("test.exit", Exit) &&
                         netpool::Register("test.init", Init) &&
                         netpool::Register("test.init_state", InitState) &&
                         netpool::Register("test.fail_init", FailInit) &&
                         netpool::Register("test.deep", Deep) &&
                         netpool::Register("test.fail_in_latin1", FailInLatin1) &&
                         netpool::Register("test.await_queued", AwaitQueued);

}  // namespace

int main(int argc, char** argv) {
  netpool::Init(argc, argv);
  testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
