#include "server/store/sqlite_store.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <limits>
#include <utility>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "netpool/v1/store.pb.h"
#include "server/store/job_record.h"
#include "spdlog/spdlog.h"

namespace netpool {
namespace {

constexpr char kDatabaseFile[] = "netpool.db";
// Held with flock() while a store has the directory open, as LevelDB does:
// SQLite's own locks let a second process read and write the same file.
constexpr char kLockFile[] = "LOCK";
// After a failed commit (a full disk, say) the group is tried again, at
// first soon, then less often.
constexpr absl::Duration kFirstRetryDelay = absl::Milliseconds(100);
constexpr absl::Duration kMaxRetryDelay = absl::Seconds(2);

// Since schema 2 each job's spec (its function and arguments, most of a
// job's bytes) has a row of its own in job_specs, written once when the job
// is inserted, so that a change of state writes the job's small row only. A
// spec column in the jobs row would not do that: SQLite writes a row whole,
// so every update would copy the spec again. Deleting a job's row deletes
// its spec.
const std::string& SpecTableSql() {
  static const std::string* sql = new std::string(R"sql(
CREATE TABLE job_specs (
  sequence INTEGER PRIMARY KEY,
  spec BLOB NOT NULL);
CREATE TRIGGER jobs_delete_spec AFTER DELETE ON jobs BEGIN
  DELETE FROM job_specs WHERE sequence = old.sequence;
END;
)sql");
  return *sql;
}

// The job's sequence is the table's rowid: rows are stored in submission
// order (ForEach is a plain scan, inserts append) and the id needs the only
// other index. A row's columns repeat the fields that queries filter on; the
// record is the job without its spec (the whole job in a row schema 1 wrote).
const std::string& SchemaSql() {
  static const std::string* sql = new std::string(absl::StrCat(R"sql(
CREATE TABLE meta (
  key TEXT PRIMARY KEY,
  value INTEGER NOT NULL);
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
)sql", SpecTableSql(), R"sql(
INSERT INTO meta (key, value) VALUES ('schema_version', )sql",
                                                               kSqliteSchemaVersion, R"sql();
INSERT INTO meta (key, value) VALUES ('max_sequence', 0);
)sql"));
  return *sql;
}

// The columns ParseStored() reads (a job's record, then its spec, NULL in a
// row schema 1 wrote) and the tables they come from, for a query to go on
// with WHERE or ORDER BY on the jobs table's columns.
constexpr char kRecordColumnsSql[] =
    "jobs.record, job_specs.spec FROM jobs LEFT JOIN job_specs USING (sequence)";

// "(3, 4, 5)": the states Job::IsFinal counts as finished.
const std::string& FinishedStatesSql() {
  static const std::string* sql =
      new std::string(absl::StrCat("(", v1::SUCCEEDED, ", ", v1::FAILED, ", ", v1::CANCELLED, ")"));
  return *sql;
}

absl::Status WithPath(const std::string& path, const absl::Status& status) {
  return absl::Status(status.code(), absl::StrCat(path, ": ", status.message()));
}

// Takes DIR/LOCK; the returned descriptor holds it until closed.
absl::StatusOr<int> LockDirectory(const std::string& dir) {
  const std::string lock_path = absl::StrCat(dir, "/", kLockFile);
  const int fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot open lock file ", lock_path, ": ", std::strerror(errno)));
  }
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int error = errno;
    ::close(fd);
    if (error == EWOULDBLOCK) {
      return absl::FailedPreconditionError(
          absl::StrCat("in use by another netpoold (", lock_path, " is locked)"));
    }
    return absl::FailedPreconditionError(
        absl::StrCat("cannot lock ", lock_path, ": ", std::strerror(error)));
  }
  return fd;
}

// Checks that `db` is a netpool database this build can read (or a new,
// empty file) before anything writes to it, then sets it up.
absl::Status PrepareDatabase(SqliteConnection& db) {
  // Only this store's two connections use the file (DIR/LOCK keeps others
  // out); a reader may still meet the writer's brief WAL locks.
  if (absl::Status s = db.Exec("PRAGMA busy_timeout = 10000"); !s.ok()) return s;
  // Reads every page of every table and index: finds a truncated or
  // damaged file at start-up rather than when a job's row is needed.
  absl::StatusOr<std::string> check = db.QueryText("PRAGMA quick_check");
  if (!check.ok()) {
    const absl::Status& error = check.status();
    const char* what = absl::IsDataLoss(error) ? "corrupt or truncated" : "cannot be read";
    return absl::Status(error.code(), absl::StrCat(what, ": ", error.message()));
  }
  if (*check != "ok") {
    return absl::DataLossError(absl::StrCat("corrupt or truncated: ", *check));
  }

  absl::StatusOr<int64_t> tables = db.QueryInt("SELECT count(*) FROM sqlite_schema");
  if (!tables.ok()) return tables.status();
  const bool fresh = *tables == 0;
  int64_t version = kSqliteSchemaVersion;
  if (!fresh) {
    absl::StatusOr<int64_t> stored_version =
        db.QueryInt("SELECT value FROM meta WHERE key = 'schema_version'");
    if (!stored_version.ok()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "not a netpool database (no schema version: ", stored_version.status().message(), ")"));
    }
    version = *stored_version;
    if (version > kSqliteSchemaVersion) {
      return absl::FailedPreconditionError(
          absl::StrCat("written by a newer netpoold (schema version ", version,
                       "; this netpoold reads up to ", kSqliteSchemaVersion, ")"));
    }
    if (version < 1) {
      return absl::FailedPreconditionError(
          absl::StrCat("not a netpool database (schema version ", version, ")"));
    }
  }

  absl::StatusOr<std::string> mode = db.QueryText("PRAGMA journal_mode = WAL");
  if (!mode.ok()) return mode.status();
  if (*mode != "wal") {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot use write-ahead logging (journal mode stays ", *mode, ")"));
  }
  // FULL: every commit fsyncs the WAL before it counts as durable, so an
  // acknowledged job survives kill -9 and also a power loss or kernel crash
  // (on storage that honours fsync). NORMAL would survive kill -9 only,
  // losing the commits since the last checkpoint on power loss; group
  // commit already shares one fsync among all the writes of a group.
  // The WAL file is cut back to this size after each checkpoint.
  if (absl::Status s = db.Exec("PRAGMA synchronous = FULL; PRAGMA journal_size_limit = 67108864");
      !s.ok()) {
    return s;
  }
  std::string setup;
  if (fresh) {
    setup = SchemaSql();
  } else if (version == 1) {
    // Schema 1 kept each spec inside its job's record. Those rows stay as
    // they are, so that opening a large database rewrites nothing: a job
    // without a job_specs row is read with the spec from its record, and its
    // next write gives the spec its row (Resident::spec_unwritten).
    setup = absl::StrCat(SpecTableSql(), "UPDATE meta SET value = ", kSqliteSchemaVersion,
                         " WHERE key = 'schema_version';");
  }
  if (setup.empty()) return absl::OkStatus();
  absl::Status status = db.Exec(absl::StrCat("BEGIN; ", setup, " COMMIT;"));
  if (!status.ok()) db.Exec("ROLLBACK").IgnoreError();
  return status;
}

