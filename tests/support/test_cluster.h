// TestCluster runs a real netpool deployment for integration tests: the
// netpoold binary on 127.0.0.1 with an OS-picked port, and netpool-worker
// nodes (or another WorkerApp binary) connected to it. Everything it started
// is stopped when it goes away.
//
//   auto cluster = TestCluster::Start({.workers = 1, .processes = 2});
//   ASSERT_TRUE(cluster.ok()) << cluster.status();
//   CliResult r = (*cluster)->RunCli({"submit", "echo", "1"});
#ifndef NETPOOL_TESTS_SUPPORT_TEST_CLUSTER_H_
#define NETPOOL_TESTS_SUPPORT_TEST_CLUSTER_H_

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "tests/support/subprocess.h"

namespace netpool::testing {

// Absolute paths of the built programs (set by CMake).
std::string NetpooldPath();
std::string WorkerPath();
std::string CliPath();

struct CliResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

class TestCluster {
 public:
  struct Options {
    int workers = 1;
    int processes = 2;
    std::string worker_binary;  // default: netpool-worker
    std::vector<std::string> worker_args;
  };

  static absl::StatusOr<std::unique_ptr<TestCluster>> Start(Options options);
  ~TestCluster();

  const std::string& address() const { return address_; }
  pid_t scheduler_pid() const { return scheduler_.pid(); }
  Subprocess& scheduler() { return scheduler_; }

  // kill -9 of the scheduler, then a new one on the same address.
  absl::Status RestartScheduler();

  // Starts one more worker node and waits until the scheduler lists it.
  // Returns its index.
  absl::StatusOr<int> AddWorker(int processes, std::vector<std::string> args = {},
                                std::string binary = "");
  pid_t worker_pid(int index) const { return workers_[index].pid(); }
  Subprocess& worker(int index) { return workers_[index]; }
  int worker_count() const { return static_cast<int>(workers_.size()); }

  // The worker processes of worker node `index` (children of its pid).
  std::vector<pid_t> WorkerProcessPids(int index) const;

  // Waits until the scheduler lists `nodes` worker nodes with `slots` slots in all.
  absl::Status WaitForWorkers(int nodes, int slots, absl::Duration timeout);

  // Runs the netpool CLI against this cluster.
  CliResult RunCli(const std::vector<std::string>& args, const std::string& stdin_data = "",
                   absl::Duration timeout = absl::Seconds(60)) const;

 private:
  TestCluster() = default;

  std::string address_;
  Subprocess scheduler_;
  std::vector<Subprocess> workers_;
  int total_slots_ = 0;
};

}  // namespace netpool::testing

#endif  // NETPOOL_TESTS_SUPPORT_TEST_CLUSTER_H_
