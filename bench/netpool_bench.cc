// netpool_bench: netpool's speed and memory on this machine, measured the way
// a user meets them: a real netpoold and real netpool-worker nodes on
// 127.0.0.1, driven through the public Pool API. Each workload runs --runs
// times on a fresh deployment; the table gives the median with min and max.
//
//   A  ApplyAsync of 10,000 and 100,000 no-op tasks, then a Get of each
//   B  Map over 100,000 items (default chunksize) and 20,000 (chunksize 1);
//      the latter also on a node 20 ms of round trip away from its scheduler
//   C  1,000 sequential Apply round trips: p50 and p99
//   D  20 tasks sleeping 2 s on 16 worker processes: makespan (ideal 4 s),
//      and how long the 16-process node takes to start
//   E  scheduler memory per queued job, 100,000 and 1,000,000 queued
//   F  A with the durable store (SQLite) next to the memory store, and the
//      fsync that each of its group commits waits for
//   G  A with 0, 100,000 and 1,000,000 jobs queued behind a label no node has
//   H  B's 20,000-item chunksize-1 Map on 1, 100 and 1,000 simulated nodes
//      (SimNodes: one process speaks the worker protocol for all of them),
//      with netpoold's CPU per job and its thread count
//   L  A, B and C on Pool::Local(P): no daemon, this program's own processes
//
//   netpool_bench [--runs N] [--processes P] [--quick] [--json] [--only A,B,...]
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/algorithm/container.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "bench/delayed_link.h"
#include "bench/metrics_scraper.h"
#include "bench/run_summary.h"
#include "bench/sim_nodes.h"
#include "bench/workloads.h"
#include "common/local_token.h"
#include "common/process_setup.h"
#include "netpool/worker.h"
#include "tests/support/http_endpoint.h"
#include "tests/support/subprocess.h"
#include "tests/support/test_cluster.h"

