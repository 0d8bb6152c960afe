// SqliteStore beyond the Store contract: what survives a restart and a
// crash, group commit's numbered writes, the memory bound, and the files it
// refuses to open.
#include "server/store/sqlite_store.h"

#include <signal.h>
#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/store/job_record.h"
#include "tests/store/store_test_support.h"
#include "tests/support/eventually.h"
#include "tests/support/status_matchers.h"
#include "tests/support/subprocess.h"

namespace netpool {
namespace {

using ::netpool::testing::EditSpec;
using ::netpool::testing::Eventually;
using ::netpool::testing::FinishJob;
using ::netpool::testing::FinishedJob;
using ::netpool::testing::IdOfKey;
using ::netpool::testing::IsOk;
using ::netpool::testing::PendingJob;
using ::netpool::testing::Read;
using ::netpool::testing::ScratchDir;
using ::netpool::testing::StatusIs;
using ::netpool::testing::Subprocess;
using ::netpool::testing::TestTime;
using ::netpool::testing::ThreadGate;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::unique_ptr<SqliteStore> OpenOrDie(const std::string& dir) {
  absl::StatusOr<std::unique_ptr<SqliteStore>> store = SqliteStore::Open(dir);
  EXPECT_TRUE(store.ok()) << store.status();
  return store.ok() ? *std::move(store) : nullptr;
}

std::string DatabasePath(const ScratchDir& dir) { return dir.path() + "/netpool.db"; }

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void WriteFile(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

// Runs SQL on the database file behind the store's back.
void ExecRaw(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  char* error = nullptr;
  EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error), SQLITE_OK)
      << (error ? error : "");
  sqlite3_free(error);
  sqlite3_close(db);
}

std::string Serialized(const Job& job) { return ToStoredJob(job).SerializeAsString(); }

// Bytes this process has passed to write() and its kind so far: what the
// store's commits write, in a test that prints nothing meanwhile.
int64_t BytesWritten() {
  std::ifstream io("/proc/self/io");
  std::string field;
  int64_t value = 0;
  while (io >> field >> value) {
    if (field == "wchar:") return value;
  }
  ADD_FAILURE() << "no wchar in /proc/self/io";
  return 0;
}

// A pending job whose spec carries `bytes` bytes of argument.
Job BigJob(const std::string& id, uint64_t sequence, size_t bytes) {
  Job job = PendingJob(id, sequence);
  std::string argument(bytes, '\0');
  for (size_t i = 0; i < bytes; ++i) argument[i] = static_cast<char>((i * 7919 + i / 251) % 256);
  EditSpec(job, [&](v1::JobSpec& spec) { spec.add_args()->set_bytes_value(std::move(argument)); });
  return job;
}

// A durable listener that can hold the commit thread inside it, so that the
// writes made meanwhile stay queued: after Close(), the next commit holds
// the commit thread until Open(). Declare it before the store: the store's
// commit thread calls it until the store is destroyed.
class CommitGate : public ThreadGate {
 public:
  void Install(Store& store) {
    store.SetDurableListener([this](uint64_t write) {
      {
        absl::MutexLock lock(&mu_);
        notified_.push_back(write);
      }
      Pass();
    });
  }
  // Waits until the listener has heard of `write`.
  void AwaitNotified(uint64_t write) {
    absl::MutexLock lock(&mu_);
    auto heard = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return !notified_.empty() && notified_.back() >= write;
    };
    mu_.Await(absl::Condition(&heard));
  }
  std::vector<uint64_t> notified() {
    absl::MutexLock lock(&mu_);
    return notified_;
  }

 private:
  absl::Mutex mu_;
  std::vector<uint64_t> notified_ ABSL_GUARDED_BY(mu_);
};

TEST(SqliteStore, CreatesTheDirectoryAndTheDatabase) {
  ScratchDir dir;
  const std::string nested = dir.path() + "/a/b";
  std::unique_ptr<SqliteStore> store = OpenOrDie(nested);
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->path(), nested + "/netpool.db");
  EXPECT_TRUE(std::filesystem::exists(nested + "/netpool.db"));
  EXPECT_TRUE(std::filesystem::exists(nested + "/LOCK"));
}

