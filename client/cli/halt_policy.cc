#include "client/cli/halt_policy.h"

#include <algorithm>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace netpool {
namespace cli {
namespace {

// parallel's exit status for "more than 100 jobs failed".
constexpr int kExitManyFailed = 101;

}  // namespace

absl::StatusOr<HaltPolicy> HaltPolicy::Parse(const std::string& text) {
  HaltPolicy policy;
  if (text == "never") return policy;
  auto bad = [&text] {
    return absl::InvalidArgumentError(absl::StrCat(
        "--halt: expected never, or now or soon with fail=N or success=N (e.g. soon,fail=3), "
        "got '", text, "'"));
  };
  std::vector<std::string> parts = absl::StrSplit(text, ',');
  if (parts.size() != 2) return bad();
  if (parts[0] == "now") {
    policy.when_ = When::kNow;
  } else if (parts[0] == "soon") {
    policy.when_ = When::kSoon;
  } else {
    return bad();
  }
  std::vector<std::string> condition = absl::StrSplit(parts[1], absl::MaxSplits('=', 1));
  if (condition.size() != 2 || (condition[0] != "fail" && condition[0] != "success")) {
    return bad();
  }
  policy.on_success_ = condition[0] == "success";
  uint64_t count = 0;
  if (!absl::SimpleAtoi(condition[1], &count) || count == 0) return bad();
  policy.count_ = count;
  return policy;
}

bool HaltPolicy::ShouldHalt(size_t failed, size_t succeeded) const {
  if (when_ == When::kNever) return false;
  return (on_success_ ? succeeded : failed) >= count_;
}

int HaltPolicy::ExitCode(size_t failed, size_t succeeded, int first_failure) const {
  if (on_success_ && succeeded >= count_) return 0;
  if (!on_success_ && count_ == 1 && failed > 0) return first_failure;
  return static_cast<int>(std::min<size_t>(failed, kExitManyFailed));
}

}  // namespace cli
}  // namespace netpool