double FinishedUnix(const Job& job) {
  return job.finished_state() ? UnixSecondsOrZero(job.finished) : 0;
}

bool IsErasable(bool fetched, int state, double finished_unix, double cutoff_unix) {
  return fetched && Job::IsFinal(static_cast<v1::JobState>(state)) && finished_unix < cutoff_unix;
}

// Jobs' arguments and results are their owners' data: the directory is its
// user's alone (0700) and so is every file in it (0600), whatever the umask
// was when they were made.
void MakePrivate(const std::string& dir) {
  ::chmod(dir.c_str(), 0700);
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator(dir, error)) {
    std::error_code ignored;
    if (entry.is_regular_file(ignored)) ::chmod(entry.path().c_str(), 0600);
  }
}

}  // namespace

absl::StatusOr<std::unique_ptr<SqliteStore>> SqliteStore::Open(const std::string& dir) {
  if (dir.empty()) return absl::InvalidArgumentError("the store's data directory is empty");
  const std::string path = absl::StrCat(dir, "/", kDatabaseFile);
  std::error_code error;
  std::filesystem::create_directories(dir, error);
  if (error) {
    return absl::FailedPreconditionError(
        absl::StrCat(path, ": cannot create directory ", dir, ": ", error.message()));
  }
  MakePrivate(dir);
  absl::StatusOr<int> lock_fd = LockDirectory(dir);
  if (!lock_fd.ok()) return WithPath(path, lock_fd.status());
  absl::Cleanup unlock = [fd = *lock_fd] { ::close(fd); };

  absl::StatusOr<std::unique_ptr<SqliteConnection>> writer = SqliteConnection::Open(path);
  if (!writer.ok()) return WithPath(path, writer.status());
  if (absl::Status s = PrepareDatabase(**writer); !s.ok()) return WithPath(path, s);
  MakePrivate(dir);  // the write-ahead log and shared-memory files are new
  absl::StatusOr<std::unique_ptr<SqliteConnection>> reader = SqliteConnection::Open(path);
  if (!reader.ok()) return WithPath(path, reader.status());
  if (absl::Status s = (*reader)->Exec("PRAGMA busy_timeout = 10000; PRAGMA query_only = ON");
      !s.ok()) {
    return WithPath(path, s);
  }

  std::move(unlock).Cancel();
  std::unique_ptr<SqliteStore> store(
      new SqliteStore(path, *lock_fd, *std::move(writer), *std::move(reader)));
  if (absl::Status s = store->PrepareStatements(); !s.ok()) return WithPath(path, s);
  if (absl::Status s = store->Load(); !s.ok()) return WithPath(path, s);
  store->committer_ = std::thread([raw = store.get()] { raw->CommitLoop(); });
  return store;
}