TEST(SqliteStore, EmptyDirectoryNameIsRefused) {
  EXPECT_EQ(SqliteStore::Open("").status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(SqliteStore, ReopenRecoversEveryJobAsItWas) {
  ScratchDir dir;
  Job pending = PendingJob("pending", 1);
  EditSpec(pending, [&](v1::JobSpec& spec) { spec.set_idempotency_key("key-pending"); });
  EditSpec(pending, [&](v1::JobSpec& spec) { spec.set_max_attempts(5); });
  EditSpec(pending, [&](v1::JobSpec& spec) { spec.set_retry_on_error(true); });
  EditSpec(pending, [&](v1::JobSpec& spec) { spec.set_retry_backoff_seconds(0.5); });
  EditSpec(pending, [&](v1::JobSpec& spec) { (*spec.mutable_labels())["gpu"] = "yes"; });
  pending.attempt = 1;
  pending.not_before = TestTime(30);
  pending.attempts.push_back({1, "node-a", TestTime(2), TestTime(3), {}});
  pending.attempts.back().error.set_code(14);
  pending.attempts.back().error.set_message("worker node node-a was lost");

  Job running = PendingJob("running", 2);
  running.state = v1::RUNNING;
  running.attempt = 1;
  running.worker = 7;  // this process's connection: not kept
  running.set_worker_name("node-b");
  running.started = TestTime(4);
  running.attempts.push_back({1, "node-b", TestTime(4), absl::InfinitePast(), {}});

  Job succeeded = FinishedJob("succeeded", 3, v1::SUCCEEDED, TestTime(5));
  EditSpec(succeeded, [&](v1::JobSpec& spec) { spec.set_idempotency_key("key-succeeded"); });
  succeeded.mutable_result()->mutable_value()->mutable_list_value()->add_items()->set_int_value(42);
  succeeded.fetched = true;
  Job failed = FinishedJob("failed", 4, v1::FAILED, TestTime(6));

  {
    std::unique_ptr<SqliteStore> store = OpenOrDie(dir.path());
    ASSERT_TRUE(store->Insert({pending, running, PendingJob("later-finished", 5)}).ok());
    ASSERT_TRUE(store->Insert({succeeded, failed}).ok());
    Job* later = store->FindLive("later-finished");
    FinishJob(*later, v1::CANCELLED, TestTime(7));
    ASSERT_TRUE(store->Update(*later).ok());
    ASSERT_TRUE(store->WaitDurable(store->last_write()).ok());
  }

  std::unique_ptr<SqliteStore> store = OpenOrDie(dir.path());
  ASSERT_NE(store, nullptr);
  running.worker = kNoWorker;
  for (const Job& want : {pending, running, succeeded, failed}) {
    std::optional<Job> got = Read(*store, want.id());
    ASSERT_TRUE(got) << want.id();
    EXPECT_EQ(Serialized(*got), Serialized(want)) << want.id();
    EXPECT_EQ(got->worker, kNoWorker);
  }
  EXPECT_EQ(Read(*store, "later-finished")->state, v1::CANCELLED);
  EXPECT_EQ(store->size(), 5u);
  EXPECT_EQ(store->MaxSequence(), 5u);
  EXPECT_EQ(IdOfKey(*store, "key-pending"), "pending");
  EXPECT_EQ(IdOfKey(*store, "key-succeeded"), "succeeded");
  const FinishedCounts counts = store->CountFinished();
  EXPECT_EQ(counts.succeeded, 1);
  EXPECT_EQ(counts.failed, 1);
  EXPECT_EQ(counts.cancelled, 1);
  std::vector<std::string> unfinished;
  store->ForEachUnfinished([&](Job& job) { unfinished.emplace_back(job.id()); });
  EXPECT_THAT(unfinished, ElementsAre("pending", "running"));
  // Only the unfinished jobs came back into RAM.
  EXPECT_EQ(store->resident_jobs(), 2u);
}

TEST(SqliteStore, DestructorCommitsWhatIsQueued) {
  ScratchDir dir;
  {
    std::unique_ptr<SqliteStore> store = OpenOrDie(dir.path());
    for (int i = 1; i <= 100; ++i) {
      ASSERT_TRUE(store->Insert({PendingJob(absl::StrCat("job-", i), i)}).ok());
    }
  }
  std::unique_ptr<SqliteStore> store = OpenOrDie(dir.path());
  EXPECT_EQ(store->size(), 100u);
  EXPECT_TRUE(Read(*store, "job-100"));
}

TEST(SqliteStore, ErasedJobsStayErasedAndMaxSequenceStaysAfterReopen) {
  ScratchDir dir;
  {
    std::unique_ptr<SqliteStore> store = OpenOrDie(dir.path());
    Job newest = FinishedJob("newest", 9, v1::SUCCEEDED, TestTime(1));
    newest.fetched = true;
    ASSERT_TRUE(store->Insert({PendingJob("kept", 3), newest}).ok());
    ASSERT_EQ(store->EraseFetchedBefore(TestTime(2)), 1);
  }
  std::unique_ptr<SqliteStore> store = OpenOrDie(dir.path());
  EXPECT_FALSE(Read(*store, "newest"));
  EXPECT_EQ(store->size(), 1u);
  EXPECT_EQ(store->MaxSequence(), 9u);
}

TEST(SqliteStore, WritesAreNumberedAndTheListenerHearsEachCommit) {
  ScratchDir dir;
  CommitGate gate;
  std::unique_ptr<SqliteStore> store = OpenOrDie(dir.path());
  gate.Install(*store);
  EXPECT_EQ(store->last_write(), 0u);
  EXPECT_EQ(store->durable_write(), 0u);
  EXPECT_TRUE(store->WaitDurable(0).ok());

  ASSERT_TRUE(store->Insert({PendingJob("a", 1), PendingJob("b", 2)}).ok());
  EXPECT_EQ(store->last_write(), 1u);  // one write for the whole Insert
  Job* a = store->FindLive("a");
  a->state = v1::RUNNING;
  ASSERT_TRUE(store->Update(*a).ok());
  EXPECT_EQ(store->last_write(), 2u);
  ASSERT_TRUE(store->WaitDurable(2).ok());
  EXPECT_GE(store->durable_write(), 2u);

  gate.AwaitNotified(2);
  const std::vector<uint64_t> notified = gate.notified();
  EXPECT_EQ(notified.back(), 2u);
  EXPECT_TRUE(std::is_sorted(notified.begin(), notified.end()));
  EXPECT_EQ(store->WaitDurable(3).code(), absl::StatusCode::kInvalidArgument);
}

TEST(SqliteStore, WritesQueuedDuringACommitShareTheNextOne) {
  ScratchDir dir;
  CommitGate gate;
  std::unique_ptr<SqliteStore> store = OpenOrDie(dir.path());
  gate.Install(*store);
  gate.Close();
  ASSERT_TRUE(store->Insert({PendingJob("first", 1)}).ok());
  gate.AwaitHeld();
  const size_t commits_before = gate.notified().size();
  for (int i = 2; i <= 101; ++i) {
    ASSERT_TRUE(store->Insert({PendingJob(absl::StrCat("job-", i), i)}).ok());
  }
  gate.Open();
  ASSERT_TRUE(store->WaitDurable(store->last_write()).ok());
  gate.AwaitNotified(store->last_write());
  // The 100 writes queued behind the held commit went in one transaction.
  EXPECT_EQ(gate.notified().size(), commits_before + 1);
}

TEST(SqliteStore, QueuedWritesAreVisibleBeforeTheyCommit) {
  ScratchDir dir;
  CommitGate gate;
  std::unique_ptr<SqliteStore> store = OpenOrDie(dir.path());
  gate.Install(*store);
  Job keyed = FinishedJob("old", 1, v1::SUCCEEDED, TestTime(1));
  EditSpec(keyed, [&](v1::JobSpec& spec) { spec.set_idempotency_key("k"); });
  ASSERT_TRUE(store->Insert({keyed, PendingJob("live", 2)}).ok());
  ASSERT_TRUE(store->WaitDurable(store->last_write()).ok());
  ASSERT_EQ(store->resident_jobs(), 1u);  // "old" left RAM

  // Hold the commit thread in the listener of the next commit.
  gate.Close();
  ASSERT_TRUE(store->Insert({PendingJob("gate", 3)}).ok());
  gate.AwaitHeld();
  const uint64_t durable = store->durable_write();

  ASSERT_TRUE(store->Insert({PendingJob("new", 4)}).ok());
  Job* live = store->FindLive("live");
  FinishJob(*live, v1::FAILED, TestTime(5));
  ASSERT_TRUE(store->Update(*live).ok());
  ASSERT_TRUE(store->MarkFetched("old").ok());
  EXPECT_EQ(store->durable_write(), durable);  // all of it still queued

  EXPECT_TRUE(Read(*store, "new"));
  EXPECT_EQ(Read(*store, "live")->state, v1::FAILED);
  EXPECT_TRUE(Read(*store, "old")->fetched);
  EXPECT_EQ(store->CountFinished().failed, 1);
  std::vector<std::string> ids;
  store->ForEach([&](const Job& job) {
    ids.push_back(absl::StrCat(job.id(), job.fetched ? "+fetched" : ""));
    return true;
  });
  EXPECT_THAT(ids, ElementsAre("old+fetched", "live", "gate", "new"));

  // An erase before its commit: the rows read as gone at once.
  EXPECT_EQ(store->EraseFetchedBefore(TestTime(2)), 1);
  EXPECT_FALSE(Read(*store, "old"));
  EXPECT_EQ(IdOfKey(*store, "k"), std::nullopt);
  EXPECT_EQ(store->size(), 3u);
  EXPECT_EQ(store->durable_write(), durable);

  gate.Open();
  ASSERT_TRUE(store->WaitDurable(store->last_write()).ok());
  EXPECT_FALSE(Read(*store, "old"));
  EXPECT_EQ(Read(*store, "live")->state, v1::FAILED);
}

// Issue #12: each change of a job used to write the whole job again, its
// arguments too.
TEST(SqliteStore, AChangeAfterTheInsertWritesNoSpecBytes) {
  ScratchDir dir;
  std::unique_ptr<SqliteStore> store = OpenOrDie(dir.path());
  constexpr size_t kSpecBytes = 1 << 20;
  ASSERT_THAT(store->Insert({BigJob("big", 1, kSpecBytes)}), IsOk());
  ASSERT_THAT(store->WaitDurable(store->last_write()), IsOk());

  const int64_t before = BytesWritten();
  Job* job = store->FindLive("big");
  for (int attempt = 1; attempt <= 3; ++attempt) {
    job->state = v1::RUNNING;
    job->attempt = attempt;
    job->attempts.push_back({attempt, "node-a", TestTime(attempt), absl::InfinitePast(), {}});
    ASSERT_THAT(store->Update(*job), IsOk());
    ASSERT_THAT(store->WaitDurable(store->last_write()), IsOk());
  }
  FinishJob(*job, v1::SUCCEEDED, TestTime(10));
  ASSERT_THAT(store->Update(*job), IsOk());
  ASSERT_THAT(store->MarkFetched("big"), IsOk());
  ASSERT_THAT(store->WaitDurable(store->last_write()), IsOk());
  // Five commits of a few pages each; one copy of the spec is more.
  EXPECT_LT(BytesWritten() - before, static_cast<int64_t>(kSpecBytes / 4));

  const Job want = *Read(*store, "big");
  store.reset();
  store = OpenOrDie(dir.path());
  ASSERT_TRUE(Read(*store, "big"));
  EXPECT_EQ(Serialized(*Read(*store, "big")), Serialized(want));
  EXPECT_EQ(Read(*store, "big")->DecodeSpec().args(1).bytes_value().size(), kSpecBytes);
}

// The spec goes with the job's first write that commits: a change queued
// behind an insert not yet committed, or behind one whose commit failed,
// must carry it.
TEST(SqliteStore, AChangeQueuedBeforeItsInsertCommitsKeepsTheSpec) {
  ScratchDir dir;
  CommitGate gate;
  std::unique_ptr<SqliteStore> store = OpenOrDie(dir.path());
  gate.Install(*store);
  ASSERT_THAT(store->Insert({PendingJob("a", 1)}), IsOk());
  ASSERT_THAT(store->WaitDurable(store->last_write()), IsOk());

  // Coalesced in the queue: "b" inserted and changed while a commit runs.
  gate.Close();
  ASSERT_THAT(store->Update(*Read(*store, "a")), IsOk());
  gate.AwaitHeld();
  ASSERT_THAT(store->Insert({BigJob("b", 2, 1000)}), IsOk());
  Job* b = store->FindLive("b");
  b->state = v1::RUNNING;
  ASSERT_THAT(store->Update(*b), IsOk());
  gate.Open();
  ASSERT_THAT(store->WaitDurable(store->last_write()), IsOk());

  // Merged back after a failed commit: "c" changes while the commit of its
  // insert waits for a lock another connection holds, then fails.
  sqlite3* locker = nullptr;
  ASSERT_EQ(sqlite3_open(DatabasePath(dir).c_str(), &locker), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(locker,
                         "BEGIN IMMEDIATE; CREATE TRIGGER fail BEFORE INSERT ON jobs "
                         "BEGIN SELECT RAISE(ABORT, 'disk on fire'); END;",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  ASSERT_THAT(store->Insert({BigJob("c", 3, 1000)}), IsOk());
  // Time for the commit thread to take the insert and wait for the lock;
  // were it slower, the change below would replace the insert in the queue,
  // which the test covers as well.
  absl::SleepFor(absl::Milliseconds(200));
  Job* c = store->FindLive("c");
  c->state = v1::RUNNING;
  ASSERT_THAT(store->Update(*c), IsOk());
  ASSERT_EQ(sqlite3_exec(locker, "COMMIT", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(locker);
  ASSERT_THAT(store->WaitDurable(store->last_write()), ::testing::Not(IsOk()));
  ExecRaw(DatabasePath(dir), "DROP TRIGGER fail");
  ASSERT_TRUE(Eventually([&] { return store->health().ok(); }, absl::Seconds(10)));
  ASSERT_THAT(store->WaitDurable(store->last_write()), IsOk());
  const Job want_b = *Read(*store, "b");
  const Job want_c = *Read(*store, "c");

  store.reset();
  store = OpenOrDie(dir.path());
  ASSERT_TRUE(Read(*store, "b"));
  EXPECT_EQ(Serialized(*Read(*store, "b")), Serialized(want_b));
  ASSERT_TRUE(Read(*store, "c"));
  EXPECT_EQ(Serialized(*Read(*store, "c")), Serialized(want_c));
  EXPECT_EQ(Read(*store, "c")->state, v1::RUNNING);
  EXPECT_EQ(Read(*store, "c")->DecodeSpec().args_size(), 2);
}

TEST(SqliteStore, FinishedJobsLeaveRamOnceCommitted) {
  ScratchDir dir;
  std::unique_ptr<SqliteStore> store = OpenOrDie(dir.path());
  constexpr int kJobs = 2000;
  std::vector<Job> jobs;
  for (int i = 1; i <= kJobs; ++i) jobs.push_back(PendingJob(absl::StrCat("job-", i), i));
  ASSERT_TRUE(store->Insert(std::move(jobs)).ok());
  EXPECT_EQ(store->resident_jobs(), static_cast<size_t>(kJobs));

  for (int i = 1; i <= kJobs; ++i) {
    Job* job = store->FindLive(absl::StrCat("job-", i));
    FinishJob(*job, v1::SUCCEEDED, TestTime(i));
    ASSERT_TRUE(store->Update(*job).ok());
  }
  ASSERT_TRUE(store->WaitDurable(store->last_write()).ok());
  EXPECT_EQ(store->resident_jobs(), 0u);

  // Still all there, read back from the database.
  EXPECT_EQ(store->size(), static_cast<size_t>(kJobs));
  EXPECT_EQ(store->CountFinished().succeeded, kJobs);
  std::optional<Job> job = Read(*store, "job-1234");
  ASSERT_TRUE(job);
  EXPECT_EQ(job->result().value().string_value(), "result of job-1234");
  int visited = 0;
  store->ForEach([&](const Job& job) {
    ++visited;
    return true;
  });
  EXPECT_EQ(visited, kJobs);
  EXPECT_EQ(store->resident_jobs(), 0u);
}

// A full disk used to make the store refuse every write until a restart,
// even after space was freed, while the changes it refused were lost.
TEST(SqliteStore, AFailedCommitIsRetriedUntilItSucceedsAndLosesNoChange) {
  ScratchDir dir;
  std::unique_ptr<SqliteStore> store = OpenOrDie(dir.path());
  ASSERT_THAT(store->Insert({PendingJob("a", 1)}), IsOk());
  ASSERT_THAT(store->WaitDurable(store->last_write()), IsOk());
  ExecRaw(DatabasePath(dir),
          "CREATE TRIGGER fail BEFORE INSERT ON jobs BEGIN SELECT RAISE(ABORT, 'disk on fire'); END");

  ASSERT_THAT(store->Insert({PendingJob("b", 2)}), IsOk());  // accepted in RAM, then fails to commit
  const absl::Status commit = store->WaitDurable(store->last_write());
  ASSERT_THAT(commit, ::testing::Not(IsOk()));
  EXPECT_THAT(commit, StatusIs(commit.code(), HasSubstr("disk on fire")));
  EXPECT_THAT(std::string(commit.message()), HasSubstr(DatabasePath(dir)));
  EXPECT_EQ(store->health(), commit);
  // New jobs are refused; changes to the jobs it has wait for the disk.
  EXPECT_THAT(store->Insert({PendingJob("c", 3)}), StatusIs(commit.code(), ::testing::_));
  Job* a = store->FindLive("a");
  FinishJob(*a, v1::SUCCEEDED, TestTime(5));
  EXPECT_THAT(store->Update(*a), IsOk());
  EXPECT_THAT(store->MarkFetched("a"), IsOk());
  const uint64_t last = store->last_write();
  EXPECT_THAT(store->WaitDurable(last), StatusIs(commit.code(), ::testing::_));
  EXPECT_LT(store->durable_write(), last);

  ExecRaw(DatabasePath(dir), "DROP TRIGGER fail");  // space freed
  EXPECT_TRUE(Eventually([&] { return store->health().ok(); }, absl::Seconds(10)));
  EXPECT_THAT(store->WaitDurable(last), IsOk());
  EXPECT_THAT(store->Insert({PendingJob("c", 3)}), IsOk());
  ASSERT_THAT(store->WaitDurable(store->last_write()), IsOk());

  store.reset();
  store = OpenOrDie(dir.path());
  std::vector<std::string> ids;
  store->ForEach([&](const Job& job) {
    ids.emplace_back(job.id());
    return true;
  });
  EXPECT_THAT(ids, ElementsAre("a", "b", "c"));
  ASSERT_TRUE(Read(*store, "a"));
  EXPECT_EQ(Read(*store, "a")->state, v1::SUCCEEDED);
  EXPECT_TRUE(Read(*store, "a")->fetched);
}

// A change the store cannot record used to be lost without a trace: Update()
// and MarkFetched() returned an error their caller ignores, and the store
// stayed healthy and took new jobs.
TEST(SqliteStore, AChangeItCannotRecordStopsNewWorkUntilARestart) {
  ScratchDir dir;
  std::unique_ptr<SqliteStore> store = OpenOrDie(dir.path());
  ASSERT_THAT(store->Insert({FinishedJob("done", 1, v1::SUCCEEDED, TestTime(1)),
                             FinishedJob("other", 2, v1::FAILED, TestTime(2)),
                             PendingJob("live", 3)}),
              IsOk());
  ASSERT_THAT(store->WaitDurable(store->last_write()), IsOk());
  ASSERT_EQ(store->resident_jobs(), 1u);  // "done" and "other" are read back from disk
  Job done = *Read(*store, "done");
  ASSERT_TRUE(Read(*store, "other"));  // "done" is no longer the job read back last
  ExecRaw(DatabasePath(dir), "UPDATE jobs SET record = X'ff' WHERE id = 'done'");

  done.fetched = true;
  const absl::Status lost = store->Update(done);
  EXPECT_THAT(lost, StatusIs(absl::StatusCode::kDataLoss, HasSubstr("job done")));
  const absl::Status health = store->health();
  EXPECT_THAT(health, StatusIs(absl::StatusCode::kDataLoss,
                               ::testing::AllOf(HasSubstr(DatabasePath(dir)), HasSubstr("job done"),
                                                HasSubstr("does not parse"),
                                                HasSubstr("until netpoold is restarted"))));
  EXPECT_THAT(store->MarkFetched("done"), StatusIs(absl::StatusCode::kDataLoss, HasSubstr("done")));
  EXPECT_EQ(store->health(), health);  // the first loss stays the cause
  EXPECT_EQ(store->MarkFetched("no-such-job").code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(store->Update(PendingJob("no-such-job", 9)).code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(store->Insert({PendingJob("new", 4)}).status(), health);

  // Changes it can record still reach the disk; the error stays.
  Job* live = store->FindLive("live");
  live->state = v1::RUNNING;
  ASSERT_THAT(store->Update(*live), IsOk());
  const uint64_t last = store->last_write();
  ASSERT_TRUE(Eventually([&] { return store->durable_write() >= last; }, absl::Seconds(10)));
  EXPECT_THAT(store->WaitDurable(last), IsOk());
  EXPECT_EQ(store->health(), health);

  store.reset();
  store = OpenOrDie(dir.path());
  ASSERT_NE(store, nullptr);
  EXPECT_THAT(store->health(), IsOk());
  EXPECT_EQ(Read(*store, "live")->state, v1::RUNNING);
  EXPECT_THAT(store->Insert({PendingJob("new", 4)}), IsOk());
}

TEST(SqliteStore, SecondOpenOfTheSameDirectoryIsRefused) {
  ScratchDir dir;
  std::unique_ptr<SqliteStore> first = OpenOrDie(dir.path());
  absl::StatusOr<std::unique_ptr<SqliteStore>> second = SqliteStore::Open(dir.path());
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(second.status().message()), HasSubstr(DatabasePath(dir)));
  EXPECT_THAT(std::string(second.status().message()), HasSubstr("in use"));
  first.reset();
  EXPECT_TRUE(SqliteStore::Open(dir.path()).ok());
}

// The schema netpoold 1 wrote: each job's spec inside its record.
TEST(SqliteStore, SchemaOneDatabaseOpensWithEveryJobAndTheirChangesStick) {
  ScratchDir dir;
  Job pending = BigJob("pending", 1, 5000);
  EditSpec(pending, [&](v1::JobSpec& spec) { spec.set_idempotency_key("key-pending"); });
  Job done = FinishedJob("done", 2, v1::SUCCEEDED, TestTime(2));
  Job erasable = FinishedJob("erasable", 3, v1::FAILED, TestTime(1));
  erasable.fetched = true;
  std::string sql = R"sql(
    CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
    CREATE TABLE jobs (
      sequence INTEGER PRIMARY KEY,
      id TEXT NOT NULL UNIQUE,
      state INTEGER NOT NULL,
      idempotency_key TEXT,
      fetched INTEGER NOT NULL,
      finished_unix REAL NOT NULL,
      record BLOB NOT NULL);
    CREATE INDEX jobs_by_idempotency_key ON jobs (idempotency_key)
      WHERE idempotency_key IS NOT NULL;
    CREATE INDEX jobs_erasable ON jobs (finished_unix) WHERE fetched = 1;
    INSERT INTO meta (key, value) VALUES ('schema_version', 1);
    INSERT INTO meta (key, value) VALUES ('max_sequence', 7);
  )sql";
  for (const Job& job : {pending, done, erasable}) {
    absl::StrAppend(&sql, "INSERT INTO jobs VALUES (", job.sequence, ", '", job.id(), "', ",
                    job.state, ", ",
                    job.spec.idempotency_key().empty()
                        ? std::string("NULL")
                        : absl::StrCat("'", job.spec.idempotency_key(), "'"),
                    ", ", job.fetched ? 1 : 0, ", ",
                    absl::StrFormat("%.17g", UnixSecondsOrZero(job.finished)),
                    ", X'", absl::BytesToHexString(Serialized(job)), "');");
  }
  ExecRaw(DatabasePath(dir), sql);

  std::unique_ptr<SqliteStore> store = OpenOrDie(dir.path());
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->size(), 3u);
  EXPECT_EQ(store->MaxSequence(), 7u);
  EXPECT_EQ(IdOfKey(*store, "key-pending"), "pending");
  for (const Job& want : {pending, done, erasable}) {
    ASSERT_TRUE(Read(*store, want.id())) << want.id();
    EXPECT_EQ(Serialized(*Read(*store, want.id())), Serialized(want)) << want.id();
  }
  Job* changed = store->FindLive("pending");
  FinishJob(*changed, v1::CANCELLED, TestTime(4));
  ASSERT_THAT(store->Update(*changed), IsOk());
  pending = *changed;
  ASSERT_THAT(store->MarkFetched("done"), IsOk());
  done.fetched = true;
  EXPECT_EQ(store->EraseFetchedBefore(TestTime(2)), 1);  // "done" finished at 2
  ASSERT_THAT(store->WaitDurable(store->last_write()), IsOk());

  store.reset();
  store = OpenOrDie(dir.path());
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->size(), 2u);
  EXPECT_FALSE(Read(*store, "erasable"));
  for (const Job& want : {pending, done}) {
    ASSERT_TRUE(Read(*store, want.id())) << want.id();
    EXPECT_EQ(Serialized(*Read(*store, want.id())), Serialized(want)) << want.id();
  }
  store.reset();
  // Upgraded in place: a netpoold that reads schema 1 only refuses it now.
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(DatabasePath(dir).c_str(), &db), SQLITE_OK);
  sqlite3_stmt* version = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "SELECT value FROM meta WHERE key = 'schema_version'", -1,
                               &version, nullptr),
            SQLITE_OK);
  ASSERT_EQ(sqlite3_step(version), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_int(version, 0), 2);
  sqlite3_finalize(version);
  sqlite3_close(db);
}

TEST(SqliteStore, NewerSchemaIsRefusedAndLeftAlone) {
  ScratchDir dir;
  { OpenOrDie(dir.path()); }
  ExecRaw(DatabasePath(dir), "UPDATE meta SET value = 99 WHERE key = 'schema_version'");
  const std::string before = ReadFile(DatabasePath(dir));
  absl::StatusOr<std::unique_ptr<SqliteStore>> store = SqliteStore::Open(dir.path());
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(store.status().message()), HasSubstr(DatabasePath(dir)));
  EXPECT_THAT(std::string(store.status().message()), HasSubstr("newer netpoold (schema version 99"));
  EXPECT_EQ(ReadFile(DatabasePath(dir)), before);
}

