#include "tests/support/test_cluster.h"

#include <signal.h>
#include <stdlib.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <optional>
#include <system_error>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/private_file.h"
#include "common/transport.h"
#include "netpool/v1/netpool.grpc.pb.h"
#include "tests/support/proc.h"

namespace netpool::testing {

std::string NetpooldPath() { return NETPOOL_TEST_NETPOOLD; }
std::string WorkerPath() { return NETPOOL_TEST_WORKER; }
std::string CliPath() { return NETPOOL_TEST_CLI; }

namespace {

constexpr char kClientToken[] = "test-client-token-0123456789";
constexpr char kWorkerToken[] = "test-worker-token-0123456789";


// netpoold's exit code when it cannot listen (e.g. the port is still taken).
constexpr int kSchedulerCannotListen = 69;

// Starts netpoold on `listen` and returns it with the address it printed.
// kUnavailable when it exits with kSchedulerCannotListen, kFailedPrecondition
// when it exits for another reason.
absl::StatusOr<std::pair<Subprocess, std::string>> LaunchScheduler(
    const std::vector<std::string>& scheduler_argv, const std::string& listen) {
  std::vector<std::string> argv = {NetpooldPath(), "--listen", listen};
  argv.insert(argv.end(), scheduler_argv.begin(), scheduler_argv.end());
  absl::StatusOr<Subprocess> scheduler = Subprocess::Start(argv, {.pipe_stdout = true});
  if (!scheduler.ok()) return scheduler.status();
  absl::StatusOr<std::string> line = scheduler->ReadLine(absl::Seconds(30));
  if (!line.ok()) {
    std::optional<int> code = scheduler->Wait(absl::Seconds(10));
    if (!code.has_value()) return line.status();
    std::string what = absl::StrCat("netpoold exited with code ", *code,
                                    " instead of listening (its stderr is above)");
    if (*code == kSchedulerCannotListen) return absl::UnavailableError(what);
    return absl::FailedPreconditionError(what);
  }
  if (!absl::StartsWith(*line, "listening on ")) {
    return absl::InternalError(absl::StrCat("netpoold printed \"", *line, "\""));
  }
  std::string address = line->substr(strlen("listening on "));
  return std::make_pair(*std::move(scheduler), std::move(address));
}

absl::StatusOr<std::string> MakeTempDir() {
  std::string pattern = (std::filesystem::temp_directory_path() / "netpool-test-XXXXXX").string();
  if (mkdtemp(pattern.data()) == nullptr) {
    return absl::InternalError(absl::StrCat("mkdtemp ", pattern, ": ", strerror(errno)));
  }
  return pattern;
}

}  // namespace

absl::StatusOr<std::unique_ptr<TestCluster>> TestCluster::Start(Options options) {
  std::unique_ptr<TestCluster> cluster(new TestCluster());
  if (options.durable && !options.data_dir.empty()) {
    cluster->data_dir_ = options.data_dir;
    cluster->scheduler_argv_ = {"--data", cluster->data_dir_};
  } else if (options.durable) {
    absl::StatusOr<std::string> dir = MakeTempDir();
    if (!dir.ok()) return dir.status();
    cluster->data_dir_ = *dir;
    cluster->owns_data_dir_ = true;
    cluster->scheduler_argv_ = {"--data", cluster->data_dir_};
  } else {
    cluster->scheduler_argv_ = {"--store", "memory"};
  }
  if (options.secure) {
    if (absl::Status s = cluster->MakeCredentials(); !s.ok()) return s;
  }
  // Tests run side by side, and each would try netpoold's one default HTTP
  // port: only the tests of HTTP serve it, on a port of their own.
  if (std::find(options.scheduler_args.begin(), options.scheduler_args.end(), "--http") ==
      options.scheduler_args.end()) {
    cluster->scheduler_argv_.insert(cluster->scheduler_argv_.end(), {"--http", "off"});
  }
  cluster->scheduler_argv_.insert(cluster->scheduler_argv_.end(),
                                  options.scheduler_args.begin(), options.scheduler_args.end());
  auto scheduler = LaunchScheduler(cluster->scheduler_argv_, "127.0.0.1:0");
  if (!scheduler.ok()) return scheduler.status();
  cluster->scheduler_ = std::move(scheduler->first);
  cluster->address_ = std::move(scheduler->second);
  for (int i = 0; i < options.workers; ++i) {
    absl::StatusOr<int> added = cluster->AddWorker(options.processes, options.worker_args,
                                                   options.worker_binary, options.worker_env);
    if (!added.ok()) return added.status();
  }
  return cluster;
}

TestCluster::~TestCluster() {
  // Workers first so that none is reconnecting to a dead scheduler. SIGCONT
  // wakes a node a test left stopped, so that it sees the SIGTERM.
  for (Subprocess& worker : workers_) {
    worker.Signal(SIGTERM);
    worker.Signal(SIGCONT);
  }
  for (Subprocess& worker : workers_) {
    if (!worker.Wait(absl::Seconds(10)).has_value()) worker.Signal(SIGKILL);
  }
  scheduler_.Signal(SIGTERM);
  if (!scheduler_.Wait(absl::Seconds(10)).has_value()) scheduler_.Signal(SIGKILL);
  scheduler_ = Subprocess();  // reaped, before its data goes
  for (const std::string& dir : {owns_data_dir_ ? data_dir_ : "", secure_dir_}) {
    if (dir.empty()) continue;
    std::error_code ignored;
    std::filesystem::remove_all(dir, ignored);
  }
}

absl::Status TestCluster::MakeCredentials() {
  absl::StatusOr<std::string> dir = MakeTempDir();
  if (!dir.ok()) return dir.status();
  secure_dir_ = *dir;
  const std::string script = absl::StrCat(NETPOOL_SOURCE_DIR, "/deploy/make-certs.sh");
  for (const std::vector<std::string>& argv :
       {std::vector<std::string>{script, "ca", secure_dir_},
        {script, "server", secure_dir_, "127.0.0.1", "localhost"}}) {
    CliResult made = RunProgram(argv);
    if (made.exit_code != 0) {
      return absl::InternalError(absl::StrCat(argv[0], " ", argv[1], ": ", made.err));
    }
  }
  if (absl::Status s = WritePrivateFile(
          secure_dir_ + "/tokens",
          absl::StrCat("client client ", kClientToken, "\nworker worker ", kWorkerToken, "\n"));
      !s.ok()) {
    return s;
  }
  if (absl::Status s = WritePrivateFile(secure_dir_ + "/worker.token", kWorkerToken); !s.ok()) {
    return s;
  }
  scheduler_argv_.insert(scheduler_argv_.end(),
                         {"--tls-cert", secure_dir_ + "/server.pem", "--tls-key",
                          secure_dir_ + "/server.key", "--token-file", secure_dir_ + "/tokens"});
  return absl::OkStatus();
}

ConnectOptions TestCluster::connect_options() const {
  ConnectOptions options;
  if (!secure_dir_.empty()) {
    options.tls_ca_file = secure_dir_ + "/ca.pem";
    options.token = kClientToken;
  }
  return options;
}

absl::Status TestCluster::RestartScheduler() {
  KillScheduler();
  return StartScheduler();
}

void TestCluster::KillScheduler() {
  scheduler_.Signal(SIGKILL);
  scheduler_.Wait(absl::Seconds(10));
}

absl::StatusOr<int> TestCluster::StopScheduler(absl::Duration timeout) {
  scheduler_.Signal(SIGTERM);
  std::optional<int> code = scheduler_.Wait(timeout);
  if (code.has_value()) return *code;
  KillScheduler();
  return absl::DeadlineExceededError(absl::StrCat("netpoold did not exit within ",
                                                  absl::FormatDuration(timeout), " of SIGTERM"));
}

absl::Status TestCluster::StartScheduler() {
  // The old scheduler's port may take a moment to be free again.
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  for (;;) {
    auto scheduler = LaunchScheduler(scheduler_argv_, address_);
    if (scheduler.ok()) {
      scheduler_ = std::move(scheduler->first);
      return absl::OkStatus();
    }
    if (!absl::IsUnavailable(scheduler.status()) || absl::Now() > deadline) {
      return scheduler.status();
    }
    absl::SleepFor(absl::Milliseconds(100));
  }
}

absl::StatusOr<int> TestCluster::AddWorker(int processes, std::vector<std::string> args,
                                           std::string binary, std::vector<std::string> env) {
  // A secure cluster's worker credential is named "worker": its nodes are
  // listed as worker/NAME.
  const std::string name = absl::StrCat(secure_dir_.empty() ? "" : "worker/", "node",
                                        workers_.size());
  std::vector<std::string> argv = {binary.empty() ? WorkerPath() : binary, "--scheduler",
                                   address_, "--processes", absl::StrCat(processes), "--name",
                                   name, "--allow-exec"};
  if (!secure_dir_.empty()) {
    argv.insert(argv.end(), {"--tls-ca", secure_dir_ + "/ca.pem", "--token-file",
                             secure_dir_ + "/worker.token"});
  }
  argv.insert(argv.end(), args.begin(), args.end());
  absl::StatusOr<Subprocess> worker = Subprocess::Start(argv, {.extra_env = std::move(env)});
  if (!worker.ok()) return worker.status();
  workers_.push_back(*std::move(worker));
  if (absl::Status s = WaitForWorkerNamed(name, absl::Seconds(30)); !s.ok()) return s;
  return worker_count() - 1;
}

std::vector<pid_t> TestCluster::WorkerProcessPids(int index) const {
  return ChildPids(workers_[index].pid());
}

ClientSecurity TestCluster::owner_security() const {
  ClientSecurity security;
  if (!secure_dir_.empty()) security.tls_ca_file = secure_dir_ + "/ca.pem";
  return security;
}

std::shared_ptr<grpc::Channel> TestCluster::OwnerChannel(const grpc::ChannelArguments& args) const {
  absl::StatusOr<ClientTransport> transport = ClientTransport::Create(address_, owner_security());
  if (!transport.ok()) transport = ClientTransport::ForLocalScheduler("");
  return transport->NewChannel(address_, args);
}

void TestCluster::AuthorizeAsOwner(grpc::ClientContext& context) const {
  absl::StatusOr<ClientTransport> transport = ClientTransport::Create(address_, owner_security());
  if (transport.ok()) transport->Authorize(context);
}

absl::Status TestCluster::WaitForWorkerNamed(const std::string& name, absl::Duration timeout) {
  auto stub = v1::Scheduler::NewStub(OwnerChannel());
  const absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    grpc::ClientContext context;
    AuthorizeAsOwner(context);
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(2)));
    v1::ListWorkersResponse workers;
    if (stub->ListWorkers(&context, v1::ListWorkersRequest(), &workers).ok()) {
      for (const v1::WorkerStatus& worker : workers.workers()) {
        if (worker.name() == name) return absl::OkStatus();
      }
    }
    absl::SleepFor(absl::Milliseconds(20));
  }
  return absl::DeadlineExceededError(
      absl::StrCat("worker node ", name, " did not connect to the scheduler at ", address_));
}