SqliteStore::SqliteStore(std::string path, int lock_fd, std::unique_ptr<SqliteConnection> writer,
                         std::unique_ptr<SqliteConnection> reader)
    : path_(std::move(path)),
      lock_fd_(lock_fd),
      reader_(std::move(reader)),
      writer_(std::move(writer)) {}

SqliteStore::~SqliteStore() {
  if (committer_.joinable()) {
    {
      absl::MutexLock lock(&mu_);
      stopping_ = true;
    }
    work_queued_.Signal();
    committer_.join();
  }
  // Statements before their connections, and the lock once the database
  // is closed (the writer's close checkpoints the WAL into it).
  read_ = ReadStatements();
  write_ = WriteStatements();
  reader_.reset();
  writer_.reset();
  ::close(lock_fd_);
}

absl::Status SqliteStore::PrepareStatements() {
  const std::pair<SqliteStatement*, std::string> reads[] = {
      {&read_.find_record,
       absl::StrCat("SELECT fetched, state, finished_unix, ", kRecordColumnsSql, " WHERE id = ?1")},
      {&read_.find_by_key,
       "SELECT id, fetched, state, finished_unix FROM jobs WHERE idempotency_key = ?1 "
       "ORDER BY sequence"},
      {&read_.find_id, "SELECT fetched, state, finished_unix FROM jobs WHERE id = ?1"},
      {&read_.find_sequence, "SELECT 1 FROM jobs WHERE sequence = ?1"},
      {&read_.all_in_order, absl::StrCat("SELECT sequence, id, fetched, state, finished_unix, ",
                                         kRecordColumnsSql, " ORDER BY sequence")},
      {&read_.erasable, absl::StrCat("SELECT id, state FROM jobs WHERE fetched = 1 AND state IN ",
                                FinishedStatesSql(),
                                " AND finished_unix >= ?1 AND finished_unix < ?2")},
  };
  for (const auto& [statement, sql] : reads) {
    absl::StatusOr<SqliteStatement> prepared = reader_->Prepare(sql);
    if (!prepared.ok()) return prepared.status();
    *statement = *std::move(prepared);
  }
  const std::pair<SqliteStatement*, std::string> writes[] = {
      {&write_.put_row,
       "INSERT INTO jobs (sequence, id, state, idempotency_key, fetched, finished_unix, record) "
       "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (sequence) DO UPDATE SET "
       "state = excluded.state, idempotency_key = excluded.idempotency_key, "
       "fetched = excluded.fetched, finished_unix = excluded.finished_unix, "
       "record = excluded.record"},
      {&write_.put_spec, "INSERT OR REPLACE INTO job_specs (sequence, spec) VALUES (?1, ?2)"},
      {&write_.delete_row, "DELETE FROM jobs WHERE sequence = ?1"},
      {&write_.delete_erasable, absl::StrCat("DELETE FROM jobs WHERE fetched = 1 AND state IN ",
                                       FinishedStatesSql(), " AND finished_unix < ?1")},
      {&write_.raise_max_sequence,
       "UPDATE meta SET value = max(value, ?1) WHERE key = 'max_sequence'"},
  };
  for (const auto& [statement, sql] : writes) {
    absl::StatusOr<SqliteStatement> prepared = writer_->Prepare(sql);
    if (!prepared.ok()) return prepared.status();
    *statement = *std::move(prepared);
  }
  return absl::OkStatus();
}

