// JobLog is `netpool map -- CMD --joblog FILE`: one line per finished job in
// GNU parallel's --joblog format, so that what reads parallel's logs (or
// --resume-style scripts) reads ours.
//
//   absl::StatusOr<std::unique_ptr<JobLog>> log = JobLog::Create("jobs.log");
//   (*log)->Add(entry);
#ifndef NETPOOL_CLIENT_CLI_JOB_LOG_H_
#define NETPOOL_CLIENT_CLI_JOB_LOG_H_

#include <cstddef>
#include <fstream>
#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace netpool {
namespace cli {

// One job's line.
struct JobLogEntry {
  size_t sequence = 0;  // from 1, as {#}
  std::string host;     // the worker node, or ":" for this machine
  double start_unix = 0;
  double runtime_seconds = 0;
  size_t received_bytes = 0;  // of standard output
  int exit_value = 0;         // -1 when killed by a timeout or lost
  int signal = 0;
  std::string command;
};

// The entry as a line of the log, e.g.
// "1\t:\t1700000000.123\t     0.004\t0\t2\t0\t0\techo a\n".
std::string FormatJobLogLine(const JobLogEntry& entry);

class JobLog {
 public:
  // Creates (or truncates) `path` and writes the header line.
  static absl::StatusOr<std::unique_ptr<JobLog>> Create(const std::string& path);

  // Appends the entry's line, flushed so that a log read meanwhile is whole.
  void Add(const JobLogEntry& entry);

 private:
  explicit JobLog(std::ofstream file) : file_(std::move(file)) {}

  std::ofstream file_;
};

}  // namespace cli
}  // namespace netpool

#endif  // NETPOOL_CLIENT_CLI_JOB_LOG_H_
