// HaltPolicy is `netpool map --halt`, GNU parallel's --halt: when to stop a
// map early (after N failed jobs, or N that succeeded), whether to cancel the
// jobs still running ("now") or let them finish ("soon"), and the exit code
// the map then ends with, as parallel's.
//
//   absl::StatusOr<HaltPolicy> halt = HaltPolicy::Parse("soon,fail=3");
//   if (halt->ShouldHalt(failed, succeeded)) ...
#ifndef NETPOOL_CLIENT_CLI_HALT_POLICY_H_
#define NETPOOL_CLIENT_CLI_HALT_POLICY_H_

#include <cstddef>
#include <string>

#include "absl/status/statusor.h"

namespace netpool {
namespace cli {

class HaltPolicy {
 public:
  enum class When { kNever, kSoon, kNow };

  // "never" (the default), or WHEN,fail=N or WHEN,success=N with WHEN "now"
  // or "soon"; kInvalidArgument for anything else (parallel's percentages
  // too).
  static absl::StatusOr<HaltPolicy> Parse(const std::string& text);

  HaltPolicy() = default;

  When when() const { return when_; }
  // True once `failed` (or, for success=N, `succeeded`) jobs reach the limit.
  bool ShouldHalt(size_t failed, size_t succeeded) const;
  // parallel's exit status: with fail=1, that of the failing job
  // (`first_failure`); with success=N, 0 once N succeeded; otherwise the
  // number of failed jobs, 101 for more than 100.
  int ExitCode(size_t failed, size_t succeeded, int first_failure) const;

 private:
  When when_ = When::kNever;
  bool on_success_ = false;
  size_t count_ = 0;
};

}  // namespace cli
}  // namespace netpool

#endif  // NETPOOL_CLIENT_CLI_HALT_POLICY_H_