// Counts the jobs, and brings the unfinished ones into RAM: they are the
// scheduler's working set and the records it changes.
absl::Status SqliteStore::Load() {
  absl::StatusOr<int64_t> count = reader_->QueryInt("SELECT count(*) FROM jobs");
  if (!count.ok()) return count.status();
  size_ = static_cast<size_t>(*count);
  // Kept in meta as well as taken from the rows, so that erasing the newest
  // jobs never hands their sequence numbers out again.
  absl::StatusOr<int64_t> max_sequence = reader_->QueryInt(
      "SELECT max((SELECT coalesce(max(sequence), 0) FROM jobs), "
      "(SELECT value FROM meta WHERE key = 'max_sequence'))");
  if (!max_sequence.ok()) return max_sequence.status();
  max_sequence_ = static_cast<uint64_t>(*max_sequence);

  absl::StatusOr<SqliteStatement> by_state =
      reader_->Prepare("SELECT state, count(*) FROM jobs GROUP BY state");
  if (!by_state.ok()) return by_state.status();
  while (true) {
    absl::StatusOr<bool> row = by_state->Step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    CountFinishedState(static_cast<v1::JobState>(by_state->ColumnInt(0)), by_state->ColumnInt(1));
  }

  absl::StatusOr<SqliteStatement> unfinished =
      reader_->Prepare(absl::StrCat("SELECT ", kRecordColumnsSql, " WHERE state NOT IN ",
                                    FinishedStatesSql(), " ORDER BY sequence"));
  if (!unfinished.ok()) return unfinished.status();
  while (true) {
    absl::StatusOr<bool> row = unfinished->Step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    absl::StatusOr<Stored> stored = ParseStored(*unfinished, 0);
    if (!stored.ok()) return stored.status();
    const v1::JobState state = stored->job->state;
    AddResident(*std::move(stored), state);
  }
  return absl::OkStatus();
}

void SqliteStore::CommitLoop() {
  absl::Duration retry_delay = kFirstRetryDelay;
  while (true) {
    absl::btree_map<uint64_t, Row> rows;
    std::optional<double> erase_before_unix;
    uint64_t write = 0;
    std::function<void(uint64_t)> listener;
    {
      absl::MutexLock lock(&mu_);
      while (queued_rows_.empty() && !queued_erase_before_unix_ && !stopping_) {
        work_queued_.Wait(&mu_);
      }
      if (queued_rows_.empty() && !queued_erase_before_unix_) return;  // stopping
      rows.swap(queued_rows_);
      erase_before_unix = std::exchange(queued_erase_before_unix_, std::nullopt);
      write = last_write_;
      listener = durable_listener_;
    }
    const absl::Status status = Commit(rows, erase_before_unix);
    if (status.ok()) {
      {
        absl::MutexLock lock(&mu_);
        durable_write_ = write;
        if (!commit_error_.ok()) {
          spdlog::warn("job store: writing again; recovered from: {}", commit_error_.ToString());
        }
        commit_error_ = absl::OkStatus();
        commit_done_.SignalAll();
      }
      retry_delay = kFirstRetryDelay;
      if (listener) listener(write);
      continue;
    }
    absl::MutexLock lock(&mu_);
    if (commit_error_.ok()) {
      spdlog::error("job store: commit failed; retrying until it succeeds: {}",
                    WithPath(path_, status).ToString());
    }
    commit_error_ = WithPath(path_, status);
    commit_done_.SignalAll();
    // The group goes first in the next attempt, under any newer change of
    // the same jobs that was queued meanwhile.
    for (auto& [sequence, row] : rows) {
      auto newer = queued_rows_.find(sequence);
      if (newer == queued_rows_.end()) {
        queued_rows_.emplace(sequence, std::move(row));
      } else {
        Supersede(newer->second, row);
      }
    }
    if (erase_before_unix) {
      queued_erase_before_unix_ = std::max(queued_erase_before_unix_.value_or(*erase_before_unix),
                                           *erase_before_unix);
    }
    if (stopping_) {
      spdlog::error("job store: stopping with {} job changes not stored",
                    queued_rows_.size());
      return;
    }
    auto stop = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return stopping_; };
    mu_.AwaitWithTimeout(absl::Condition(&stop), retry_delay);
    retry_delay = std::min(retry_delay * 2, kMaxRetryDelay);
  }
}

// One transaction, one fsync. The erase goes first: it deletes what was
// erasable when it was called, before this group's rows changed anything.
absl::Status SqliteStore::Commit(const absl::btree_map<uint64_t, Row>& rows,
                                 std::optional<double> erase_before_unix) {
  if (absl::Status s = writer_->Exec("BEGIN IMMEDIATE"); !s.ok()) return s;
  auto run = [](SqliteStatement& statement) {
    absl::StatusOr<bool> done = statement.Step();
    statement.Reset();
    return done.status();
  };
  absl::Status status;
  if (erase_before_unix) {
    write_.delete_erasable.BindDouble(1, *erase_before_unix);
    status = run(write_.delete_erasable);
  }
  for (auto it = rows.begin(); status.ok() && it != rows.end(); ++it) {
    const auto& [sequence, row] = *it;
    if (row.erase) {
      write_.delete_row.BindInt(1, static_cast<int64_t>(sequence));
      status = run(write_.delete_row);
      continue;
    }
    if (row.spec) {
      write_.put_spec.BindInt(1, static_cast<int64_t>(sequence));
      write_.put_spec.BindBlob(2, *row.spec);
      status = run(write_.put_spec);
      if (!status.ok()) break;
    }
    write_.put_row.BindInt(1, static_cast<int64_t>(sequence));
    write_.put_row.BindText(2, row.id);
    write_.put_row.BindInt(3, row.state);
    if (row.idempotency_key.empty()) {
      write_.put_row.BindNull(4);
    } else {
      write_.put_row.BindText(4, row.idempotency_key);
    }
    write_.put_row.BindInt(5, row.fetched ? 1 : 0);
    write_.put_row.BindDouble(6, row.finished_unix);
    write_.put_row.BindBlob(7, row.record);
    status = run(write_.put_row);
  }
  // Also when the newest job was erased before its insert was committed:
  // its sequence was handed out all the same.
  if (status.ok() && !rows.empty()) {
    write_.raise_max_sequence.BindInt(1, static_cast<int64_t>(rows.rbegin()->first));
    status = run(write_.raise_max_sequence);
  }
  if (status.ok()) status = writer_->Exec("COMMIT");
  if (!status.ok()) writer_->Exec("ROLLBACK").IgnoreError();
  return status;
}

