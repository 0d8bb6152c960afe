// Store corruption: jobs written through a real netpoold on a durable data
// directory, then the database damaged the way disks and people damage
// files: cut to half its size, its header overwritten, its write-ahead log
// cut mid-frame after a kill -9, half way through the commits it holds. On
// restart netpoold must either refuse to start (exit 1, "netpoold: cannot open
// store DIR/netpool.db: <reason>") or come up with every acknowledged job as it
// was; it must never come up having silently lost jobs. And a SIGTERM flushes
// the store: exit 0, every job there on restart.
//
// CI size: 1,000 finished and 500 pending jobs per case. NETPOOL_FAULT_SOAK=1:
// 20,000 and 10,000. NETPOOL_FAULT_SEED=N replays the garbage written.
#include <signal.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "client/scheduler_client.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "netpool/value.h"
#include "tests/fault/fault_settings.h"
#include "tests/fault/job_ledger.h"
#include "tests/support/subprocess.h"
#include "tests/support/test_cluster.h"

namespace netpool::testing {
namespace {

namespace fs = std::filesystem;

constexpr int kJobsPerSubmit = 500;

// What the client was told about each job: its result, or nullopt for a job
// acknowledged but never run (no worker was connected).
using Acknowledged = absl::flat_hash_map<std::string, std::optional<Value>>;

// Where the commits of an SQLite write-ahead log end. After a checkpoint
// SQLite writes the log from its start again, so only the frames that carry
// the header's salt are current; the file's tail may be stale frames.
struct WalLayout {
  uintmax_t frame_size = 0;
  std::vector<uintmax_t> commit_ends;  // file offset just past each current commit
};

uint32_t BigEndian32(const std::string& bytes, size_t offset) {
  uint32_t value = 0;
  for (size_t i = 0; i < 4; ++i) value = value << 8 | static_cast<uint8_t>(bytes[offset + i]);
  return value;
}

absl::StatusOr<WalLayout> ReadWalLayout(const fs::path& wal) {
  // The format: https://www.sqlite.org/fileformat2.html#walformat
  constexpr size_t kHeaderSize = 32;
  constexpr size_t kFrameHeaderSize = 24;
  std::ifstream file(wal, std::ios::binary);
  if (!file) return absl::NotFoundError(absl::StrCat("no write-ahead log ", wal.string()));
  const std::string bytes((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  if (bytes.size() < kHeaderSize) {
    return absl::FailedPreconditionError(
        absl::StrCat(wal.string(), " has ", bytes.size(), " bytes, no header"));
  }
  WalLayout layout;
  layout.frame_size = kFrameHeaderSize + BigEndian32(bytes, 8);
  const uint32_t salt1 = BigEndian32(bytes, 16);
  const uint32_t salt2 = BigEndian32(bytes, 20);
  for (size_t frame = kHeaderSize; frame + layout.frame_size <= bytes.size();
       frame += layout.frame_size) {
    if (BigEndian32(bytes, frame + 8) != salt1 || BigEndian32(bytes, frame + 12) != salt2) break;
    // A commit frame records the database size after the commit; others 0.
    if (BigEndian32(bytes, frame + 4) != 0) layout.commit_ends.push_back(frame + layout.frame_size);
  }
  return layout;
}

class StoreCorruptionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto cluster = TestCluster::Start({.workers = 1,
                                       .processes = 2,
                                       .worker_binary = NETPOOL_TEST_FAULT_WORKER,
                                       .durable = true,
                                       .scheduler_args = {"--log-level", "warn"}});
    ASSERT_TRUE(cluster.ok()) << cluster.status();
    cluster_ = *std::move(cluster);
    scheduler_ = std::make_unique<SchedulerClient>(cluster_->address());
  }

  // Submits `count` nonce jobs numbered from `first` and records them.
  void Submit(int first, int count) {
    for (int begin = first; begin < first + count; begin += kJobsPerSubmit) {
      v1::SubmitRequest request;
      for (int i = begin; i < std::min(first + count, begin + kJobsPerSubmit); ++i) {
        v1::JobSpec* spec = request.add_jobs();
        spec->set_job_id(absl::StrCat("stored-", i));
        spec->set_function("nonce");
        spec->add_args()->set_int_value(i);
      }
      absl::StatusOr<v1::SubmitResponse> response = scheduler_->Submit(request);
      ASSERT_TRUE(response.ok()) << response.status();
      for (const std::string& id : response->job_ids()) acknowledged_[id] = std::nullopt;
    }
  }

  // Waits for every acknowledged job's result and records it.
  void WaitForResults() {
    for (auto& [id, result] : acknowledged_) {
      v1::GetRequest request;
      request.set_job_id(id);
      request.set_timeout_seconds(60);
      absl::StatusOr<v1::GetResponse> response = scheduler_->Get(request);
      ASSERT_TRUE(response.ok()) << id << ": " << response.status();
      ASSERT_TRUE(response->ready()) << id << " did not finish";
      absl::StatusOr<Value> value = OutcomeOf(response->result());
      ASSERT_TRUE(value.ok()) << id << ": " << value.status();
      result = *value;
    }
  }

  // The data every case starts from: `finished` jobs run to the end, then,
  // with the worker node gone, `pending` jobs acknowledged that never ran.
  void WriteJobs(int finished, int pending) {
    Submit(0, finished);
    WaitForResults();
    cluster_->worker(0).Signal(SIGTERM);
    ASSERT_TRUE(cluster_->worker(0).Wait(absl::Seconds(30)).has_value());
    ASSERT_TRUE(cluster_->WaitForWorkers(0, 0, absl::Seconds(10)).ok());
    Submit(finished, pending);
  }

  // Stops the scheduler with SIGTERM, which must flush the store and exit 0.
  void StopScheduler() {
    absl::StatusOr<int> exit_code = cluster_->StopScheduler();
    ASSERT_TRUE(exit_code.ok()) << exit_code.status();
    ASSERT_EQ(*exit_code, 0) << "netpoold's exit code after SIGTERM";
  }

  fs::path database() const { return fs::path(cluster_->data_dir()) / "netpool.db"; }

  // Starts netpoold on the data directory (any port, no workers) and checks
  // that it either refuses the store clearly (when `may_refuse`) or holds
  // every acknowledged job as it was. `damage` names the case in the summary.
  void ExpectRefusedOrIntact(const std::string& damage, bool may_refuse = true) {
    std::vector<std::string> argv = {NetpooldPath(), "--listen", "127.0.0.1:0", "--data",
                                     cluster_->data_dir(), "--log-level", "warn"};
    absl::StatusOr<Subprocess> scheduler =
        Subprocess::Start(argv, {.pipe_stdout = true, .pipe_stderr = true});
    ASSERT_TRUE(scheduler.ok()) << scheduler.status();
    absl::StatusOr<std::string> line = scheduler->ReadLine(absl::Seconds(60));
    if (!line.ok()) {
      std::string out, err;
      absl::StatusOr<int> exit_code = scheduler->Communicate(absl::Seconds(30), &out, &err);
      ASSERT_TRUE(exit_code.ok()) << exit_code.status();
      PrintSummary(damage, "refused", 0, 0);
      EXPECT_TRUE(may_refuse) << "netpoold refused an undamaged store; stderr: " << err;
      EXPECT_EQ(*exit_code, 1) << "stderr: " << err;
      EXPECT_THAT(err, ::testing::HasSubstr(absl::StrCat(
                           "netpoold: cannot open store ", database().string(), ": ")));
      return;
    }
    ASSERT_TRUE(absl::StartsWith(*line, "listening on ")) << *line;
    SchedulerClient restarted(line->substr(strlen("listening on ")));
    int missing = 0;
    std::vector<std::string> problems;
    std::vector<std::string> ids;
    for (const auto& [id, result] : acknowledged_) ids.push_back(id);
    std::sort(ids.begin(), ids.end());
    for (const std::string& id : ids) {
      absl::Status problem = Compare(restarted, id, acknowledged_.at(id));
      if (problem.ok()) continue;
      ++missing;
      if (problems.size() < 10) problems.push_back(std::string(problem.message()));
    }
    PrintSummary(damage, missing == 0 ? "intact" : "CAME_UP_WITHOUT_JOBS", missing,
                 static_cast<int>(acknowledged_.size()));
    EXPECT_EQ(missing, 0) << "netpoold came up on the damaged store (" << damage << ") without "
                          << missing << " of " << acknowledged_.size()
                          << " acknowledged jobs as they were, e.g.:\n  "
                          << absl::StrJoin(problems, "\n  ");
    scheduler->Signal(SIGTERM);
    std::string out, err;
    absl::StatusOr<int> exit_code = scheduler->Communicate(absl::Seconds(30), &out, &err);
    ASSERT_TRUE(exit_code.ok()) << exit_code.status();
    EXPECT_EQ(*exit_code, 0) << "stderr: " << err;
  }

  // OK when `restarted` holds job `id` as the client was told; otherwise an
  // error saying how it differs.
  static absl::Status Compare(SchedulerClient& restarted, const std::string& id,
                                             const std::optional<Value>& result) {
    v1::GetRequest request;
    request.set_job_id(id);
    request.set_timeout_seconds(0);
    absl::StatusOr<v1::GetResponse> response = restarted.Get(request);
    if (!response.ok()) {
      return absl::NotFoundError(absl::StrCat(id, ": ", response.status().ToString()));
    }
    if (!result.has_value()) {
      if (response->ready()) {
        return absl::DataLossError(absl::StrCat(id, " was pending but is now ",
                                                v1::JobState_Name(response->result().state())));
      }
      return absl::OkStatus();
    }
    if (!response->ready()) {
      return absl::DataLossError(absl::StrCat(id, " had finished but is unfinished again"));
    }
    absl::StatusOr<Value> held = OutcomeOf(response->result());
    if (!held.ok() || !(*held == *result)) {
      const std::string now = held.ok() ? held->ToJson() : held.status().ToString();
      return absl::DataLossError(
          absl::StrCat(id, " had result ", result->ToJson(), ", now ", now));
    }
    return absl::OkStatus();
  }

  void PrintSummary(const std::string& damage, const std::string& outcome, int missing,
                    int checked) {
    std::printf("fault: store_corruption damage=%s acknowledged=%zu outcome=%s lost=%d of %d\n",
                damage.c_str(), acknowledged_.size(), outcome.c_str(), missing, checked);
    std::fflush(stdout);
  }

  const FaultSettings settings_ = FaultSettings::FromEnvironment();
  const int finished_ = settings_.Pick(1'000, 20'000);
  const int pending_ = settings_.Pick(500, 10'000);
  std::unique_ptr<TestCluster> cluster_;
  std::unique_ptr<SchedulerClient> scheduler_;
  Acknowledged acknowledged_;
};

TEST_F(StoreCorruptionTest, SigtermFlushesTheStoreAndEveryJobIsThereOnRestart) {
  ASSERT_NO_FATAL_FAILURE(WriteJobs(finished_, pending_));
  // Straight after the last acknowledgement: what is acknowledged is
  // committed, and a SIGTERM loses none of it.
  ASSERT_NO_FATAL_FAILURE(StopScheduler());
  ExpectRefusedOrIntact("none", /*may_refuse=*/false);
}

TEST_F(StoreCorruptionTest, DatabaseCutToHalfIsRefusedOrIntact) {
  ASSERT_NO_FATAL_FAILURE(WriteJobs(finished_, pending_));
  ASSERT_NO_FATAL_FAILURE(StopScheduler());
  const uintmax_t size = fs::file_size(database());
  fs::resize_file(database(), size / 2);
  std::printf("fault: cut %s from %ju to %ju bytes\n", database().c_str(), size, size / 2);
  ExpectRefusedOrIntact("database_cut_to_half");
}

TEST_F(StoreCorruptionTest, GarbageOverTheDatabaseHeaderIsRefusedOrIntact) {
  ASSERT_NO_FATAL_FAILURE(WriteJobs(finished_, pending_));
  ASSERT_NO_FATAL_FAILURE(StopScheduler());
  std::mt19937_64 random(settings_.seed());
  std::string garbage(100, '\0');  // SQLite's header is the file's first 100 bytes
  for (char& c : garbage) c = static_cast<char>(random());
  FILE* file = std::fopen(database().c_str(), "r+b");
  ASSERT_NE(file, nullptr);
  ASSERT_EQ(std::fwrite(garbage.data(), 1, garbage.size(), file), garbage.size());
  ASSERT_EQ(std::fclose(file), 0);
  ExpectRefusedOrIntact("database_header_garbage");
}

// What kill -9 (or a power cut) can leave in the write-ahead log: a frame
// of a transaction nobody was told of, torn half way. Committed frames were
// fsynced before the Submit was answered, so a crash never takes them; a log
// cut through them is lost media, which SQLite cannot tell from a clean end.
TEST_F(StoreCorruptionTest, TornFrameAtTheEndOfTheWriteAheadLogLeavesEveryJobIntact) {
  ASSERT_NO_FATAL_FAILURE(WriteJobs(finished_, pending_));
  cluster_->KillScheduler();
  const fs::path wal = database().string() + "-wal";
  absl::StatusOr<WalLayout> layout = ReadWalLayout(wal);
  ASSERT_TRUE(layout.ok()) << layout.status();
  if (layout->commit_ends.empty()) {
    GTEST_SKIP() << "the write-ahead log " << wal << " holds no commit after kill -9";
  }
  const uintmax_t end = layout->commit_ends.back();
  fs::resize_file(wal, end);
  std::FILE* file = std::fopen(wal.c_str(), "ab");
  ASSERT_NE(file, nullptr);
  const std::string torn(layout->frame_size / 2, '\x5a');
  ASSERT_EQ(std::fwrite(torn.data(), 1, torn.size(), file), torn.size());
  ASSERT_EQ(std::fclose(file), 0);
  std::printf("fault: appended a torn half frame (%zu bytes) to %s after its last commit\n",
              torn.size(), wal.c_str());
  ExpectRefusedOrIntact("wal_torn_tail", /*may_refuse=*/false);
}

}  // namespace
}  // namespace netpool::testing
