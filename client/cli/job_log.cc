#include "client/cli/job_log.h"

#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace netpool {
namespace cli {

std::string FormatJobLogLine(const JobLogEntry& entry) {
  // parallel pads the runtime to 10 columns; the start has no padding.
  return absl::StrFormat("%d\t%s\t%.3f\t%10.3f\t0\t%d\t%d\t%d\t%s\n", entry.sequence, entry.host,
                         entry.start_unix, entry.runtime_seconds, entry.received_bytes,
                         entry.exit_value, entry.signal, entry.command);
}

absl::StatusOr<std::unique_ptr<JobLog>> JobLog::Create(const std::string& path) {
  std::ofstream file(path, std::ios::trunc);
  if (!file) return absl::InvalidArgumentError(absl::StrCat("cannot write ", path));
  file << "Seq\tHost\tStarttime\tJobRuntime\tSend\tReceive\tExitval\tSignal\tCommand\n";
  file.flush();
  return std::unique_ptr<JobLog>(new JobLog(std::move(file)));
}

void JobLog::Add(const JobLogEntry& entry) {
  file_ << FormatJobLogLine(entry);
  file_.flush();
}

}  // namespace cli
}  // namespace netpool