absl::Status TestCluster::WaitForWorkers(int nodes, int slots, absl::Duration timeout) {
  auto stub = v1::Scheduler::NewStub(OwnerChannel());
  const absl::Time deadline = absl::Now() + timeout;
  v1::GetStatsResponse stats;
  while (absl::Now() < deadline) {
    grpc::ClientContext context;
    AuthorizeAsOwner(context);
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

CliResult RunProgram(const std::vector<std::string>& argv, const std::string& stdin_data,
                     absl::Duration timeout, const std::vector<std::string>& extra_env) {
  CliResult result;
  absl::StatusOr<Subprocess> program = Subprocess::Start(
      argv,
      {.pipe_stdin = true, .pipe_stdout = true, .pipe_stderr = true, .extra_env = extra_env});
  if (!program.ok()) {
    result.err = program.status().ToString();
    return result;
  }
  program->WriteStdinAndClose(stdin_data);
  absl::StatusOr<int> code = program->Communicate(timeout, &result.out, &result.err);
  result.exit_code = code.ok() ? *code : -1;
  if (!code.ok()) result.err += code.status().ToString();
  return result;
}

CliResult TestCluster::RunCli(const std::vector<std::string>& args, const std::string& stdin_data,
                              absl::Duration timeout) const {
  std::vector<std::string> argv = {CliPath(), "--scheduler", address_};
  if (!secure_dir_.empty()) argv.insert(argv.end(), {"--tls-ca", secure_dir_ + "/ca.pem"});
  argv.insert(argv.end(), args.begin(), args.end());
  return RunProgram(argv, stdin_data, timeout);
}

}  // namespace netpool::testing
