#include "tests/fault/execution_log.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "tests/support/scratch_dir.h"

namespace netpool::testing {
namespace {

// Jobs listed by Duplicates(); the count says how many there were in all.
constexpr int kDuplicatesListed = 10;

}  // namespace

ExecutionLog::ExecutionLog() : path_(FreshTempPath("executions")) {}

ExecutionLog::~ExecutionLog() { unlink(path_.c_str()); }

std::string ExecutionLog::Env() const { return absl::StrCat("NETPOOL_FAULT_EXECUTIONS=", path_); }

ExecutionLog::Counts ExecutionLog::Count() const {
  Counts counts;
  std::ifstream file(path_);
  std::string line;
  // getline also returns a last line without its newline: a write cut short,
  // which a single small write() never is, so every line is whole.
  while (std::getline(file, line)) {
    std::vector<std::string> fields = absl::StrSplit(line, ' ');
    pid_t node = 0;
    if (fields.size() != 2 || !absl::SimpleAtoi(fields[1], &node)) continue;
    ++counts.executions;
    std::vector<pid_t>& nodes = counts.nodes_of_job[fields[0]];
    nodes.push_back(node);
    if (nodes.size() == 2) ++counts.duplicated_executions;
  }
  return counts;
}

std::string ExecutionLog::Counts::Duplicates() const {
  std::vector<std::string> lines;
  for (const auto& [job, nodes] : nodes_of_job) {
    if (nodes.size() < 2) continue;
    lines.push_back(absl::StrCat("job ", job, " ran ", nodes.size(), " times, on nodes (pids) ",
                                 absl::StrJoin(nodes, ", ")));
  }
  if (lines.empty()) return "no job ran twice";
  std::sort(lines.begin(), lines.end());
  if (lines.size() > kDuplicatesListed) lines.resize(kDuplicatesListed);
  return absl::StrCat(duplicated_executions, " jobs ran more than once:\n  ",
                      absl::StrJoin(lines, "\n  "));
}

void PrintRunOnceCounts(const std::string& scenario, const JobLedger::Audit& audit,
                        const ExecutionLog::Counts& counts) {
  std::printf(
      "fault: %s: acknowledged=%lld executions=%lld duplicated_executions=%lld lost=%lld "
      "duplicated_results=%lld\n",
      scenario.c_str(), static_cast<long long>(audit.acknowledged),
      static_cast<long long>(counts.executions),
      static_cast<long long>(counts.duplicated_executions), static_cast<long long>(audit.lost),
      static_cast<long long>(audit.duplicated));
  std::fflush(stdout);
}

}  // namespace netpool::testing