namespace netpool::bench {
namespace {

using testing::LocalTokenFor;
using testing::ReadHttpPort;
using testing::TestCluster;

// Workload sizes: the issue's, or --quick's, which only show that every
// workload runs (seconds in all).
struct Sizes {
  int apply_small = 10'000;
  int apply_large = 100'000;
  int map_items = 100'000;
  int map_chunk1_items = 20'000;
  int round_trips = 1'000;
  int sleep_tasks = 20;
  double sleep_seconds = 2.0;
  int sleep_processes = 16;
  int64_t queued_small = 100'000;
  int64_t queued_large = 1'000'000;
  // H: simulated nodes, as many as the row keys name.
  std::vector<int> sim_nodes = {1, 100, 1'000};

  static Sizes Quick() {
    return {500, 2'000, 5'000, 1'000, 100, 20, 0.1, 16, 2'000, 10'000, {1, 10, 50}};
  }
};

// One row of the table: how a measurement is named, read and judged.
struct Row {
  std::string key;
  std::string workload;
  std::string description;
  std::string unit;
  bool higher_is_better = true;
  std::optional<double> target;  // the target, when it has one
  std::vector<double> samples;
};

class Bench {
 public:
  Bench(Sizes sizes, bool quick, int runs, int processes, std::vector<std::string> only)
      : sizes_(sizes), quick_(quick), runs_(runs), processes_(processes), only_(std::move(only)) {}

  absl::Status RunAll() {
    if (Wanted("A") || Wanted("B") || Wanted("C") || Wanted("F")) {
      if (absl::Status s = Repeat([this] { return RunOnMemoryStore(); }); !s.ok()) return s;
    }
    if (Wanted("B")) {
      if (absl::Status s = Repeat([this] { return RunAcrossDelay(); }); !s.ok()) return s;
    }
    if (Wanted("A")) {
      // Across TLS, with a client token and a node that joined with a worker
      // token, as on many hosts.
      absl::Status s = Repeat([this] { return RunWarmApply("A10k_tls", {.secure = true}); });
      if (!s.ok()) return s;
      // netpoold counting for /metrics against not counting, alternately on
      // fresh clusters, while /metrics is scraped every second.
      s = Repeat([this]() -> absl::Status {
        if (absl::Status off = RunWarmApply("A10k_http_off", {}); !off.ok()) return off;
        return RunWarmApply("A10k_http", {.scheduler_args = {"--http", "127.0.0.1:0"}});
      });
      if (!s.ok()) return s;
    }
    if (Wanted("F")) {
      absl::Status s = Repeat([this] { return RunWarmApply("F_sqlite", {.durable = true}); });
      if (!s.ok()) return s;
      if (s = Repeat([this] { return MeasureFsync(); }); !s.ok()) return s;
    }
    if (Wanted("D")) {
      if (absl::Status s = Repeat([this] { return RunSleepers(); }); !s.ok()) return s;
    }
    if (Wanted("E")) {
      if (absl::Status s = Repeat([this] { return RunQueueMemory(); }); !s.ok()) return s;
    }
    if (Wanted("G")) {
      for (int64_t queued : {int64_t{0}, sizes_.queued_small, sizes_.queued_large}) {
        if (absl::Status s = Repeat([this, queued] { return RunBehindQueue(queued); }); !s.ok()) {
          return s;
        }
      }
    }
    if (Wanted("H")) {
      for (size_t i = 0; i < sizes_.sim_nodes.size(); ++i) {
        absl::Status s = Repeat([this, i] { return RunOnSimulatedNodes(i); });
        if (!s.ok()) return s;
      }
    }
    if (Wanted("L")) {
      if (absl::Status s = Repeat([this] { return RunLocal(); }); !s.ok()) return s;
    }
    return absl::OkStatus();
  }

  // "WHAT: R x BASELINE (target >= T: ok|no)", R the ratio of the medians of
  // rows `key` and `baseline_key`, when both ran.
  void PrintRatio(const char* key, const char* baseline_key, const char* what,
                  const char* baseline, double target) const {
    const Row* row = Find(key);
    const Row* base = Find(baseline_key);
    if (row == nullptr || base == nullptr || row->samples.empty() || base->samples.empty()) return;
    const double ratio = RunSummary::Of(row->samples).median / RunSummary::Of(base->samples).median;
    std::printf("%s: %.2f x %s (target >= %.2f: %s)\n", what, ratio, baseline, target,
                ratio >= target ? "ok" : "no");
  }

  void PrintTable() const {
    std::printf("netpool_bench: medians of %d runs, %d worker processes per node%s\n", runs_,
                processes_, quick_ ? " (--quick: small sizes, not the ones named)" : "");
    std::printf("%-16s %-58s %-9s %10s %10s %10s %12s\n", "key", "workload", "unit", "median",
                "min", "max", "target");
    for (const Row& row : rows_) {
      if (row.samples.empty()) continue;
      const RunSummary s = RunSummary::Of(row.samples);
      std::string target = "-";
      if (row.target) {
        const bool met = row.higher_is_better ? s.median >= *row.target : s.median <= *row.target;
        target = absl::StrCat(row.higher_is_better ? ">=" : "<=", Format(*row.target),
                              met ? " ok" : " no");
      }
      std::printf("%-16s %-58s %-9s %10s %10s %10s %12s\n", row.key.c_str(),
                  row.description.c_str(), row.unit.c_str(), Format(s.median).c_str(),
                  Format(s.min).c_str(), Format(s.max).c_str(), target.c_str());
    }
    // Auth and metrics must not cost the hot path.
    PrintRatio("A10k_tls", "A10k", "A10k with TLS and tokens", "plaintext", 0.80);
    PrintRatio("A10k_http", "A10k_http_off", "A10k with --http and scrapes", "--http off", 0.95);
    // G: the cost per job (1 / rate) with a queue, next to the cost without.
    if (const Row* g0 = Find("G_0"); g0 != nullptr && !g0->samples.empty()) {
      for (const char* key : {"G_100k", "G_1M"}) {
        const Row* g = Find(key);
        if (g == nullptr || g->samples.empty()) continue;
        const double cost = RunSummary::Of(g0->samples).median / RunSummary::Of(g->samples).median;
        std::printf("cost per job with %s queued: %.2f x that with none (flat within 20%%: %s)\n",
                    key + 2, cost, cost <= 1.2 ? "yes" : "no");
      }
    }
    // H: the rate on many nodes next to that on one.
    const Row* one = Find("H_1");
    const Row* many = Find("H_1000");
    if (one != nullptr && many != nullptr && !one->samples.empty() && !many->samples.empty()) {
      const double ratio =
          RunSummary::Of(many->samples).median / RunSummary::Of(one->samples).median;
      std::printf("H_1000 items/s: %.2f x H_1 (target >= 0.80: %s)\n", ratio,
                  ratio >= 0.8 ? "ok" : "no");
    }
  }

  void PrintJson() const {
    std::printf("{\"runs\": %d, \"processes\": %d, \"results\": [", runs_, processes_);
    const char* separator = "";
    for (const Row& row : rows_) {
      if (row.samples.empty()) continue;
      const RunSummary s = RunSummary::Of(row.samples);
      std::printf(
          "%s\n  {\"key\": \"%s\", \"workload\": \"%s\", \"description\": \"%s\", \"unit\": "
          "\"%s\", \"better\": \"%s\", \"median\": %.6g, \"min\": %.6g, \"max\": %.6g, "
          "\"target\": %s}",
          separator, row.key.c_str(), row.workload.c_str(), row.description.c_str(),
          row.unit.c_str(), row.higher_is_better ? "higher" : "lower", s.median, s.min, s.max,
          row.target ? absl::StrCat(*row.target).c_str() : "null");
      separator = ",";
    }
    std::printf("\n]}\n");
  }

 private:
  bool Wanted(std::string_view workload) const {
    return only_.empty() || std::find(only_.begin(), only_.end(), workload) != only_.end();
  }

  absl::Status Repeat(const std::function<absl::Status()>& run) {
    for (int i = 0; i < runs_; ++i) {
      if (absl::Status s = run(); !s.ok()) return s;
    }
    return absl::OkStatus();
  }

  Row* Find(std::string_view key) {
    for (Row& row : rows_) {
      if (row.key == key) return &row;
    }
    return nullptr;
  }
  const Row* Find(std::string_view key) const { return const_cast<Bench*>(this)->Find(key); }

  void Add(std::string_view key, double sample) { Find(key)->samples.push_back(sample); }

  void Progress(std::string_view what) const {
    if (!isatty(STDERR_FILENO)) return;
    std::fprintf(stderr, "netpool_bench: %s\n", std::string(what).c_str());
  }

  static absl::StatusOr<Pool> ConnectTo(const TestCluster& cluster) {
    absl::StatusOr<Pool> pool = Pool::Connect(cluster.address(), cluster.connect_options());
    if (!pool.ok()) return pool.status();
    // The first calls open the channel and the result stream.
    for (int i = 0; i < 100; ++i) {
      if (absl::StatusOr<Value> v = pool->Apply("echo", {i}); !v.ok()) return v.status();
    }
    return pool;
  }

  // A10k on `cluster`, after ConnectTo's warm-up.
  absl::StatusOr<double> WarmApplyRate(const TestCluster& cluster) {
    absl::StatusOr<Pool> pool = ConnectTo(cluster);
    if (!pool.ok()) return pool.status();
    return ApplyAsyncRate(*pool, sizes_.apply_small);
  }

  // A, B, C and F's memory row on one node of `processes_` processes.
  absl::Status RunOnMemoryStore() {
    Progress("A, B, C on the memory store");
    absl::StatusOr<std::unique_ptr<TestCluster>> cluster =
        TestCluster::Start({.workers = 1, .processes = processes_});
    if (!cluster.ok()) return cluster.status();
    absl::StatusOr<Pool> pool = ConnectTo(**cluster);
    if (!pool.ok()) return pool.status();
    if (Wanted("A") || Wanted("F")) {
      absl::StatusOr<double> small = ApplyAsyncRate(*pool, sizes_.apply_small);
      if (!small.ok()) return small.status();
      Add("A10k", *small);
      Add("F_memory", *small);
    }
    if (Wanted("A")) {
      // Where the CPU time of the large run goes, process by process.
      TestCluster& deployment = **cluster;
      const std::vector<double> before = ProcessCpuSeconds(deployment);
      absl::StatusOr<double> large = ApplyAsyncRate(*pool, sizes_.apply_large);
      if (!large.ok()) return large.status();
      const std::vector<double> after = ProcessCpuSeconds(deployment);
      Add("A100k", *large);
      const char* keys[] = {"A_cpu_client", "A_cpu_netpoold", "A_cpu_node", "A_cpu_processes"};
      for (size_t i = 0; i < before.size(); ++i) {
        Add(keys[i], (after[i] - before[i]) * 1e6 / sizes_.apply_large);
      }
    }
    if (Wanted("B")) {
      absl::StatusOr<ColdAndWarm> chunked = DefaultMapRates(*pool, sizes_.map_items);
      if (!chunked.ok()) return chunked.status();
      Add("B_default", chunked->warm);
      Add("B_default_cold", chunked->cold);
      if (absl::Status s = MeasureMapCpu(**cluster, *pool); !s.ok()) return s;
      absl::StatusOr<double> single = MapRate(*pool, sizes_.map_chunk1_items, 1);
      if (!single.ok()) return single.status();
      Add("B_chunk1", *single);
    }
    if (Wanted("C")) {
      absl::StatusOr<std::vector<double>> micros = RoundTripMicros(*pool, sizes_.round_trips);
      if (!micros.ok()) return micros.status();
      Add("C_p50", Percentile(*micros, 50));
      Add("C_p99", Percentile(*micros, 99));
      absl::StatusOr<std::vector<double>> rpc =
          RpcRoundTripMicros((*cluster)->address(), sizes_.round_trips);
      if (!rpc.ok()) return rpc.status();
      Add("C_rpc_p50", Percentile(*rpc, 50));
    }
    return absl::OkStatus();
  }

  // CPU seconds so far of this program, netpoold, the node agent and its
  // worker processes (together), in that order.
  static std::vector<double> ProcessCpuSeconds(TestCluster& deployment) {
    double in_processes = 0;
    for (pid_t pid : deployment.WorkerProcessPids(0)) in_processes += CpuSeconds(pid);
    return {CpuSeconds(getpid()), CpuSeconds(deployment.scheduler_pid()),
            CpuSeconds(deployment.worker_pid(0)), in_processes};
  }

  // Where B_default's time goes, process by process, over kCpuMaps more
  // warm maps (the kernel counts CPU time in 10 ms ticks, a map takes tens
  // of milliseconds), and how many of the cores were busy meanwhile.
  absl::Status MeasureMapCpu(TestCluster& deployment, Pool& pool) {
    constexpr int kCpuMaps = 20;
    const std::vector<double> before = ProcessCpuSeconds(deployment);
    const absl::Time start = absl::Now();
    for (int i = 0; i < kCpuMaps; ++i) {
      if (absl::StatusOr<double> rate = MapRate(pool, sizes_.map_items, 0); !rate.ok()) {
        return rate.status();
      }
    }
    const double wall = absl::ToDoubleSeconds(absl::Now() - start);
    const std::vector<double> after = ProcessCpuSeconds(deployment);
    const char* keys[] = {"B_cpu_client", "B_cpu_netpoold", "B_cpu_node", "B_cpu_processes"};
    const double thousands = kCpuMaps * static_cast<double>(sizes_.map_items) / 1000;
    double busy = 0;
    for (size_t i = 0; i < before.size(); ++i) {
      Add(keys[i], (after[i] - before[i]) * 1e6 / thousands);
      busy += after[i] - before[i];
    }
    Add("B_cores_busy", busy / wall);
    return absl::OkStatus();
  }

  // B's chunksize-1 map on a node whose link to the scheduler adds 10 ms
  // each way, as between hosts: its window must cover the round trip. No-op
  // jobs, and jobs of 1 ms, whose run time bounds the window too.
  absl::Status RunAcrossDelay() {
    Progress("B across a 20 ms round trip");
    absl::StatusOr<std::unique_ptr<TestCluster>> cluster = TestCluster::Start({.workers = 0});
    if (!cluster.ok()) return cluster.status();
    const std::string& address = (*cluster)->address();
    absl::StatusOr<std::unique_ptr<DelayedLink>> link =
        DelayedLink::Start(address, absl::Milliseconds(10));
    if (!link.ok()) return link.status();
    // The scheduler's own token, which a node finds by the scheduler's port
    // only when it connects to that port.
    int port = 0;
    if (!absl::SimpleAtoi(address.substr(address.rfind(':') + 1), &port)) {
      return absl::InternalError(absl::StrCat("no port in ", address));
    }
    absl::StatusOr<testing::Subprocess> node = testing::Subprocess::Start(
        {testing::WorkerPath(), "--scheduler", (*link)->address(), "--token-file",
         LocalTokenPath(port), "--processes", absl::StrCat(processes_), "--name", "far"});
    if (!node.ok()) return node.status();
    if (absl::Status s = (*cluster)->WaitForWorkers(1, processes_, absl::Seconds(30)); !s.ok()) {
      return s;
    }
    absl::StatusOr<Pool> pool = ConnectTo(**cluster);
    if (!pool.ok()) return pool.status();
    absl::StatusOr<double> noop = MapRate(*pool, sizes_.map_chunk1_items, 1);
    if (!noop.ok()) return noop.status();
    Add("B_chunk1_rtt20ms", *noop);
    absl::StatusOr<double> sleeps = MapSleepRate(*pool, sizes_.map_chunk1_items, 0.001, 1);
    if (!sleeps.ok()) return sleeps.status();
    Add("B_1ms_rtt20ms", *sleeps);
    return absl::OkStatus();
  }

  // F's floor: one fdatasync of a small write where the durable store keeps
  // its file, which each of its group commits waits for.
  absl::Status MeasureFsync() {
    Progress("F: fsync");
    // Where TestCluster keeps a durable store's data.
    std::string path = std::filesystem::temp_directory_path() / "netpool-fsync-XXXXXX";
    const int fd = ::mkstemp(path.data());
    if (fd < 0) return absl::InternalError(absl::StrCat("mkstemp ", path, ": ", std::strerror(errno)));
    ::unlink(path.c_str());
    const std::string block(4096, 'x');
    std::vector<double> micros;
    for (int i = 0; i < 100; ++i) {
      const absl::Time start = absl::Now();
      if (::pwrite(fd, block.data(), block.size(), 0) < 0 || ::fdatasync(fd) != 0) {
        const int error = errno;
        ::close(fd);
        return absl::InternalError(absl::StrCat("fdatasync ", path, ": ", std::strerror(error)));
      }
      micros.push_back(absl::ToDoubleMicroseconds(absl::Now() - start));
    }
    ::close(fd);
    Add("F_fsync", Percentile(micros, 50));
    return absl::OkStatus();
  }

  // L: A, B and C on Pool::Local, a scheduler inside this program and
  // worker processes spawned from it: no daemon, as a notebook uses it.
  absl::Status RunLocal() {
    Progress("A, B, C on Pool::Local");
    absl::StatusOr<Pool> pool = Pool::Local(processes_);
    if (!pool.ok()) return pool.status();
    for (int i = 0; i < 100; ++i) {
      if (absl::StatusOr<Value> v = pool->Apply("echo", {i}); !v.ok()) return v.status();
    }
    absl::StatusOr<double> apply = ApplyAsyncRate(*pool, sizes_.apply_small);
    if (!apply.ok()) return apply.status();
    Add("L_A10k", *apply);
    absl::StatusOr<ColdAndWarm> chunked = DefaultMapRates(*pool, sizes_.map_items);
    if (!chunked.ok()) return chunked.status();
    Add("L_B_default", chunked->warm);
    Add("L_B_default_cold", chunked->cold);
    absl::StatusOr<double> single = MapRate(*pool, sizes_.map_chunk1_items, 1);
    if (!single.ok()) return single.status();
    Add("L_B_chunk1", *single);
    absl::StatusOr<std::vector<double>> micros = RoundTripMicros(*pool, sizes_.round_trips);
    if (!micros.ok()) return micros.status();
    Add("L_C_p50", Percentile(*micros, 50));
    Add("L_C_p99", Percentile(*micros, 99));
    return absl::OkStatus();
  }

  // A10k on a fresh one-node cluster started with `options`, as row `key`;
  // with --http among the scheduler's arguments, /metrics is scraped
  // meanwhile.
  absl::Status RunWarmApply(std::string_view key, TestCluster::Options options) {
    Progress(key);
    options.workers = 1;
    options.processes = processes_;
    const bool http = absl::c_linear_search(options.scheduler_args, "--http");
    absl::StatusOr<std::unique_ptr<TestCluster>> cluster = TestCluster::Start(options);
    if (!cluster.ok()) return cluster.status();
    std::optional<MetricsScraper> scraper;
    if (http) {
      absl::StatusOr<int> port = ReadHttpPort((*cluster)->scheduler(), absl::Seconds(10));
      if (!port.ok()) return port.status();
      absl::StatusOr<std::string> token = LocalTokenFor((*cluster)->address());
      if (!token.ok()) return token.status();
      scraper.emplace(*port, *token);
    }
    absl::StatusOr<double> rate = WarmApplyRate(**cluster);
    if (!rate.ok()) return rate.status();
    Add(key, *rate);
    return absl::OkStatus();
  }

  // D: the node's start (until the scheduler has its slots and all of its
  // processes exist), then the sleepers.
  absl::Status RunSleepers() {
    Progress("D");
    absl::StatusOr<std::unique_ptr<TestCluster>> cluster = TestCluster::Start({.workers = 0});
    if (!cluster.ok()) return cluster.status();
    const absl::Time start = absl::Now();
    absl::StatusOr<int> node = (*cluster)->AddWorker(sizes_.sleep_processes);
    if (!node.ok()) return node.status();
    while ((*cluster)->WorkerProcessPids(*node).size() <
           static_cast<size_t>(sizes_.sleep_processes)) {
      if (absl::Now() - start > absl::Seconds(60)) {
        return absl::DeadlineExceededError("worker processes did not start within 60 s");
      }
      absl::SleepFor(absl::Milliseconds(1));
    }
    Add("D_startup", absl::ToDoubleSeconds(absl::Now() - start));
    absl::StatusOr<Pool> pool = Pool::Connect((*cluster)->address());
    if (!pool.ok()) return pool.status();
    absl::StatusOr<double> makespan =
        SleepMakespan(*pool, sizes_.sleep_tasks, sizes_.sleep_seconds);
    if (!makespan.ok()) return makespan.status();
    Add("D_makespan", *makespan);
    return absl::OkStatus();
  }

  // E: the scheduler's memory growth per job while no node is there to run
  // them, first at queued_small jobs, then at queued_large.
  absl::Status RunQueueMemory() {
    Progress("E");
    absl::StatusOr<std::unique_ptr<TestCluster>> cluster = TestCluster::Start({.workers = 0});
    if (!cluster.ok()) return cluster.status();
    const pid_t scheduler = (*cluster)->scheduler_pid();
    absl::StatusOr<int64_t> before = ResidentBytes(scheduler);
    if (!before.ok()) return before.status();
    int64_t queued = 0;
    for (int64_t target : {sizes_.queued_small, sizes_.queued_large}) {
      absl::Status filled = FillQueue((*cluster)->address(), target - queued, {});
      if (!filled.ok()) return filled;
      queued = target;
      absl::StatusOr<int64_t> after = ResidentBytes(scheduler);
      if (!after.ok()) return after.status();
      Add(target == sizes_.queued_small ? "E_100k" : "E_1M",
          static_cast<double>(*after - *before) / static_cast<double>(queued));
    }
    return absl::OkStatus();
  }

  // G: A10k while `queued` jobs wait behind a label no node has.
  absl::Status RunBehindQueue(int64_t queued) {
    Progress(absl::StrCat("G with ", queued, " jobs queued"));
    absl::StatusOr<std::unique_ptr<TestCluster>> cluster = TestCluster::Start({.workers = 0});
    if (!cluster.ok()) return cluster.status();
    if (absl::Status s = FillQueue((*cluster)->address(), queued, {{"bench", "parked"}}); !s.ok()) {
      return s;
    }
    if (absl::StatusOr<int> node = (*cluster)->AddWorker(processes_); !node.ok()) {
      return node.status();
    }
    absl::StatusOr<double> rate = WarmApplyRate(**cluster);
    if (!rate.ok()) return rate.status();
    Add(queued == 0 ? "G_0" : queued == sizes_.queued_small ? "G_100k" : "G_1M", *rate);
    return absl::OkStatus();
  }

  // H: B_chunk1's Map on the `index`th count of simulated nodes, with
  // netpoold's CPU per job and threads during it.
  absl::Status RunOnSimulatedNodes(size_t index) {
    const int nodes = sizes_.sim_nodes[index];
    const std::string key = absl::StrCat("H_", kSimNodeKeys[index]);
    Progress(absl::StrCat("H with ", nodes, " simulated nodes"));
    absl::StatusOr<std::unique_ptr<TestCluster>> cluster = TestCluster::Start({.workers = 0});
    if (!cluster.ok()) return cluster.status();
    absl::StatusOr<std::unique_ptr<SimNodes>> sim = SimNodes::Start(**cluster, {.nodes = nodes});
    if (!sim.ok()) return sim.status();
    absl::StatusOr<Pool> pool = ConnectTo(**cluster);
    if (!pool.ok()) return pool.status();
    const pid_t scheduler = (*cluster)->scheduler_pid();
    const double cpu_before = CpuSeconds(scheduler);
    absl::StatusOr<double> rate = MapRate(*pool, sizes_.map_chunk1_items, 1);
    if (!rate.ok()) return rate.status();
    const double cpu_after = CpuSeconds(scheduler);
    absl::StatusOr<int64_t> threads = ThreadCount(scheduler);
    if (!threads.ok()) return threads.status();
    Add(key, *rate);
    Add(absl::StrCat(key, "_cpu"), (cpu_after - cpu_before) * 1e6 / sizes_.map_chunk1_items);
    Add(absl::StrCat(key, "_threads"), static_cast<double>(*threads));
    return absl::OkStatus();
  }

  static std::string Format(double value) {
    if (value >= 100) return absl::StrCat(static_cast<int64_t>(value + 0.5));
    char text[32];
    std::snprintf(text, sizeof(text), "%.2f", value);
    return text;
  }

  const Sizes sizes_;
  const bool quick_;
  const int runs_;
  const int processes_;
  const std::vector<std::string> only_;
  std::vector<Row> rows_ = {
      {"A10k", "A", "10,000 ApplyAsync no-op tasks, then Get each", "tasks/s", true, 100'000},
      {"A100k", "A", "100,000 ApplyAsync no-op tasks, then Get each", "tasks/s", true, 100'000},
      {"A10k_tls", "A", "A10k over TLS with a client token (node: worker token)", "tasks/s",
       true, std::nullopt},
      {"A10k_http_off", "A", "A10k on a fresh cluster, netpoold --http off", "tasks/s", true,
       std::nullopt},
      {"A10k_http", "A", "A10k, netpoold --http on, /metrics scraped every second", "tasks/s",
       true, std::nullopt},
      {"A_cpu_client", "A", "  CPU per task in A100k: the client (this program)", "us/task", false,
       std::nullopt},
      {"A_cpu_netpoold", "A", "  CPU per task in A100k: netpoold", "us/task", false, std::nullopt},
      {"A_cpu_node", "A", "  CPU per task in A100k: the node agent", "us/task", false,
       std::nullopt},
      {"A_cpu_processes", "A", "  CPU per task in A100k: the worker processes", "us/task", false,
       std::nullopt},
      {"B_default", "B", "Map no-op, 100,000 items, default chunksize", "items/s", true, 5e6},
      {"B_default_cold", "B", "  the same, the first map of a fresh deployment", "items/s", true,
       std::nullopt},
      {"B_cpu_client", "B", "  CPU per 1,000 items of B_default: the client", "us", false,
       std::nullopt},
      {"B_cpu_netpoold", "B", "  CPU per 1,000 items of B_default: netpoold", "us", false,
       std::nullopt},
      {"B_cpu_node", "B", "  CPU per 1,000 items of B_default: the node agent", "us", false,
       std::nullopt},
      {"B_cpu_processes", "B", "  CPU per 1,000 items of B_default: the worker processes", "us",
       false, std::nullopt},
      {"B_cores_busy", "B", "  cores busy meanwhile (of the machine's)", "cores", false,
       std::nullopt},
      {"B_chunk1", "B", "Map no-op, 20,000 items, chunksize 1", "items/s", true, 100'000},
      {"B_chunk1_rtt20ms", "B", "B_chunk1 on a node 20 ms of round trip away", "items/s", true,
       std::nullopt},
      {"B_1ms_rtt20ms", "B", "  the same with jobs of 1 ms (P processes: ideal P x 1000)",
       "items/s", true, std::nullopt},
      {"C_p50", "C", "1,000 sequential Apply: p50", "us", false, 100},
      {"C_p99", "C", "1,000 sequential Apply: p99", "us", false, 500},
      {"C_rpc_p50", "C", "  floor: 1,000 sequential bare gRPC calls (GetStats): p50", "us", false,
       std::nullopt},
      {"D_makespan", "D", "20 x sleep 2 s on 16 processes (ideal 4 s)", "s", false, 4.05},
      {"D_startup", "D", "start a node of 16 worker processes", "s", false, 1.0},
      {"E_100k", "E", "scheduler memory per queued job, 100,000 queued", "bytes/job", false, 200},
      {"E_1M", "E", "scheduler memory per queued job, 1,000,000 queued", "bytes/job", false, 200},
      {"F_memory", "F", "A10k with --store memory (the A10k run)", "tasks/s", true, 100'000},
      {"F_sqlite", "F", "A10k with the durable store (SQLite)", "tasks/s", true, 50'000},
      {"F_fsync", "F", "  floor of one group commit: fdatasync of 4 KiB, p50", "us", false,
       std::nullopt},
      {"G_0", "G", "A10k with 0 jobs queued behind a label", "tasks/s", true, std::nullopt},
      {"G_100k", "G", "A10k with 100,000 jobs queued behind a label", "tasks/s", true,
       std::nullopt},
      {"G_1M", "G", "A10k with 1,000,000 jobs queued behind a label", "tasks/s", true,
       std::nullopt},
      {"H_1", "H", "B_chunk1 on 1 simulated node (2 slots)", "items/s", true, std::nullopt},
      {"H_1_cpu", "H", "  CPU per job in H_1: netpoold", "us/job", false, std::nullopt},
      {"H_1_threads", "H", "  threads of netpoold in H_1", "threads", false, std::nullopt},
      {"H_100", "H", "B_chunk1 on 100 simulated nodes", "items/s", true, std::nullopt},
      {"H_100_cpu", "H", "  CPU per job in H_100: netpoold", "us/job", false, std::nullopt},
      {"H_100_threads", "H", "  threads of netpoold in H_100", "threads", false, std::nullopt},
      {"H_1000", "H", "B_chunk1 on 1,000 simulated nodes", "items/s", true, std::nullopt},
      {"H_1000_cpu", "H", "  CPU per job in H_1000: netpoold", "us/job", false, std::nullopt},
      {"H_1000_threads", "H", "  threads of netpoold in H_1000", "threads", false,
       std::nullopt},
      {"L_A10k", "L", "A10k on Pool::Local (no daemon)", "tasks/s", true, std::nullopt},
      {"L_B_default", "L", "B_default on Pool::Local", "items/s", true, std::nullopt},
      {"L_B_default_cold", "L", "  the same, the first map of a fresh Pool::Local", "items/s",
       true, std::nullopt},
      {"L_B_chunk1", "L", "B_chunk1 on Pool::Local", "items/s", true, std::nullopt},
      {"L_C_p50", "L", "C_p50 on Pool::Local", "us", false, std::nullopt},
      {"L_C_p99", "L", "C_p99 on Pool::Local", "us", false, std::nullopt},
  };
  // The row keys of Sizes::sim_nodes, in order.
  static constexpr const char* kSimNodeKeys[] = {"1", "100", "1000"};
};

int Main(int argc, char** argv) {
  CLI::App app("netpool's throughput, latency and memory on a real local deployment");
  int runs = 3;
  int processes = 2;
  bool quick = false;
  bool json = false;
  std::string only;
  app.add_option("--runs", runs, "runs of each workload (median, min, max)")
      ->capture_default_str()
      ->check(CLI::Range(1, 100));
  app.add_option("--processes", processes, "worker processes of the node for A, B, C, F, G")
      ->capture_default_str()
      ->check(CLI::Range(1, 256));
  app.add_flag("--quick", quick, "tiny sizes and one run: checks that every workload runs");
  app.add_flag("--json", json, "print JSON instead of the table");
  app.add_option("--only", only, "comma-separated workloads to run, e.g. A,C (default: all)");
  CLI11_PARSE(app, argc, argv);
  if (quick) runs = 1;
  SetUpProcess();

  std::vector<std::string> workloads = absl::StrSplit(only, ',', absl::SkipEmpty());
  for (const std::string& w : workloads) {
    if (w.size() != 1 || absl::string_view("ABCDEFGHL").find(w[0]) == absl::string_view::npos) {
      std::fprintf(stderr, "netpool_bench: unknown workload \"%s\" (A to H, L)\n", w.c_str());
      return 64;
    }
  }
  Bench bench(quick ? Sizes::Quick() : Sizes(), quick, runs, processes, std::move(workloads));
  if (absl::Status s = bench.RunAll(); !s.ok()) {
    std::fprintf(stderr, "netpool_bench: %s\n", s.ToString().c_str());
    return 1;
  }
  if (json) {
    bench.PrintJson();
  } else {
    bench.PrintTable();
  }
  return 0;
}

}  // namespace
}  // namespace netpool::bench

int main(int argc, char** argv) {
  // Pool::Local's worker processes are this program, started again.
  netpool::Init(argc, argv);
  return netpool::bench::Main(argc, argv);
}
