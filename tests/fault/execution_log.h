// ExecutionLog is the node side's record of a fault test: the file that
// fault-worker appends a line "JOB_ID NODE_PID" to at the start of every
// execution of `nonce` (tests/fault/fault_worker.cc), and what it says. A job
// that ran twice shows here even when the scheduler dropped one of the two
// results, which the JobLedger (results only) cannot see.
//
//   ExecutionLog executions;                      // a fresh file in the temp dir
//   TestCluster::Start({..., .worker_env = {executions.Env()}});
//   ... jobs run ...
//   ExecutionLog::Counts counts = executions.Count();
//   PrintRunOnceCounts("scheduler_kill", audit, counts);
//   EXPECT_EQ(counts.duplicated_executions, 0) << counts.Duplicates();
#ifndef NETPOOL_TESTS_FAULT_EXECUTION_LOG_H_
#define NETPOOL_TESTS_FAULT_EXECUTION_LOG_H_

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "tests/fault/job_ledger.h"

namespace netpool::testing {

class ExecutionLog {
 public:
  // What the file says.
  struct Counts {
    int64_t executions = 0;
    // Jobs executed more than once.
    int64_t duplicated_executions = 0;
    // The nodes (pids) each job ran on, in order.
    absl::flat_hash_map<std::string, std::vector<pid_t>> nodes_of_job;

    // The first few jobs that ran more than once, and where, one per line.
    std::string Duplicates() const;
  };

  // A fresh file name in the test temp dir; nothing is there yet.
  ExecutionLog();
  ~ExecutionLog();

  ExecutionLog(const ExecutionLog&) = delete;
  ExecutionLog& operator=(const ExecutionLog&) = delete;

  const std::string& path() const { return path_; }
  // "NETPOOL_FAULT_EXECUTIONS=PATH", for a worker node's environment.
  std::string Env() const;

  // Reads the file (a missing file is no executions).
  Counts Count() const;

 private:
  std::string path_;
};

// Prints the run-once line every scenario ends with:
//   fault: SCENARIO: acknowledged=N executions=N duplicated_executions=N lost=N
//   duplicated_results=N
void PrintRunOnceCounts(const std::string& scenario, const JobLedger::Audit& audit,
                        const ExecutionLog::Counts& counts);

}  // namespace netpool::testing

#endif  // NETPOOL_TESTS_FAULT_EXECUTION_LOG_H_