absl::Status SqliteStore::Insert(std::vector<Job> jobs) {
  ReleaseCommitted();
  if (absl::Status error = health(); !error.ok()) return error;
  absl::flat_hash_set<std::string> batch_ids;
  absl::flat_hash_set<uint64_t> batch_sequences;
  for (const Job& job : jobs) {
    bool id_taken = resident_.contains(job.id()) || !batch_ids.insert(job.id()).second;
    if (!id_taken) {
      absl::StatusOr<bool> stored = StoredIdTaken(job.id());
      if (!stored.ok()) return WithPath(path_, stored.status());
      id_taken = *stored;
    }
    if (id_taken) {
      return absl::AlreadyExistsError(absl::StrCat("job id ", job.id(), " is already taken"));
    }
    bool sequence_taken =
        resident_by_sequence_.contains(job.sequence) || !batch_sequences.insert(job.sequence).second;
    if (!sequence_taken && job.sequence <= max_sequence_) {
      absl::StatusOr<bool> stored = StoredSequenceTaken(job.sequence);
      if (!stored.ok()) return WithPath(path_, stored.status());
      sequence_taken = *stored;
    }
    if (sequence_taken) {
      return absl::AlreadyExistsError(
          absl::StrCat("job sequence ", job.sequence, " is already taken"));
    }
  }

  std::vector<std::pair<uint64_t, Row>> rows;
  rows.reserve(jobs.size());
  for (const Job& job : jobs) rows.emplace_back(job.sequence, RowOf(job, /*with_spec=*/true));
  const uint64_t write = Enqueue(std::move(rows));
  for (Job& job : jobs) {
    max_sequence_ = std::max(max_sequence_, job.sequence);
    ++size_;
    Resident& resident = AddResident(Stored{std::make_unique<Job>(std::move(job))},
                                     v1::JOB_STATE_UNSPECIFIED);
    NoteWritten(resident, write);
  }
  return absl::OkStatus();
}

Job* SqliteStore::Find(const std::string& job_id) {
  absl::StatusOr<Job*> job = Lookup(job_id);
  if (job.ok()) return *job;
  if (!absl::IsNotFound(job.status())) {
    spdlog::error("job store: cannot read job {}: {}", job_id, job.status().ToString());
  }
  return nullptr;
}

absl::StatusOr<Job*> SqliteStore::Lookup(const std::string& job_id) {
  if (Resident* resident = FindResident(job_id)) return resident->job.get();
  if (read_back_.job != nullptr && read_back_.job->id() == job_id) return read_back_.job.get();
  absl::StatusOr<Stored> stored = ReadBack(job_id);
  if (!stored.ok()) return stored.status();
  read_back_ = *std::move(stored);
  read_back_state_ = read_back_.job->state;
  return read_back_.job.get();
}

std::optional<std::string> SqliteStore::FindByIdempotencyKey(const std::string& key) {
  if (auto it = resident_by_key_.find(key); it != resident_by_key_.end()) return it->second;
  absl::Cleanup reset = [this] { read_.find_by_key.Reset(); };
  read_.find_by_key.BindText(1, key);
  while (true) {
    absl::StatusOr<bool> row = read_.find_by_key.Step();
    if (!row.ok()) {
      spdlog::error("job store: cannot look up an idempotency key: {}", row.status().ToString());
      return std::nullopt;
    }
    if (!*row) return std::nullopt;
    const absl::string_view id = read_.find_by_key.ColumnText(0);
    if (!ErasedUncommitted(id, read_.find_by_key.ColumnInt(1) != 0,
                           static_cast<int>(read_.find_by_key.ColumnInt(2)),
                           read_.find_by_key.ColumnDouble(3))) {
      return std::string(id);
    }
  }
}