TEST(SqliteStore, OtherSqliteDatabaseIsRefusedAndLeftAlone) {
  ScratchDir dir;
  ExecRaw(DatabasePath(dir), "CREATE TABLE invoices (id INTEGER PRIMARY KEY)");
  const std::string before = ReadFile(DatabasePath(dir));
  absl::StatusOr<std::unique_ptr<SqliteStore>> store = SqliteStore::Open(dir.path());
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(store.status().message()), HasSubstr("not a netpool database"));
  EXPECT_EQ(ReadFile(DatabasePath(dir)), before);
}

TEST(SqliteStore, GarbageFileIsRefusedAndLeftAlone) {
  ScratchDir dir;
  std::string garbage;
  for (int i = 0; i < 10000; ++i) garbage.push_back(static_cast<char>((i * 7919) % 251));
  WriteFile(DatabasePath(dir), garbage);
  absl::StatusOr<std::unique_ptr<SqliteStore>> store = SqliteStore::Open(dir.path());
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(store.status().message()), HasSubstr(DatabasePath(dir)));
  EXPECT_THAT(std::string(store.status().message()), HasSubstr("not a database"));
  EXPECT_EQ(ReadFile(DatabasePath(dir)), garbage);
}

TEST(SqliteStore, EmptyFileBecomesANewDatabase) {
  ScratchDir dir;
  WriteFile(DatabasePath(dir), "");
  std::unique_ptr<SqliteStore> store = OpenOrDie(dir.path());
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->size(), 0u);
}

