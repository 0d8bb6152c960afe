// TestCluster runs a real netpool deployment for integration and fault tests:
// the netpoold binary on 127.0.0.1 with an OS-picked port, and netpool-worker
// nodes (or another WorkerApp binary) connected to it. The scheduler can be
// killed and restarted on the same port (and, when durable, the same data
// directory); nodes are plain Subprocesses, so a test signals them directly
// (worker(i).Signal(SIGKILL / SIGSTOP / SIGCONT)). Everything it started is
// stopped, and its data directory removed, when it goes away.
//
//   auto cluster = TestCluster::Start({.workers = 1, .processes = 2});
//   ASSERT_TRUE(cluster.ok()) << cluster.status();
//   CliResult r = (*cluster)->RunCli({"submit", "echo", "1"});
//
//   auto durable =
//       TestCluster::Start({.durable = true, .scheduler_args = {"--lease-timeout", "2"}});
//   ASSERT_TRUE((*durable)->RestartScheduler().ok());  // kill -9, then the same port and data
#ifndef NETPOOL_TESTS_SUPPORT_TEST_CLUSTER_H_
#define NETPOOL_TESTS_SUPPORT_TEST_CLUSTER_H_

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "grpcpp/channel.h"
#include "grpcpp/client_context.h"
#include "common/transport.h"
#include "netpool/pool.h"
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

// Runs `argv` to its exit with `stdin_data` on its stdin and `extra_env`
// ("NAME=value") added to its environment. exit_code is -1 (and err says
// why) when it could not be started or did not end in time.
CliResult RunProgram(const std::vector<std::string>& argv, const std::string& stdin_data = "",
                     absl::Duration timeout = absl::Seconds(60),
                     const std::vector<std::string>& extra_env = {});

class TestCluster {
 public:
  struct Options {
    int workers = 1;
    int processes = 2;
    std::string worker_binary;  // default: netpool-worker
    std::vector<std::string> worker_args;
    // More environment for the worker nodes ("NAME=value").
    std::vector<std::string> worker_env;
    // The durable store (--data) in a fresh temporary directory, so that a
    // restarted scheduler has the jobs; otherwise --store memory.
    bool durable = false;
    // With `durable`: this directory as --data instead of a fresh temporary
    // one (e.g. a small filesystem the test mounted); left in place.
    std::string data_dir;
    // More netpoold flags, e.g. {"--lease-timeout", "2"}; kept for restarts.
    // Without an --http among them, netpoold runs with --http off.
    std::vector<std::string> scheduler_args;
    // TLS and a token file, as across hosts: netpoold serves a certificate
    // from deploy/make-certs.sh and knows a client and a worker token; nodes
    // join with the worker token, the CLI and connect_options() trust the CA.
    bool secure = false;
  };

  static absl::StatusOr<std::unique_ptr<TestCluster>> Start(Options options);
  ~TestCluster();

  const std::string& address() const { return address_; }
  pid_t scheduler_pid() const { return scheduler_.pid(); }
  Subprocess& scheduler() { return scheduler_; }

  // The durable store's directory; empty unless Options::durable.
  const std::string& data_dir() const { return data_dir_; }

  // What a client library user passes to Pool::Connect: with
  // Options::secure, the CA and the client token; else nothing (the
  // scheduler's own user finds its token).
  ConnectOptions connect_options() const;

  // kill -9 of the scheduler, then StartScheduler.
  absl::Status RestartScheduler();
  // kill -9 of the scheduler; returns once it is reaped.
  void KillScheduler();
  // SIGTERM to the scheduler; its exit code once it exits, kDeadlineExceeded
  // (and a kill -9) when it takes longer than `timeout`.
  absl::StatusOr<int> StopScheduler(absl::Duration timeout = absl::Seconds(30));
  // Starts a scheduler on the same address with the same flags and data
  // directory, retrying while the port is not free yet. REQUIRES: the
  // previous one was killed or stopped. Error (with its exit code; its stderr
  // is in the test's output) when it exits instead of listening.
  absl::Status StartScheduler();

  // Starts one more worker node, named "node<index>" ("worker/node<index>"
  // when secure), with --allow-exec (most tests run commands), and waits
  // until the scheduler lists it. Returns its index. Nodes keep their index
  // when they die, so indexes of killed nodes are not reused. `env`
  // ("NAME=value") is added to its environment.
  absl::StatusOr<int> AddWorker(int processes, std::vector<std::string> args = {},
                                std::string binary = "", std::vector<std::string> env = {});
  pid_t worker_pid(int index) const { return workers_[index].pid(); }
  Subprocess& worker(int index) { return workers_[index]; }
  int worker_count() const { return static_cast<int>(workers_.size()); }

  // The worker processes of worker node `index` (children of its pid).
  std::vector<pid_t> WorkerProcessPids(int index) const;

  // Waits until the scheduler lists `nodes` worker nodes with `slots` slots in all.
  absl::Status WaitForWorkers(int nodes, int slots, absl::Duration timeout);

  // A channel to the scheduler, and the scheduler's own admin token on a
  // call: what its owner's programs use, found as they find it.
  std::shared_ptr<grpc::Channel> OwnerChannel(
      const grpc::ChannelArguments& args = grpc::ChannelArguments()) const;
  void AuthorizeAsOwner(grpc::ClientContext& context) const;

  // Runs the netpool CLI against this cluster.
  CliResult RunCli(const std::vector<std::string>& args, const std::string& stdin_data = "",
                   absl::Duration timeout = absl::Seconds(60)) const;

 private:
  TestCluster() = default;
  // Waits until the scheduler lists a worker node called `name`.
  absl::Status WaitForWorkerNamed(const std::string& name, absl::Duration timeout);

  // Makes the certificates and tokens of Options::secure in secure_dir_.
  absl::Status MakeCredentials();
  // How the owner's programs reach the scheduler (its token they find).
  ClientSecurity owner_security() const;

  std::string data_dir_;
  bool owns_data_dir_ = false;  // a temporary directory, removed at the end
  std::string secure_dir_;  // certificates and tokens; empty unless secure
  std::vector<std::string> scheduler_argv_;  // without --listen
  std::string address_;
  Subprocess scheduler_;
  std::vector<Subprocess> workers_;
};

}  // namespace netpool::testing

#endif  // NETPOOL_TESTS_SUPPORT_TEST_CLUSTER_H_