absl::Status SqliteStore::Update(const Job& job) {
  absl::StatusOr<Resident*> resident = Hold(job.id());
  if (!resident.ok()) return FailedWrite(job.id(), resident.status());
  // `job` is the record itself unless the caller changed a copy.
  if ((*resident)->job.get() != &job) *(*resident)->job = job;
  Write(**resident);
  return absl::OkStatus();
}

absl::Status SqliteStore::MarkFetched(const std::string& job_id) {
  absl::StatusOr<Job*> job = Lookup(job_id);
  if (!job.ok()) return FailedWrite(job_id, job.status());
  if ((*job)->fetched) return absl::OkStatus();
  absl::StatusOr<Resident*> resident = Hold(job_id);
  if (!resident.ok()) return FailedWrite(job_id, resident.status());
  (*resident)->job->fetched = true;
  Write(**resident);
  return absl::OkStatus();
}

// The rows erased fall in two groups. Jobs in RAM are decided on their
// records and leave RAM now, each with a queued delete. Stored jobs not in
// RAM have no write pending, so their rows are final: a query counts those
// that match, and one DELETE at the head of the next commit removes them.
// Until that commit, reads treat the erased rows as gone.
int64_t SqliteStore::EraseFetchedBefore(absl::Time cutoff) {
  ReleaseCommitted();
  if (!health().ok()) return 0;
  const double cutoff_unix = UnixSecondsOrZero(cutoff);
  const double already_erased_before =
      pending_erase_ ? pending_erase_->cutoff_unix : -std::numeric_limits<double>::infinity();

  int64_t erased = 0;
  std::vector<std::pair<uint64_t, Row>> deletes;
  absl::flat_hash_set<std::string> resident_ids;
  for (const auto& [write, id] : releasable_) {
    Resident* resident = FindResident(id);
    if (resident == nullptr) continue;  // already dropped (listed twice)
    const Job& job = *resident->job;
    if (!IsErasable(job.fetched, job.state, FinishedUnix(job), cutoff_unix)) continue;
    Row row;
    row.erase = true;
    deletes.emplace_back(job.sequence, std::move(row));
    CountFinishedState(resident->recorded_state, -1);
    resident_ids.insert(id);
    DropResident(id);
    ++erased;
  }

  {
    absl::Cleanup reset = [this] { read_.erasable.Reset(); };
    read_.erasable.BindDouble(1, already_erased_before);
    read_.erasable.BindDouble(2, cutoff_unix);
    while (true) {
      absl::StatusOr<bool> row = read_.erasable.Step();
      if (!row.ok()) {
        spdlog::error("job store: cannot list erasable jobs: {}", row.status().ToString());
        break;
      }
      if (!*row) break;
      // Rows of jobs in RAM are theirs to decide (decided above).
      if (resident_.contains(read_.erasable.ColumnText(0)) ||
          resident_ids.contains(read_.erasable.ColumnText(0))) {
        continue;
      }
      CountFinishedState(static_cast<v1::JobState>(read_.erasable.ColumnInt(1)), -1);
      ++erased;
    }
  }

  const double erase_before_unix = std::max(cutoff_unix, already_erased_before);
  const uint64_t write = Enqueue(std::move(deletes), erase_before_unix);
  if (!pending_erase_) pending_erase_.emplace();
  pending_erase_->cutoff_unix = erase_before_unix;
  pending_erase_->resident_ids.merge(resident_ids);
  pending_erase_->write = write;
  read_back_ = Stored();
  size_ -= static_cast<size_t>(erased);
  return erased;
}

void SqliteStore::ForEach(const std::function<bool(const Job&)>& visit) {
  // Merges the stored rows with the records in RAM, which are newer.
  auto resident = resident_by_sequence_.begin();
  absl::Cleanup reset = [this] { read_.all_in_order.Reset(); };
  while (true) {
    absl::StatusOr<bool> row = read_.all_in_order.Step();
    if (!row.ok()) {
      spdlog::error("job store: cannot list jobs: {}", row.status().ToString());
      break;
    }
    if (!*row) break;
    const uint64_t sequence = static_cast<uint64_t>(read_.all_in_order.ColumnInt(0));
    for (; resident != resident_by_sequence_.end() && resident->first < sequence; ++resident) {
      if (!visit(*resident->second)) return;
    }
    const absl::string_view id = read_.all_in_order.ColumnText(1);
    if (resident_.contains(id) ||
        ErasedUncommitted(id, read_.all_in_order.ColumnInt(2) != 0,
                          static_cast<int>(read_.all_in_order.ColumnInt(3)),
                          read_.all_in_order.ColumnDouble(4))) {
      continue;
    }
    absl::StatusOr<Stored> stored = ParseStored(read_.all_in_order, 5);
    if (!stored.ok()) {
      spdlog::error("job store: job {}: {}", std::string(id), stored.status().ToString());
      continue;
    }
    if (!visit(*stored->job)) return;
  }
  for (; resident != resident_by_sequence_.end(); ++resident) {
    if (!visit(*resident->second)) return;
  }
}