// A closed store's file holds everything (the WAL is checkpointed into it
// and removed); cutting it in half loses pages the file header still
// counts, which the integrity check at open reports.
TEST(SqliteStore, TruncatedFileIsRefusedAsDataLoss) {
  ScratchDir dir;
  {
    std::unique_ptr<SqliteStore> store = OpenOrDie(dir.path());
    for (int batch = 0; batch < 20; ++batch) {
      std::vector<Job> jobs;
      for (int i = 1; i <= 100; ++i) {
        const int n = batch * 100 + i;
        Job job = PendingJob(absl::StrCat("job-", n), n);
        EditSpec(job, [&](v1::JobSpec& spec) { spec.add_args()->set_string_value(std::string(200, 'x')); });
        jobs.push_back(std::move(job));
      }
      ASSERT_TRUE(store->Insert(std::move(jobs)).ok());
    }
  }
  ASSERT_FALSE(std::filesystem::exists(DatabasePath(dir) + "-wal"));
  const auto size = std::filesystem::file_size(DatabasePath(dir));
  std::filesystem::resize_file(DatabasePath(dir), size / 2);
  const std::string before = ReadFile(DatabasePath(dir));

  absl::StatusOr<std::unique_ptr<SqliteStore>> store = SqliteStore::Open(dir.path());
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), absl::StatusCode::kDataLoss) << store.status();
  EXPECT_THAT(std::string(store.status().message()), HasSubstr(DatabasePath(dir)));
  EXPECT_EQ(ReadFile(DatabasePath(dir)), before);
}

