#include "tests/support/proc.h"

#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"

namespace netpool::testing {
namespace {

struct ProcStat {
  char state = '?';
  pid_t parent = 0;
};

// The fields of /proc/PID/stat after the parenthesised command name.
std::optional<ProcStat> ReadStat(pid_t pid) {
  std::ifstream file("/proc/" + std::to_string(pid) + "/stat");
  std::stringstream text;
  text << file.rdbuf();
  const std::string stat = text.str();
  const size_t end_of_name = stat.rfind(')');
  if (!file || end_of_name == std::string::npos) return std::nullopt;
  std::istringstream rest(stat.substr(end_of_name + 1));
  ProcStat parsed;
  rest >> parsed.state >> parsed.parent;
  return parsed;
}

}  // namespace

bool IsRunning(pid_t pid) {
  std::optional<ProcStat> stat = ReadStat(pid);
  return stat.has_value() && stat->state != 'Z';
}

std::vector<pid_t> ChildPids(pid_t pid) {
  std::vector<pid_t> children;
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    pid_t candidate = 0;
    if (!absl::SimpleAtoi(entry.path().filename().string(), &candidate)) continue;
    std::optional<ProcStat> stat = ReadStat(candidate);
    if (stat.has_value() && stat->parent == pid && stat->state != 'Z') {
      children.push_back(candidate);
    }
  }
  return children;
}

bool WaitUntilGone(pid_t pid, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (IsRunning(pid)) {
    if (absl::Now() >= deadline) return false;
    absl::SleepFor(absl::Milliseconds(10));
  }
  return true;
}

int64_t ProcStatus(pid_t pid, const std::string& field) {
  std::ifstream in(absl::StrCat("/proc/", pid, "/status"));
  std::string line;
  while (std::getline(in, line)) {
    absl::string_view rest = line;
    if (!absl::ConsumePrefix(&rest, field + ":")) continue;
    rest = absl::StripAsciiWhitespace(rest);
    absl::ConsumeSuffix(&rest, " kB");
    int64_t value = 0;
    if (absl::SimpleAtoi(rest, &value)) return value;
  }
  return -1;
}

}  // namespace netpool::testing