void SqliteStore::ForEachUnfinished(const std::function<void(Job&)>& visit) {
  for (const auto& [sequence, job] : resident_by_sequence_) {
    if (!job->finished_state()) visit(*job);
  }
}

uint64_t SqliteStore::last_write() const {
  absl::MutexLock lock(&mu_);
  return last_write_;
}

uint64_t SqliteStore::durable_write() const {
  absl::MutexLock lock(&mu_);
  return durable_write_;
}

absl::Status SqliteStore::WaitDurable(uint64_t write) {
  absl::MutexLock lock(&mu_);
  if (write > last_write_) {
    return absl::InvalidArgumentError(
        absl::StrCat("write ", write, " was never made (the last is ", last_write_, ")"));
  }
  while (durable_write_ < write && HealthLocked().ok()) commit_done_.Wait(&mu_);
  return durable_write_ >= write ? absl::OkStatus() : HealthLocked();
}

void SqliteStore::SetDurableListener(std::function<void(uint64_t)> listener) {
  absl::MutexLock lock(&mu_);
  durable_listener_ = std::move(listener);
}

size_t SqliteStore::resident_jobs() {
  ReleaseCommitted();
  return resident_.size();
}

void SqliteStore::ReleaseCommitted() {
  const uint64_t durable = durable_write();
  if (pending_erase_ && pending_erase_->write <= durable) pending_erase_.reset();
  while (!releasable_.empty() && releasable_.front().first <= durable) {
    const std::string id = std::move(releasable_.front().second);
    releasable_.pop_front();
    Resident* resident = FindResident(id);
    // Still unfinished (changed back) or written again since: not yet.
    if (resident == nullptr || resident->last_write > durable ||
        !resident->job->finished_state()) {
      continue;
    }
    DropResident(id);
  }
}

SqliteStore::Resident* SqliteStore::FindResident(const std::string& job_id) {
  auto it = resident_.find(job_id);
  return it == resident_.end() ? nullptr : &it->second;
}

absl::StatusOr<SqliteStore::Resident*> SqliteStore::Hold(const std::string& job_id) {
  if (Resident* resident = FindResident(job_id)) return resident;
  if (absl::StatusOr<Job*> job = Lookup(job_id); !job.ok()) return job.status();
  // The record moves, so a pointer Find() returned stays good.
  return &AddResident(std::exchange(read_back_, Stored()), read_back_state_);
}

SqliteStore::Resident& SqliteStore::AddResident(Stored stored, v1::JobState recorded_state) {
  Job* record = stored.job.get();
  resident_by_sequence_[record->sequence] = record;
  if (!record->spec.idempotency_key().empty()) {
    resident_by_key_.emplace(record->spec.idempotency_key(), record->id());
  }
  Resident& resident = resident_[record->id()];
  resident.job = std::move(stored.job);
  resident.spec_unwritten = stored.spec_unwritten;
  resident.recorded_state = recorded_state;
  return resident;
}

void SqliteStore::DropResident(const std::string& job_id) {
  auto it = resident_.find(job_id);
  if (it == resident_.end()) return;
  const Job& job = *it->second.job;
  resident_by_sequence_.erase(job.sequence);
  if (auto key = resident_by_key_.find(job.spec.idempotency_key());
      key != resident_by_key_.end() && key->second == job_id) {
    resident_by_key_.erase(key);
  }
  resident_.erase(it);
}

uint64_t SqliteStore::Enqueue(std::vector<std::pair<uint64_t, Row>> rows,
                              std::optional<double> erase_before_unix) {
  uint64_t write;
  {
    // One critical section, so that the commit of `write` carries the erase.
    absl::MutexLock lock(&mu_);
    write = ++last_write_;
    for (auto& [sequence, row] : rows) {
      auto older = queued_rows_.find(sequence);
      if (older == queued_rows_.end()) {
        queued_rows_.emplace(sequence, std::move(row));
      } else {
        Supersede(row, older->second);
        older->second = std::move(row);
      }
    }
    if (erase_before_unix) queued_erase_before_unix_ = *erase_before_unix;
  }
  work_queued_.Signal();
  return write;
}

void SqliteStore::Supersede(Row& newer, Row& older) {
  if (!newer.spec && !newer.erase) newer.spec = std::move(older.spec);
}

SqliteStore::Row SqliteStore::RowOf(const Job& job, bool with_spec) {
  Row row;
  row.id = job.id();
  row.state = job.state;
  row.idempotency_key = job.spec.idempotency_key();
  row.fetched = job.fetched;
  row.finished_unix = FinishedUnix(job);
  row.record = ToStoredJobWithoutSpec(job).SerializeAsString();
  if (with_spec) row.spec = job.spec.SerializeAsString();
  return row;
}