// A child process writes jobs and says how many are durable; it is killed
// with SIGKILL at a random moment of its writing, three times over on the
// same directory. Every job it acknowledged is there after each crash.
TEST(SqliteStore, AcknowledgedJobsSurviveKillNine) {
  ScratchDir dir;
  int acknowledged = 0;
  for (int round = 0; round < 3; ++round) {
    SCOPED_TRACE(absl::StrCat("round ", round));
    absl::StatusOr<Subprocess> child =
        Subprocess::Start({NETPOOL_TEST_STORE_CRASH_HELPER, dir.path()}, {.pipe_stdout = true});
    ASSERT_TRUE(child.ok()) << child.status();
    // Each line: "acked N" once jobs 1..N are durable. Kill after a few.
    for (int lines = 0; lines < 3 + round * 2; ++lines) {
      absl::StatusOr<std::string> line = child->ReadLine(absl::Seconds(60));
      ASSERT_TRUE(line.ok()) << line.status();
      ASSERT_TRUE(absl::StartsWith(*line, "acked ")) << *line;
      ASSERT_TRUE(absl::SimpleAtoi(line->substr(6), &acknowledged)) << *line;
    }
    child->Signal(SIGKILL);
    ASSERT_TRUE(child->Wait(absl::Seconds(10)).has_value());

    std::unique_ptr<SqliteStore> store = OpenOrDie(dir.path());
    ASSERT_NE(store, nullptr);
    ASSERT_GE(store->size(), static_cast<size_t>(acknowledged));
    for (int i = 1; i <= acknowledged; ++i) {
      const Job* job = store->FindLive(absl::StrCat("job-", i));
      ASSERT_TRUE(job) << "acknowledged job-" << i << " lost";
      EXPECT_EQ(job->sequence, static_cast<uint64_t>(i));
    }
  }
  EXPECT_GT(acknowledged, 0);
}

}  // namespace
}  // namespace netpool
