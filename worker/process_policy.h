// What a worker node lets its worker processes do, and how a worker process
// takes it on: the node checks the policy once (CheckProcessPolicy), hands it
// to every worker process it spawns on the command line (worker_process.h),
// and the worker process applies it first thing (ApplyProcessPolicy), before
// its initializer and any task, so that the commands exec starts inherit its
// limits and its user.
//
//   ProcessPolicy policy;                  // the default: no exec
//   policy.allow_exec = true;              // --allow-exec
//   policy.exec_allow = {"/usr/bin/*"};    // --exec-allow /usr/bin/*
//   policy.max_memory_bytes = 512 << 20;   // --max-memory 512M
//   policy.max_output_bytes = 1 << 20;     // --max-output 1M
//   if (absl::Status s = CheckProcessPolicy(policy); !s.ok()) ...  // on the node
//   ...
//   if (absl::Status s = ApplyProcessPolicy(policy); !s.ok()) ...  // in a worker process
#ifndef NETPOOL_WORKER_PROCESS_POLICY_H_
#define NETPOOL_WORKER_PROCESS_POLICY_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "worker/command.h"

namespace netpool {

// ProcessPolicy is the exec permission, resource limits and user of a
// node's worker processes. The node agent owns it (NodeAgent::Options, from
// the netpool-worker flags); the default allows no exec and changes nothing
// else but core dumps, which are always off.
struct ProcessPolicy {
  // May the exec built-in run commands at all? A node that does not allow it
  // also leaves exec out of the functions it offers the scheduler.
  bool allow_exec = false;
  // When not empty, exec runs only a command whose argv[0], as given, matches
  // one of these fnmatch(3) globs (with FNM_PATHNAME: `*` does not match
  // `/`, so "/usr/bin/*" allows /usr/bin/gzip but not /usr/bin/x/y). An
  // argv[0] with a ".." component never matches. Means nothing without
  // allow_exec.
  std::vector<std::string> exec_allow;
  uint64_t max_memory_bytes = 0;  // RLIMIT_AS of each worker process; 0: inherited
  uint64_t max_open_files = 0;    // RLIMIT_NOFILE of each worker process; 0: inherited
  // A user name: worker processes give up the node's root privileges and
  // become this user. Empty: they run as the node's user.
  std::string run_as;
  // How much of each of a command's stdout and stderr exec keeps; it marks
  // the result (stdout_truncated / stderr_truncated) when it cut some off.
  uint64_t max_output_bytes = kDefaultMaxOutputBytes;
};

// The most max_output_bytes may be: both streams of a command must fit in
// one result, which travels in one 64M message.
inline constexpr uint64_t kMaxMaxOutputBytes = 30u << 20;

// Checks on the node, before any worker process starts, what would make
// ApplyProcessPolicy fail in every worker process. Errors are
// kInvalidArgument, their message starting with the netpool-worker flag at
// fault: an empty exec_allow pattern; max_output_bytes 0 or above
// kMaxMaxOutputBytes; max_memory_bytes under 64M (or at
// all in an AddressSanitizer build); a limit above the node's own hard limit
// while the node is not root (only root may raise it); run_as while the node
// is not root, or a user unknown here.
absl::Status CheckProcessPolicy(const ProcessPolicy& policy);

// Applies `policy` to the calling worker process: core dumps off
// (RLIMIT_CORE 0), RLIMIT_AS and RLIMIT_NOFILE as set (soft and hard, so
// that neither the task nor the commands it starts can raise them), then
// the change of user: initgroups, setgid, setuid, each checked, and a
// check that the process cannot become root again; HOME, USER and LOGNAME
// then name the user. Last, makes `policy` the one that the exec built-in
// of this process enforces (CurrentProcessPolicy). Errors: kNotFound for an
// unknown user, kPermissionDenied / kInternal when the system refuses a
// step; the process must then not run any task.
absl::Status ApplyProcessPolicy(const ProcessPolicy& policy);

// The policy ApplyProcessPolicy last applied in this process; in a process
// that applied none (not a worker process), the default: no exec.
ProcessPolicy CurrentProcessPolicy();

// OK when `policy` allows exec at all; else kPermissionDenied, saying how
// to start the node to allow it.
absl::Status CheckExecAllowed(const ProcessPolicy& policy);

// OK when `policy` allows exec to run a command whose argv[0] is
// `program`; else kPermissionDenied naming the program and the patterns.
absl::Status CheckCommandAllowed(const ProcessPolicy& policy, const std::string& program);

// `policy` as one command-line argument of a worker process (JSON), and
// back. FromArg errors: kInvalidArgument for anything ToArg did not write.
std::string ProcessPolicyToArg(const ProcessPolicy& policy);
absl::StatusOr<ProcessPolicy> ProcessPolicyFromArg(const std::string& arg);

// A byte count as a user writes it: digits with an optional K, M, G or T
// suffix (powers of 1024, either case), e.g. "512M". Errors:
// kInvalidArgument for anything else, zero, or a count beyond 2^63.
absl::StatusOr<uint64_t> ParseByteSize(const std::string& text);

}  // namespace netpool

#endif  // NETPOOL_WORKER_PROCESS_POLICY_H_