void SqliteStore::Write(Resident& resident) {
  std::vector<std::pair<uint64_t, Row>> rows;
  rows.emplace_back(resident.job->sequence, RowOf(*resident.job, resident.spec_unwritten));
  resident.spec_unwritten = false;
  NoteWritten(resident, Enqueue(std::move(rows)));
}

void SqliteStore::NoteWritten(Resident& resident, uint64_t write) {
  const Job& job = *resident.job;
  CountFinishedState(resident.recorded_state, -1);
  CountFinishedState(job.state, +1);
  resident.recorded_state = job.state;
  resident.last_write = write;
  if (job.finished_state()) releasable_.emplace_back(write, job.id());
}

void SqliteStore::CountFinishedState(v1::JobState state, int64_t delta) {
  switch (state) {
    case v1::SUCCEEDED:
      finished_counts_.succeeded += delta;
      break;
    case v1::FAILED:
      finished_counts_.failed += delta;
      break;
    case v1::CANCELLED:
      finished_counts_.cancelled += delta;
      break;
    default:
      break;
  }
}

absl::StatusOr<SqliteStore::Stored> SqliteStore::ParseStored(const SqliteStatement& row,
                                                             int record_column) {
  const absl::string_view record = row.ColumnBlob(record_column);
  v1::StoredJob stored;
  if (!stored.ParseFromArray(record.data(), static_cast<int>(record.size()))) {
    return absl::DataLossError("a job record does not parse");
  }
  const int spec_column = record_column + 1;
  const bool spec_unwritten = row.ColumnIsNull(spec_column);
  if (!spec_unwritten) {
    const absl::string_view spec = row.ColumnBlob(spec_column);
    if (!stored.mutable_spec()->ParseFromArray(spec.data(), static_cast<int>(spec.size()))) {
      return absl::DataLossError("a job spec does not parse");
    }
  }
  return Stored{std::make_unique<Job>(FromStoredJob(std::move(stored))), spec_unwritten};
}

absl::StatusOr<SqliteStore::Stored> SqliteStore::ReadBack(const std::string& job_id) {
  absl::Cleanup reset = [this] { read_.find_record.Reset(); };
  read_.find_record.BindText(1, job_id);
  absl::StatusOr<bool> row = read_.find_record.Step();
  if (!row.ok()) return row.status();
  if (!*row || ErasedUncommitted(job_id, read_.find_record.ColumnInt(0) != 0,
                                 static_cast<int>(read_.find_record.ColumnInt(1)),
                                 read_.find_record.ColumnDouble(2))) {
    return absl::NotFoundError(absl::StrCat("no job ", job_id));
  }
  return ParseStored(read_.find_record, 3);
}

absl::StatusOr<bool> SqliteStore::StoredIdTaken(const std::string& job_id) {
  absl::Cleanup reset = [this] { read_.find_id.Reset(); };
  read_.find_id.BindText(1, job_id);
  absl::StatusOr<bool> row = read_.find_id.Step();
  if (!row.ok()) return row.status();
  return *row && !ErasedUncommitted(job_id, read_.find_id.ColumnInt(0) != 0,
                                    static_cast<int>(read_.find_id.ColumnInt(1)),
                                    read_.find_id.ColumnDouble(2));
}

absl::StatusOr<bool> SqliteStore::StoredSequenceTaken(uint64_t sequence) {
  absl::Cleanup reset = [this] { read_.find_sequence.Reset(); };
  read_.find_sequence.BindInt(1, static_cast<int64_t>(sequence));
  return read_.find_sequence.Step();
}

bool SqliteStore::ErasedUncommitted(absl::string_view job_id, bool fetched, int state,
                                    double finished_unix) const {
  return pending_erase_ &&
         (pending_erase_->resident_ids.contains(job_id) ||
          IsErasable(fetched, state, finished_unix, pending_erase_->cutoff_unix));
}

absl::Status SqliteStore::health() const {
  absl::MutexLock lock(&mu_);
  return HealthLocked();
}

absl::Status SqliteStore::HealthLocked() const {
  return lost_write_.ok() ? commit_error_ : lost_write_;
}

absl::Status SqliteStore::FailedWrite(const std::string& job_id, const absl::Status& cause) {
  if (absl::IsNotFound(cause)) return cause;
  const absl::Status lost = absl::DataLossError(absl::StrCat(
      path_, ": could not record a change to job ", job_id, " (", cause.message(),
      "); the job store accepts no new work until netpoold is restarted"));
  spdlog::error("job store: {}", lost.ToString());
  absl::MutexLock lock(&mu_);
  if (lost_write_.ok()) lost_write_ = lost;
  commit_done_.SignalAll();
  return lost;
}

}  // namespace netpool
