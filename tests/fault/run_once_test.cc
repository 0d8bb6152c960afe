// Run once: faults after which every acknowledged job must still have run
// exactly once on the nodes, not only have one recorded result. Each scenario
// runs real netpoold (durable --data) and real fault-worker nodes that survive
// the fault, with jobs of 50-200 ms so that results are in flight when it
// lands, and counts the executions themselves (execution_log.h). It prints
//   fault: SCENARIO: acknowledged=N executions=N duplicated_executions=N lost=N
//   duplicated_results=N
// and fails on any lost or duplicated result and on any job executed twice.
//
// NETPOOL_FAULT_SOAK=1 runs more jobs and faults; NETPOOL_FAULT_SEED=N
// replays a run's random choices.
#include <fcntl.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "client/scheduler_client.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/fault/execution_log.h"
#include "tests/fault/fault_settings.h"
#include "tests/fault/job_ledger.h"
#include "tests/fault/network_link.h"
#include "tests/fault/nonce_stream.h"
#include "tests/fault/progress.h"
#include "tests/support/eventually.h"
#include "tests/support/proc.h"
#include "tests/support/sanitizer.h"
#include "tests/support/scratch_dir.h"
#include "tests/support/subprocess.h"
#include "tests/support/test_cluster.h"

namespace netpool::testing {
namespace {

constexpr int kLeaseSeconds = 2;
// How long results may stop coming before a scenario gives up.
constexpr absl::Duration kStallLimit = absl::Seconds(30);

// Short leases and heartbeats, so that a fault that outlasts a lease takes
// seconds, not the production 15.
std::vector<std::string> SchedulerFlags() {
  return {"--lease-timeout",      absl::StrCat(kLeaseSeconds),
          "--restart-grace",      "2",
          "--heartbeat-interval", "0.2",
          "--retry-backoff",      "0.1",
          "--log-level",          "warn"};
}

TestCluster::Options DurableCluster(const ExecutionLog& executions, int nodes, int processes) {
  return {.workers = nodes,
          .processes = processes,
          .worker_binary = NETPOOL_TEST_FAULT_WORKER,
          .worker_env = {executions.Env()},
          .durable = true,
          .scheduler_args = SchedulerFlags()};
}

// Jobs of 50-200 ms, so that some are always running when a fault lands.
NonceStream::Options JobsInFlight(std::string prefix, int jobs, uint64_t seed) {
  return {.id_prefix = std::move(prefix),
          .jobs = jobs,
          .batch = 50,
          .window = 400,
          .max_attempts = 100,
          .min_sleep_ms = 50,
          .max_sleep_ms = 200,
          .abandon_share = 0,
          .seed = seed};
}

SchedulerClient::Options RidesOutRestarts() {
  return {.rpc_timeout = absl::Seconds(30), .wait_for_ready = true};
}

// Waits until `fraction` of the stream's jobs have their result; false (with
// a failure naming where it stuck) when they stop coming first.
bool WaitForResults(const JobLedger& ledger, const NonceStream& stream, int jobs, double fraction) {
  const bool reached =
      WaitForProgress([&ledger] { return ledger.acknowledged() - ledger.outstanding(); },
                      static_cast<int64_t>(jobs * fraction), kStallLimit);
  if (!reached) ADD_FAILURE() << "the jobs stopped flowing: " << stream.Progress();
  return reached;
}

void Log(const std::string& what) {
  std::printf("fault: %s\n", what.c_str());
  std::fflush(stdout);
}

// What a scenario counted at its end.
struct RunOnceCounts {
  JobLedger::Audit audit;
  ExecutionLog::Counts executions;
};

// Waits for the stream to finish, audits the ledger against the scheduler,
// reads the executions and prints the scenario's count line.
RunOnceCounts Finish(const std::string& scenario, NonceStream& stream, const JobLedger& ledger,
                     SchedulerClient& scheduler, const ExecutionLog& executions) {
  EXPECT_TRUE(stream.WaitUntilDone(kStallLimit))
      << stream.Progress() << "; " << SchedulerCounts(scheduler);
  EXPECT_TRUE(stream.error().ok()) << stream.error();
  RunOnceCounts counts{ledger.Check(scheduler), executions.Count()};
  PrintRunOnceCounts(scenario, counts.audit, counts.executions);
  return counts;
}

// The promise of every scenario: each acknowledged job ran once, and its one
// result is the one the client received.
void ExpectRanOnce(const RunOnceCounts& counts) {
  EXPECT_EQ(counts.audit.lost, 0) << counts.audit.Problems();
  EXPECT_EQ(counts.audit.duplicated, 0) << counts.audit.Problems();
  EXPECT_EQ(counts.executions.duplicated_executions, 0) << counts.executions.Duplicates();
  EXPECT_GE(counts.executions.executions, counts.audit.acknowledged);
}

// kill -9 of netpoold in the middle of the stream, restarted on the same port
// and data directory: the nodes keep running their jobs, and the restarted
// scheduler must take their results rather than run the jobs again.
TEST(RunOnce, SchedulerKillNineMidStream) {
  const FaultSettings settings = FaultSettings::FromEnvironment();
  const int jobs = settings.Pick(1'500, 20'000);
  const int kills = settings.Pick(3, 20);
  std::mt19937_64 random(settings.seed());
  ExecutionLog executions;
  auto cluster = TestCluster::Start(DurableCluster(executions, 2, 10));
  ASSERT_TRUE(cluster.ok()) << cluster.status();
  SchedulerClient scheduler((*cluster)->address(), RidesOutRestarts());
  JobLedger ledger;
  NonceStream stream(&scheduler, &ledger, JobsInFlight("kill", jobs, random()));

  for (int kill = 1; kill <= kills; ++kill) {
    if (!WaitForResults(ledger, stream, jobs, static_cast<double>(kill) / (kills + 1))) break;
    (*cluster)->KillScheduler();
    Log(absl::StrCat("kill -9 netpoold #", kill, " at ",
                     ledger.acknowledged() - ledger.outstanding(), " of ", jobs, " results"));
    absl::Status started = (*cluster)->StartScheduler();
    if (!started.ok()) {
      ADD_FAILURE() << "restart after kill " << kill << ": " << started;
      break;
    }
  }
  ExpectRanOnce(Finish("scheduler_kill", stream, ledger, scheduler, executions));
}

// SIGSTOP of netpoold for longer than the lease, then SIGCONT: the scheduler
// wakes up to a lease timer that ran while it heard nothing, which is its own
// stall, not the nodes' silence; the nodes' jobs must not run again.
TEST(RunOnce, SchedulerStoppedPastTheLease) {
  const FaultSettings settings = FaultSettings::FromEnvironment();
  const int jobs = settings.Pick(1'000, 10'000);
  std::mt19937_64 random(settings.seed());
  ExecutionLog executions;
  auto cluster = TestCluster::Start(DurableCluster(executions, 2, 8));
  ASSERT_TRUE(cluster.ok()) << cluster.status();
  SchedulerClient scheduler((*cluster)->address(), RidesOutRestarts());
  JobLedger ledger;
  NonceStream stream(&scheduler, &ledger, JobsInFlight("stop", jobs, random()));

  if (WaitForResults(ledger, stream, jobs, 0.3)) {
    const absl::Duration stopped = absl::Seconds(kLeaseSeconds * 2 + 1);
    (*cluster)->scheduler().Signal(SIGSTOP);
    absl::SleepFor(stopped);
    (*cluster)->scheduler().Signal(SIGCONT);
    Log(absl::StrCat("SIGSTOP netpoold for ", absl::FormatDuration(stopped), " (lease ",
                     kLeaseSeconds, " s), then SIGCONT"));
  }
  ExpectRanOnce(Finish("scheduler_stop", stream, ledger, scheduler, executions));
}

constexpr char kFaketime[] = "/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1";

// One node's wall clock stepped back an hour mid-run, later forward two
// (libfaketime, as an NTP step would: the monotonic clock goes on), beside a
// node with the true time. libfaketime changes the time the node reads, not
// the kernel's: a wait until an absolute wall-clock deadline ends at the
// kernel's time, so this does not show a wait stalled by a real step back.
// Leases run on the scheduler's clock, so nothing may move off the stepped
// node: it keeps running jobs, and none runs twice.
TEST(RunOnce, WallClockStepOnANode) {
  if (kSanitized) {
    GTEST_SKIP() << "a sanitizer's runtime refuses to start after a preloaded libfaketime";
  }
  if (!FileExists(kFaketime)) {
    GTEST_SKIP() << kFaketime << " is missing (Debian package faketime)";
  }
  const FaultSettings settings = FaultSettings::FromEnvironment();
  const int jobs = settings.Pick(800, 8'000);
  std::mt19937_64 random(settings.seed());
  ScratchDir dir;
  const std::string clock = dir.Write("faketime.rc", "+0\n");
  ExecutionLog executions;
  auto cluster = TestCluster::Start(DurableCluster(executions, 1, 6));
  ASSERT_TRUE(cluster.ok()) << cluster.status();
  absl::StatusOr<int> stepped =
      (*cluster)->AddWorker(6, {}, NETPOOL_TEST_FAULT_WORKER,
                            {executions.Env(), absl::StrCat("LD_PRELOAD=", kFaketime),
                             absl::StrCat("FAKETIME_TIMESTAMP_FILE=", clock),
                             "FAKETIME_CACHE_DURATION=1", "FAKETIME_DONT_FAKE_MONOTONIC=1"});
  ASSERT_TRUE(stepped.ok()) << stepped.status();
  const pid_t stepped_node = (*cluster)->worker_pid(*stepped);
  SchedulerClient scheduler((*cluster)->address(), RidesOutRestarts());
  JobLedger ledger;
  NonceStream stream(&scheduler, &ledger, JobsInFlight("clock", jobs, random()));

  // Executions the stepped node started, up to now.
  auto on_stepped_node = [&executions, stepped_node] {
    int64_t count = 0;
    for (const auto& [job, nodes] : executions.Count().nodes_of_job) {
      for (pid_t node : nodes) count += node == stepped_node;
    }
    return count;
  };
  // Back an hour, then forward two (an hour ahead of the true time).
  int64_t before_steps = 0;
  bool stepped_twice = WaitForResults(ledger, stream, jobs, 0.3);
  if (stepped_twice) {
    before_steps = on_stepped_node();
    std::ofstream(clock) << "-1h\n";
    Log(absl::StrCat("wall clock of node", *stepped, " stepped back 1 h at ",
                     ledger.acknowledged() - ledger.outstanding(), " of ", jobs, " results"));
    stepped_twice = WaitForResults(ledger, stream, jobs, 0.6);
  }
  if (stepped_twice) {
    std::ofstream(clock) << "+1h\n";
    Log(absl::StrCat("wall clock of node", *stepped, " stepped forward 2 h at ",
                     ledger.acknowledged() - ledger.outstanding(), " of ", jobs, " results"));
  }
  const RunOnceCounts counts = Finish("clock_step", stream, ledger, scheduler, executions);
  int64_t moved_off = 0;
  for (const auto& [job, nodes] : counts.executions.nodes_of_job) {
    if (nodes.front() == stepped_node && nodes.size() > 1) ++moved_off;
  }
  EXPECT_EQ(moved_off, 0) << "jobs started on the stepped node ran again; "
                          << counts.executions.Duplicates();
  EXPECT_GT(on_stepped_node(), before_steps) << "the stepped node ran no job after the steps";
  ExpectRanOnce(counts);
}

// A tmpfs mounted for the test, unmounted (lazily, should something still
// hold it) when it goes away.
class TmpfsMount {
 public:
  TmpfsMount(std::string path, const std::string& size) : path_(std::move(path)) {
    mkdir(path_.c_str(), 0700);
    const std::string options = absl::StrCat("size=", size, ",mode=0700");
    if (mount("tmpfs", path_.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, options.c_str()) != 0) {
      error_ = strerror(errno);
    }
  }
  ~TmpfsMount() {
    if (error_.empty()) umount2(path_.c_str(), MNT_DETACH);
  }
  TmpfsMount(const TmpfsMount&) = delete;
  TmpfsMount& operator=(const TmpfsMount&) = delete;

  // Empty when mounted, else why not.
  const std::string& error() const { return error_; }

 private:
  std::string path_;
  std::string error_;
};

// Writes zeros to `path` until the filesystem is full; the bytes written.
int64_t FillUp(const std::string& path) {
  const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return 0;
  const std::string block(1 << 16, '\0');
  int64_t written = 0;
  for (;;) {
    const ssize_t n = write(fd, block.data(), block.size());
    if (n <= 0) break;
    written += n;
  }
  close(fd);
  return written;
}

// Submits nonce(number) as job `id` and records it in `ledger`: acknowledged
// (its result fetched with Get, which waits up to 10 s) or not. The Submit's
// status.
absl::Status SubmitOne(SchedulerClient& scheduler, JobLedger& ledger, const std::string& id,
                       int64_t number) {
  v1::SubmitRequest request;
  v1::JobSpec* spec = request.add_jobs();
  spec->set_job_id(id);
  spec->set_function("nonce");
  spec->add_args()->set_int_value(number);
  spec->set_max_attempts(100);
  absl::StatusOr<v1::SubmitResponse> submitted = scheduler.Submit(request);
  if (!submitted.ok()) {
    ledger.Unacknowledged(id);
    return submitted.status();
  }
  ledger.Acknowledged(id, number);
  v1::GetRequest get;
  get.set_job_id(id);
  get.set_timeout_seconds(10);
  absl::StatusOr<v1::GetResponse> result = scheduler.Get(get);
  if (result.ok() && result->ready()) ledger.Delivered(result->result());
  return absl::OkStatus();
}

// --data on a small tmpfs that a filler file fills up while jobs run, so that
// commits fail, then the filler goes. netpoold must stay up, refuse new work
// with UNAVAILABLE while it cannot commit, and take work again by itself once
// there is room; every acknowledged job ends SUCCEEDED, and none runs twice.
TEST(RunOnce, DataDiskFullWhileJobsRun) {
  if (geteuid() != 0) GTEST_SKIP() << "mounting a tmpfs needs root";
  const FaultSettings settings = FaultSettings::FromEnvironment();
  const int jobs = settings.Pick(1'000, 10'000);
  std::mt19937_64 random(settings.seed());
  ScratchDir dir;
  const std::string data = dir.File("data");
  // Room for the jobs' rows, little more: the filler fills it in a moment.
  TmpfsMount tmpfs(data, settings.Pick<std::string>("16m", "128m"));
  if (!tmpfs.error().empty()) {
    GTEST_SKIP() << "cannot mount a tmpfs on " << data << ": " << tmpfs.error();
  }
  ExecutionLog executions;
  TestCluster::Options options = DurableCluster(executions, 2, 8);
  options.data_dir = data;
  auto cluster = TestCluster::Start(options);
  ASSERT_TRUE(cluster.ok()) << cluster.status();
  const pid_t netpoold = (*cluster)->scheduler_pid();
  SchedulerClient scheduler((*cluster)->address(), RidesOutRestarts());
  SchedulerClient impatient((*cluster)->address(), {.rpc_timeout = absl::Seconds(5)});
  JobLedger ledger;
  // Jobs submitted beside the stream, audited apart so that the stream's own
  // count of settled jobs stays its own.
  JobLedger probes;
  NonceStream::Options stream_options = JobsInFlight("full", jobs, random());
  // A Submit refused while the disk is full is given up: not acknowledged.
  stream_options.abandon_share = 1;
  NonceStream stream(&scheduler, &ledger, stream_options);

  absl::Status while_full = absl::UnknownError("the disk was never filled");
  absl::Status after_full = absl::UnknownError("the disk was never freed");
  if (WaitForResults(ledger, stream, jobs, 0.25)) {
    const std::string filler = data + "/filler";
    const int64_t filled = FillUp(filler);
    Log(absl::StrCat("--data full (a filler of ", filled >> 20, " MiB) at ",
                     ledger.acknowledged() - ledger.outstanding(), " of ", jobs, " results"));
    // SQLite may still have room for a commit or two in pages it holds:
    // the scheduler knows the disk is full once a commit failed.
    auto not_ready = [&]() -> std::string {
      absl::StatusOr<v1::GetStatsResponse> stats = impatient.GetStats();
      return stats.ok() && !stats->ready() ? stats->not_ready_reason() : "";
    };
    std::string reason;
    EXPECT_TRUE(Eventually([&] { return !(reason = not_ready()).empty(); }, absl::Seconds(20)))
        << "stats never said the scheduler was not ready";
    EXPECT_THAT(reason, ::testing::HasSubstr("full"));
    Log(absl::StrCat("stats: not ready: ", reason));
    while_full = SubmitOne(impatient, probes, "full-probe-0", jobs);
    absl::SleepFor(absl::Seconds(3));  // results come in meanwhile
    unlink(filler.c_str());
    Log("filler removed");
  }
  const RunOnceCounts counts = Finish("disk_full", stream, ledger, scheduler, executions);
  // After the audit, which counts every job the scheduler holds as one of
  // the stream's.
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  for (int probe = 1; !after_full.ok() && absl::Now() < deadline; ++probe) {
    after_full = SubmitOne(impatient, probes, absl::StrCat("full-probe-", probe), jobs + probe);
    if (!after_full.ok()) absl::SleepFor(absl::Milliseconds(500));
  }
  EXPECT_TRUE(IsRunning(netpoold)) << "netpoold exited when --data was full";
  EXPECT_TRUE(absl::IsUnavailable(while_full)) << "a Submit while --data was full: " << while_full;
  EXPECT_TRUE(after_full.ok()) << "netpoold did not take new work within 20 s of the disk having "
                                  "room; the last Submit: "
                               << after_full;
  EXPECT_EQ(probes.outstanding(), 0) << "a probe accepted after the disk had room got no result";
  ExpectRanOnce(counts);
}

// Set (to "SCHEDULER_NAMESPACE NODE_NAMESPACE") in the copy of this test
// that runs inside the scheduler's network namespace.
constexpr char kInsideNamespaces[] = "NETPOOL_FAULT_NETNS";

// The network between the scheduler and its nodes cut for three leases
// while their jobs finish, then restored. The jobs that finished during the
// cut ran; they must not run again. (With a node left on the scheduler's
// side, the cut nodes' running jobs would rightly run again there once
// their leases ran out: a cut node cannot be told from a dead one.)
//
// netpoold and its clients run in one network namespace, the nodes in
// another, joined by one veth pair (network_link.h). This test's
// own process must be in the scheduler's namespace to reach it, so it makes
// the namespaces and runs itself again in there.
TEST(RunOnce, NetworkCutBetweenNodeAndScheduler) {
  const char* inside = std::getenv(kInsideNamespaces);
  if (inside == nullptr) {
    absl::StatusOr<std::unique_ptr<NetworkLink>> link =
        NetworkLink::Make(absl::StrCat("netpool-cut-", getpid()));
    if (!link.ok()) GTEST_SKIP() << link.status().message();
    const std::string self = std::filesystem::read_symlink("/proc/self/exe").string();
    absl::StatusOr<Subprocess> copy = Subprocess::Start(
        (*link)->InFirst({self, "--gtest_filter=RunOnce.NetworkCutBetweenNodeAndScheduler"}),
        {.extra_env = {
             absl::StrCat(kInsideNamespaces, "=", (*link)->first(), " ", (*link)->second())}});
    ASSERT_TRUE(copy.ok()) << copy.status();
    const std::optional<int> code = copy->Wait(absl::Seconds(300));
    EXPECT_EQ(code, 0) << "the scenario failed inside the namespaces (its output is above)";
    return;
  }
  const std::vector<std::string> namespaces = absl::StrSplit(inside, ' ');
  ASSERT_EQ(namespaces.size(), 2u) << kInsideNamespaces << "=" << inside;
  const FaultSettings settings = FaultSettings::FromEnvironment();
  const int jobs = settings.Pick(1'000, 10'000);
  std::mt19937_64 random(settings.seed());
  ScratchDir dir;
  const std::string data = dir.File("data");
  ASSERT_EQ(mkdir(data.c_str(), 0700), 0);
  ExecutionLog executions;

  // Not loopback, so --insecure; callers present the admin token netpoold
  // leaves in --data.
  std::vector<std::string> argv = {
      NetpooldPath(), "--listen", absl::StrCat(NetworkLink::kFirstAddress, ":0"),
      "--insecure",   "--data",   data};
  for (const std::string& flag : SchedulerFlags()) argv.push_back(flag);
  absl::StatusOr<Subprocess> netpoold = Subprocess::Start(argv, {.pipe_stdout = true});
  ASSERT_TRUE(netpoold.ok()) << netpoold.status();
  absl::StatusOr<std::string> listening = netpoold->ReadLine(absl::Seconds(30));
  ASSERT_TRUE(listening.ok()) << listening.status();
  const std::string address(absl::StripPrefix(*listening, "listening on "));
  const std::string token = data + "/admin.token";
  auto node = [&](const std::string& name) {
    return std::vector<std::string>{NETPOOL_TEST_FAULT_WORKER,
                                    "--scheduler",
                                    address,
                                    "--processes",
                                    "6",
                                    "--name",
                                    name,
                                    "--token-file",
                                    token};
  };
  absl::StatusOr<std::unique_ptr<NetworkLink>> link =
      NetworkLink::Join(namespaces[0], namespaces[1]);
  ASSERT_TRUE(link.ok()) << link.status();
  absl::StatusOr<Subprocess> near =
      Subprocess::Start((*link)->InSecond(node("near")), {.extra_env = {executions.Env()}});
  ASSERT_TRUE(near.ok()) << near.status();
  absl::StatusOr<Subprocess> far =
      Subprocess::Start((*link)->InSecond(node("far")), {.extra_env = {executions.Env()}});
  ASSERT_TRUE(far.ok()) << far.status();

  SchedulerClient scheduler(address, {.rpc_timeout = absl::Seconds(30),
                                      .wait_for_ready = true,
                                      .security = {.token_file = token}});
  auto listed = [&scheduler](const std::string& name) {
    absl::StatusOr<v1::ListWorkersResponse> workers = scheduler.ListWorkers();
    if (!workers.ok()) return false;
    for (const v1::WorkerStatus& worker : workers->workers()) {
      if (worker.name() == name) return true;
    }
    return false;
  };
  ASSERT_TRUE(Eventually([&] { return listed("near") && listed("far"); }, absl::Seconds(30)))
      << "the nodes did not connect; " << SchedulerCounts(scheduler);
  JobLedger ledger;
  NonceStream stream(&scheduler, &ledger, JobsInFlight("cut", jobs, random()));

  if (WaitForResults(ledger, stream, jobs, 0.3)) {
    const absl::Duration cut = absl::Seconds(kLeaseSeconds * 3);
    ASSERT_TRUE((*link)->Cut().ok());
    Log(absl::StrCat("network to the nodes cut at ",
                     ledger.acknowledged() - ledger.outstanding(), " of ", jobs, " results"));
    absl::SleepFor(cut);
    ASSERT_TRUE((*link)->Restore().ok());
    Log(absl::StrCat("network restored after ", absl::FormatDuration(cut), " (lease ",
                     kLeaseSeconds, " s)"));
  }
  const RunOnceCounts counts = Finish("network_cut", stream, ledger, scheduler, executions);
  EXPECT_TRUE(Eventually([&] { return listed("near") && listed("far"); }, absl::Seconds(20)))
      << "the nodes did not connect again after the network came back";
  ExpectRanOnce(counts);
}

}  // namespace
}  // namespace netpool::testing
