#include "tests/support/test_cluster.h"

#include <signal.h>

#include <cstring>


#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "grpcpp/create_channel.h"
#include "netpool/v1/netpool.grpc.pb.h"
#include "tests/support/proc.h"

namespace netpool::testing {

std::string NetpooldPath() { return NETPOOL_TEST_NETPOOLD; }
std::string WorkerPath() { return NETPOOL_TEST_WORKER; }
std::string CliPath() { return NETPOOL_TEST_CLI; }

namespace {

// Starts netpoold on `listen` and returns it with the address it printed.
absl::StatusOr<std::pair<Subprocess, std::string>> StartScheduler(const std::string& listen) {
  absl::StatusOr<Subprocess> scheduler = Subprocess::Start(
      {NetpooldPath(), "--listen", listen, "--store", "memory"}, {.pipe_stdout = true});
  if (!scheduler.ok()) return scheduler.status();
  absl::StatusOr<std::string> line = scheduler->ReadLine(absl::Seconds(30));
  if (!line.ok()) return line.status();
  if (!absl::StartsWith(*line, "listening on ")) {
    return absl::InternalError(absl::StrCat("netpoold printed \"", *line, "\""));
  }
  std::string address = line->substr(strlen("listening on "));
  return std::make_pair(*std::move(scheduler), std::move(address));
}

}  // namespace

absl::StatusOr<std::unique_ptr<TestCluster>> TestCluster::Start(Options options) {
  std::unique_ptr<TestCluster> cluster(new TestCluster());
  auto scheduler = StartScheduler("127.0.0.1:0");
  if (!scheduler.ok()) return scheduler.status();
  cluster->scheduler_ = std::move(scheduler->first);
  cluster->address_ = std::move(scheduler->second);
  for (int i = 0; i < options.workers; ++i) {
    absl::StatusOr<int> added =
        cluster->AddWorker(options.processes, options.worker_args, options.worker_binary);
    if (!added.ok()) return added.status();
  }
  return cluster;
}

TestCluster::~TestCluster() {
  // Workers first so that none is reconnecting to a dead scheduler.
  for (Subprocess& worker : workers_) worker.Signal(SIGTERM);
  for (Subprocess& worker : workers_) {
    if (!worker.Wait(absl::Seconds(10)).has_value()) worker.Signal(SIGKILL);
  }
  scheduler_.Signal(SIGTERM);
  if (!scheduler_.Wait(absl::Seconds(10)).has_value()) scheduler_.Signal(SIGKILL);
}

absl::Status TestCluster::RestartScheduler() {
  scheduler_.Signal(SIGKILL);
  scheduler_.Wait(absl::Seconds(10));
  // The port may take a moment to be free again.
  absl::Status last;
  for (int i = 0; i < 50; ++i) {
    auto scheduler = StartScheduler(address_);
    if (scheduler.ok()) {
      scheduler_ = std::move(scheduler->first);
      return absl::OkStatus();
    }
    last = scheduler.status();
    absl::SleepFor(absl::Milliseconds(100));
  }
  return last;
}

absl::StatusOr<int> TestCluster::AddWorker(int processes, std::vector<std::string> args,
                                           std::string binary) {
  std::vector<std::string> argv = {binary.empty() ? WorkerPath() : binary, "--scheduler",
                                   address_, "--processes", absl::StrCat(processes), "--name",
                                   absl::StrCat("node", workers_.size())};
  argv.insert(argv.end(), args.begin(), args.end());
  absl::StatusOr<Subprocess> worker = Subprocess::Start(argv);
  if (!worker.ok()) return worker.status();
  workers_.push_back(*std::move(worker));
  total_slots_ += processes;
  if (absl::Status s = WaitForWorkers(worker_count(), total_slots_, absl::Seconds(30)); !s.ok()) {
    return s;
  }
  return worker_count() - 1;
}

std::vector<pid_t> TestCluster::WorkerProcessPids(int index) const {
  return ChildPids(workers_[index].pid());
}

absl::Status TestCluster::WaitForWorkers(int nodes, int slots, absl::Duration timeout) {
  auto channel = grpc::CreateChannel(address_, grpc::InsecureChannelCredentials());
  auto stub = v1::Scheduler::NewStub(channel);
  const absl::Time deadline = absl::Now() + timeout;
  v1::GetStatsResponse stats;
  while (absl::Now() < deadline) {
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(2)));
    grpc::Status status = stub->GetStats(&context, v1::GetStatsRequest(), &stats);
    if (status.ok() && stats.workers() == nodes && stats.slots() == slots) {
      return absl::OkStatus();
    }
    absl::SleepFor(absl::Milliseconds(20));
  }
  return absl::DeadlineExceededError(absl::StrCat("expected ", nodes, " worker nodes with ",
                                                  slots, " slots; the scheduler has ",
                                                  stats.workers(), " with ", stats.slots()));
}

CliResult TestCluster::RunCli(const std::vector<std::string>& args, const std::string& stdin_data,
                              absl::Duration timeout) const {
  std::vector<std::string> argv = {CliPath(), "--scheduler", address_};
  argv.insert(argv.end(), args.begin(), args.end());
  CliResult result;
  absl::StatusOr<Subprocess> cli = Subprocess::Start(
      argv, {.pipe_stdin = true, .pipe_stdout = true, .pipe_stderr = true});
  if (!cli.ok()) {
    result.err = cli.status().ToString();
    return result;
  }
  cli->WriteStdinAndClose(stdin_data);
  absl::StatusOr<int> code = cli->Communicate(timeout, &result.out, &result.err);
  result.exit_code = code.ok() ? *code : -1;
  if (!code.ok()) result.err += code.status().ToString();
  return result;
}

}  // namespace netpool::testing
