// The scheduling options of the commands that submit jobs (submit, exec, map,
// starmap): the CallOptions of the C++ library, as command-line flags.
#ifndef NETPOOL_CLIENT_CLI_JOB_OPTIONS_H_
#define NETPOOL_CLIENT_CLI_JOB_OPTIONS_H_

#include <map>
#include <string>

#include "CLI/App.hpp"
#include "absl/time/time.h"
#include "netpool/v1/netpool.pb.h"

namespace netpool {
namespace cli {

// What --priority, --label, --timeout, --max-attempts, --retry-on-error and
// --idempotency-key asked for; the defaults leave the scheduler's own.
struct JobOptions {
  int priority = 0;
  std::map<std::string, std::string> labels;
  absl::Duration timeout = absl::ZeroDuration();  // zero = none
  int max_attempts = 0;                           // 0 = the scheduler's default
  bool retry_on_error = false;
  std::string idempotency_key;
};

// Adds the flags to `command`. `timeout_help` says what --timeout does for
// it (exec's command ends with exit 124, a function's job fails).
void AddJobOptions(CLI::App* command, JobOptions* options, const std::string& timeout_help);

// Sets every option but the timeout on `spec`: a function job's timeout is
// the spec's, while exec enforces the timeout in its own arguments so that
// a command that overruns still reports its output.
void ApplyJobOptions(const JobOptions& options, v1::JobSpec* spec);

}  // namespace cli
}  // namespace netpool

#endif  // NETPOOL_CLIENT_CLI_JOB_OPTIONS_H_
