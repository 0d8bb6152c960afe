#include "client/local_pool.h"

#include <chrono>
#include <fstream>
#include <iterator>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "common/local_token.h"
#include "common/logging.h"
#include "common/transport.h"
#include "grpcpp/server.h"
#include "grpcpp/server_builder.h"
#include "netpool/pool.h"
#include "server/auth/authenticator.h"
#include "server/core/clock.h"
#include "server/server_setup.h"
#include "server/scheduler_runtime.h"
#include "server/scheduler_service.h"
#include "server/store/memory_store.h"
#include "server/worker_hub_service.h"
#include "spdlog/spdlog.h"
#include "worker/node_agent.h"
#include "worker/worker_process.h"

namespace netpool {
namespace internal {
namespace {

// How long Start waits for the node to register with the scheduler: both
// are in this process, so only a broken machine takes longer.
constexpr absl::Duration kNodeStartTimeout = absl::Seconds(30);
constexpr absl::Duration kNodePollInterval = absl::Milliseconds(1);

// A spawned worker process runs main() from the top; if main() reached
// Pool::Local, it did not call netpool::Init first, and carrying on would
// spawn pools from pools.
bool IsSpawnedWorkerProcess() {
  std::ifstream file("/proc/self/cmdline", std::ios::binary);
  const std::string cmdline((std::istreambuf_iterator<char>(file)),
                            std::istreambuf_iterator<char>());
  std::vector<std::string> words = absl::StrSplit(cmdline, '\0');
  std::vector<char*> argv;
  for (std::string& word : words) argv.push_back(word.data());
  return IsWorkerProcess(static_cast<int>(argv.size()), argv.data());
}

// The embedded scheduler and node log through spdlog like every netpool
// program; their info lines must not land on the program's stdout (spdlog's
// untouched default), so an untouched default logger gets netpool's quiet
// stderr one. A program that set up its own logger keeps it.
void QuietDefaultLogger() {
  if (spdlog::default_logger()->name().empty()) InitLogging();
}

}  // namespace

absl::StatusOr<std::unique_ptr<LocalPool>> LocalPool::Start(int processes) {
  if (processes < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("a local pool needs 0 (one per core) or more processes, got ", processes));
  }
  if (IsSpawnedWorkerProcess()) {
    return absl::FailedPreconditionError(
        "Pool::Local was called in a worker process: call netpool::Init(argc, argv) first "
        "thing in main()");
  }
  if (processes == 0) processes = DefaultProcessCount();
  QuietDefaultLogger();

  std::unique_ptr<LocalPool> pool(new LocalPool());
  pool->clock_ = std::make_unique<RealClock>();
  pool->token_ = NewToken();
  Authenticator::Options auth;
  auth.owner_token = pool->token_;
  auth.owner_name = "local";
  absl::StatusOr<std::unique_ptr<Authenticator>> authenticator = Authenticator::Create(auth);
  if (!authenticator.ok()) return authenticator.status();
  pool->authenticator_ = *std::move(authenticator);
  pool->runtime_ = std::make_unique<SchedulerRuntime>(
      pool->clock_.get(), std::make_unique<MemoryStore>(), SchedulerRuntime::Options());
  pool->scheduler_service_ =
      std::make_unique<SchedulerService>(pool->runtime_.get(), pool->authenticator_.get());
  pool->worker_hub_service_ =
      std::make_unique<WorkerHubService>(pool->runtime_.get(), pool->authenticator_.get());

  // The same services on the same transport as netpoold, so that a local
  // pool cannot behave differently from a remote one.
  grpc::ServerBuilder builder;
  int port = 0;
  absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> plaintext =
      MakeServerCredentials(ServerTls());
  if (!plaintext.ok()) return plaintext.status();
  builder.AddListeningPort("127.0.0.1:0", *plaintext, &port);
  ConfigureSchedulerServer(builder, pool->scheduler_service_.get(),
                           pool->worker_hub_service_.get());
  pool->server_ = builder.BuildAndStart();
  if (pool->server_ == nullptr || port == 0) {
    return absl::UnavailableError("cannot start the local scheduler on 127.0.0.1");
  }
  pool->address_ = absl::StrCat("127.0.0.1:", port);

  NodeAgent::Options node;
  node.scheduler = pool->address_;
  node.name = "local";
  node.processes = processes;
  node.policy.allow_exec = true;
  node.transport = ClientTransport::ForLocalScheduler(pool->token_);
  pool->node_ = std::make_unique<NodeAgent>(std::move(node));
  pool->node_->Start();

  // Map's default chunksize comes from the slots, so they must be counted
  // before the pool is handed out.
  const absl::Time deadline = absl::Now() + kNodeStartTimeout;
  while (pool->runtime_->Stats().slots() < processes) {
    if (absl::Now() >= deadline) {
      return absl::UnavailableError(absl::StrCat("the local worker node did not connect within ",
                                                 absl::FormatDuration(kNodeStartTimeout)));
    }
    absl::SleepFor(kNodePollInterval);
  }
  return pool;
}

LocalPool::~LocalPool() {
  // The node first: it stops and reaps its processes, and closes its stream
  // so the server has nothing left to wait for.
  node_.reset();
  if (server_ != nullptr) {
    // Nothing connects here but the node and the client that owns this pool,
    // and both are gone: cancel whatever is left at once.
    server_->Shutdown(std::chrono::system_clock::now());
    server_->Wait();
  }
}

void LocalPool::StopWorkers() { node_->Stop(); }

absl::StatusOr<std::shared_ptr<PoolClient>> ConnectLocalPool(std::shared_ptr<LocalPool> pool) {
  SchedulerClient::Options options;
  options.wait_for_ready = true;
  options.transport = ClientTransport::ForLocalScheduler(pool->token());
  absl::StatusOr<std::shared_ptr<PoolClient>> client =
      PoolClient::Connect(pool->address(), ConnectOptions().connect_timeout, options,
                          SchedulerClient::ConnectMode::kRetryUntilTimeout);
  if (!client.ok()) return client.status();
  (*client)->Own(std::move(pool));
  return client;
}

}  // namespace internal

absl::StatusOr<Pool> Pool::Local(int processes) {
  absl::StatusOr<std::unique_ptr<internal::LocalPool>> local =
      internal::LocalPool::Start(processes);
  if (!local.ok()) return local.status();
  absl::StatusOr<std::shared_ptr<internal::PoolClient>> client =
      internal::ConnectLocalPool(*std::move(local));
  if (!client.ok()) return client.status();
  return Pool(*std::move(client));
}

}  // namespace netpool
