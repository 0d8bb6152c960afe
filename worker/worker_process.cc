#include "worker/worker_process.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/process_setup.h"
#include "common/value_proto.h"
#include "netpool/v1/netpool.pb.h"
#include "netpool/v1/worker.pb.h"
#include "spdlog/spdlog.h"
#include "worker/frame.h"
#include "worker/function_registry.h"
#include "worker/task_runner.h"

namespace netpool {
namespace {

// A command line argument may hold at most 128 KiB (MAX_ARG_STRLEN).
constexpr size_t kMaxInitializerArgsJson = 64 * 1024;

// Dies with the node agent, so that `kill -9` of a node leaves nothing
// behind. The parent may have died before prctl took effect; then our parent
// is already someone else and we leave on our own.
void TieLifetimeToParent(const char* parent_pid) {
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  int expected = 0;
  if (!absl::SimpleAtoi(parent_pid, &expected) || ::getppid() != expected) std::_Exit(1);
}

// Programs that the task starts (exec) must not inherit the pipes: a
// surviving grandchild would hide this process's death from the node.
void CloseOnExec(int fd) { ::fcntl(fd, F_SETFD, ::fcntl(fd, F_GETFD) | FD_CLOEXEC); }

void WriteResult(v1::JobResult result) {
  v1::ProcessResult frame;
  frame.mutable_result()->Swap(&result);
  absl::Status status = WriteFrame(kResultFd, frame);
  if (absl::IsResourceExhausted(status)) {
    frame.mutable_result()->clear_value();
    frame.mutable_result()->clear_packed_value();
    frame.mutable_result()->set_state(v1::FAILED);
    frame.mutable_result()->mutable_error()->set_code(
        static_cast<int>(absl::StatusCode::kResourceExhausted));
    frame.mutable_result()->mutable_error()->set_message(
        absl::StrCat("result too large: ", status.message()));
    status = WriteFrame(kResultFd, frame);
  }
  if (!status.ok()) {
    spdlog::error("worker process {}: cannot send result: {}", ::getpid(), status.ToString());
    std::exit(3);
  }
}

std::string ArgsJson(const Initializer& initializer) {
  return Value(ValueList(initializer.args)).ToJson();
}

// Tells the node why this process cannot serve jobs, and exits. Should the
// frame not get through, the node sees a process that died before its first
// job, and tries another after a pause.
[[noreturn]] void FailStart(const absl::Status& status) {
  v1::ProcessResult frame;
  frame.mutable_result()->set_state(v1::FAILED);
  StatusToJobError(status, frame.mutable_result()->mutable_error());
  (void)WriteFrame(kResultFd, frame);
  std::exit(kStartupFailedExitCode);
}

// The policy named on the command line (argv[3]) applied to this process.
void ApplyPolicy(int argc, char** argv) {
  absl::StatusOr<ProcessPolicy> policy =
      argc >= 4 ? ProcessPolicyFromArg(argv[3])
                : absl::InvalidArgumentError("no process policy on the command line");
  absl::Status status = policy.status();
  if (status.ok()) status = ApplyProcessPolicy(*policy);
  if (status.ok()) return;
  FailStart(absl::FailedPreconditionError(
      absl::StrCat("cannot apply the node's worker process policy: ", status.message())));
}

// The initializer named on the command line: argv[4] and argv[5], if present.
absl::StatusOr<Initializer> InitializerFromArgs(int argc, char** argv) {
  Initializer initializer;
  if (argc < 6) return initializer;
  initializer.function = argv[4];
  absl::StatusOr<Value> args = Value::FromJson(argv[5]);
  if (!args.ok()) return args.status();
  if (!args->is_list()) return absl::InvalidArgumentError("initializer arguments are not a list");
  initializer.args = args->AsList();
  return initializer;
}

// Runs the initializer; on failure tells the node why and exits.
void Initialize(int argc, char** argv) {
  absl::StatusOr<Initializer> initializer = InitializerFromArgs(argc, argv);
  absl::Status status = initializer.status();
  if (status.ok() && initializer->function.empty()) return;
  if (status.ok()) status = RunInitializer(*initializer);
  if (status.ok()) return;
  FailStart(absl::FailedPreconditionError(
      absl::StrCat("initializer ", argv[4], " failed: ", status.message())));
}

}  // namespace

absl::Status CheckInitializer(const Initializer& initializer) {
  if (initializer.function.empty()) return absl::OkStatus();
  if (!FindFunction(initializer.function).has_value()) {
    return absl::InvalidArgumentError(
        absl::StrCat("unknown function \"", initializer.function, "\""));
  }
  if (ArgsJson(initializer).size() > kMaxInitializerArgsJson) {
    return absl::InvalidArgumentError(absl::StrCat(
        "initializer arguments too large: at most ", kMaxInitializerArgsJson, " bytes of JSON"));
  }
  return absl::OkStatus();
}

std::vector<std::string> WorkerProcessArgs(const Initializer& initializer,
                                           const ProcessPolicy& policy) {
  std::vector<std::string> args = {kWorkerProcessFlag, absl::StrCat(::getpid()),
                                   ProcessPolicyToArg(policy)};
  if (!initializer.function.empty()) {
    args.push_back(initializer.function);
    args.push_back(ArgsJson(initializer));
  }
  return args;
}

bool IsWorkerProcess(int argc, char** argv) {
  return argc >= 3 && std::strcmp(argv[1], kWorkerProcessFlag) == 0;
}

void RunWorkerProcess(int argc, char** argv) {
  CloseOnExec(kTaskFd);
  CloseOnExec(kResultFd);
  SetUpProcess();
  // Before the initializer and any task, so that they and the commands they
  // start run under it.
  ApplyPolicy(argc, argv);
  // After: a change of user clears PR_SET_PDEATHSIG.
  TieLifetimeToParent(argv[2]);
  Initialize(argc, argv);
  // The node may queue several short tasks at once; they wait here, read
  // together, and run one after another without a round trip to the node.
  FrameDecoder tasks;
  while (true) {
    v1::ProcessTask task;
    absl::Status status = ReadFrame(kTaskFd, &tasks, &task);
    if (absl::IsOutOfRange(status)) std::exit(0);
    if (!status.ok()) {
      spdlog::error("worker process {}: cannot read task: {}", ::getpid(), status.ToString());
      std::exit(2);
    }
    v1::JobResult result = RunAssignment(task.assignment());
    // What the function printed shows up in the node's output job by job.
    std::cout.flush();
    std::fflush(nullptr);
    WriteResult(std::move(result));
  }
}

}  // namespace netpool
