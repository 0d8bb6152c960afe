#include "server/store/sqlite_backend.h"

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
#include "netpool/v1/netpool.pb.h"

namespace netpool {
namespace {

constexpr char kDatabaseFile[] = "netpool.db";
// Held with flock() while a store has the directory open, as LevelDB does:
// SQLite's own locks let a second process read and write the same file.
constexpr char kLockFile[] = "LOCK";

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

// The columns RowAt() reads, and the tables they come from, for a query to
// go on with WHERE or ORDER BY on the jobs table's columns. The spec is NULL
// in a row schema 1 wrote.
constexpr char kRowColumnsSql[] =
    "jobs.id, jobs.state, jobs.idempotency_key, jobs.fetched, jobs.finished_unix, "
    "jobs.record, job_specs.spec FROM jobs LEFT JOIN job_specs USING (sequence)";
// The first five of them, from the jobs table alone.
constexpr char kColumnsSql[] = "id, state, idempotency_key, fetched, finished_unix FROM jobs";


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
    // next write gives the spec its row (StoredRow::spec).
    setup = absl::StrCat(SpecTableSql(), "UPDATE meta SET value = ", kSqliteSchemaVersion,
                         " WHERE key = 'schema_version';");
  }
  if (setup.empty()) return absl::OkStatus();
  absl::Status status = db.Exec(absl::StrCat("BEGIN; ", setup, " COMMIT;"));
  if (!status.ok()) db.Exec("ROLLBACK").IgnoreError();
  return status;
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

// The columns of the current row of `statement` from column `first` on, as
// kColumnsSql lists them.
RowColumns ColumnsAt(const SqliteStatement& statement, int first) {
  RowColumns columns;
  columns.id = std::string(statement.ColumnText(first));
  columns.state = static_cast<int>(statement.ColumnInt(first + 1));
  columns.idempotency_key = std::string(statement.ColumnText(first + 2));
  columns.fetched = statement.ColumnInt(first + 3) != 0;
  columns.finished_unix = statement.ColumnDouble(first + 4);
  return columns;
}

// The current row of `statement` from column `first` on, as kRowColumnsSql
// lists its columns. Fills `row` in place, so that a scan reuses its buffers.
void RowAt(const SqliteStatement& statement, int first, StoredRow& row) {
  row.columns = ColumnsAt(statement, first);
  const absl::string_view record = statement.ColumnBlob(first + 5);
  row.record.assign(record.data(), record.size());
  if (statement.ColumnIsNull(first + 6)) {
    row.spec.reset();
  } else {
    const absl::string_view spec = statement.ColumnBlob(first + 6);
    row.spec.emplace(spec.data(), spec.size());
  }
}

// Steps `statement` through its rows, calling `on_row` for each until it
// returns false, then resets it.
absl::Status StepAll(SqliteStatement& statement, const std::function<bool()>& on_row) {
  absl::Cleanup reset = [&statement] { statement.Reset(); };
  while (true) {
    absl::StatusOr<bool> row = statement.Step();
    if (!row.ok()) return row.status();
    if (!*row || !on_row()) return absl::OkStatus();
  }
}

}  // namespace

absl::StatusOr<std::unique_ptr<SqliteBackend>> SqliteBackend::Open(const std::string& dir) {
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
  std::unique_ptr<SqliteBackend> backend(
      new SqliteBackend(path, *lock_fd, *std::move(writer), *std::move(reader)));
  if (absl::Status s = backend->PrepareStatements(); !s.ok()) return WithPath(path, s);
  return backend;
}

SqliteBackend::SqliteBackend(std::string path, int lock_fd,
                             std::unique_ptr<SqliteConnection> writer,
                             std::unique_ptr<SqliteConnection> reader)
    : path_(std::move(path)),
      lock_fd_(lock_fd),
      reader_(std::move(reader)),
      writer_(std::move(writer)) {}

SqliteBackend::~SqliteBackend() {
  // Statements before their connections, and the lock once the database
  // is closed (the writer's close checkpoints the WAL into it).
  read_ = ReadStatements();
  write_ = WriteStatements();
  reader_.reset();
  writer_.reset();
  ::close(lock_fd_);
}

absl::Status SqliteBackend::PrepareStatements() {
  const std::pair<SqliteStatement*, std::string> reads[] = {
      {&read_.find_record, absl::StrCat("SELECT ", kRowColumnsSql, " WHERE id = ?1")},
      {&read_.find_columns, absl::StrCat("SELECT ", kColumnsSql, " WHERE id = ?1")},
      {&read_.find_by_key,
       absl::StrCat("SELECT ", kColumnsSql, " WHERE idempotency_key = ?1 ORDER BY sequence")},
      {&read_.find_sequence, "SELECT 1 FROM jobs WHERE sequence = ?1"},
      {&read_.all_in_order,
       absl::StrCat("SELECT sequence, ", kRowColumnsSql, " ORDER BY sequence")},
      {&read_.unfinished_in_order,
       absl::StrCat("SELECT sequence, ", kRowColumnsSql, " WHERE state NOT IN ",
                    FinishedStatesSql(), " ORDER BY sequence")},
      {&read_.newest_first_before,
       absl::StrCat("SELECT sequence, ", kRowColumnsSql,
                    " WHERE sequence < ?1 ORDER BY sequence DESC")},
      {&read_.erasable, absl::StrCat("SELECT ", kColumnsSql, " WHERE fetched = 1 AND state IN ",
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

// One transaction, one fsync. The erase goes first: it deletes what was
// erasable when it was called, before this batch's rows changed anything.
absl::Status SqliteBackend::Apply(const RowChanges& changes,
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
  for (auto it = changes.begin(); status.ok() && it != changes.end(); ++it) {
    const auto& [sequence, row] = *it;
    if (!row) {
      write_.delete_row.BindInt(1, static_cast<int64_t>(sequence));
      status = run(write_.delete_row);
      continue;
    }
    if (row->spec) {
      write_.put_spec.BindInt(1, static_cast<int64_t>(sequence));
      write_.put_spec.BindBlob(2, *row->spec);
      status = run(write_.put_spec);
      if (!status.ok()) break;
    }
    const RowColumns& columns = row->columns;
    write_.put_row.BindInt(1, static_cast<int64_t>(sequence));
    write_.put_row.BindText(2, columns.id);
    write_.put_row.BindInt(3, columns.state);
    if (columns.idempotency_key.empty()) {
      write_.put_row.BindNull(4);
    } else {
      write_.put_row.BindText(4, columns.idempotency_key);
    }
    write_.put_row.BindInt(5, columns.fetched ? 1 : 0);
    write_.put_row.BindDouble(6, columns.finished_unix);
    write_.put_row.BindBlob(7, row->record);
    status = run(write_.put_row);
  }
  // Also when the newest job's row is deleted in this same batch: its
  // sequence was handed out all the same.
  if (status.ok() && !changes.empty()) {
    write_.raise_max_sequence.BindInt(1, static_cast<int64_t>(changes.rbegin()->first));
    status = run(write_.raise_max_sequence);
  }
  if (status.ok()) status = writer_->Exec("COMMIT");
  if (!status.ok()) writer_->Exec("ROLLBACK").IgnoreError();
  return status;
}

absl::StatusOr<std::optional<StoredRow>> SqliteBackend::Read(const std::string& job_id) {
  read_.find_record.BindText(1, job_id);
  std::optional<StoredRow> found;
  absl::Status status = StepAll(read_.find_record, [&] {
    RowAt(read_.find_record, 0, found.emplace());
    return false;
  });
  if (!status.ok()) return status;
  return found;
}

absl::StatusOr<std::optional<RowColumns>> SqliteBackend::ReadColumns(const std::string& job_id) {
  read_.find_columns.BindText(1, job_id);
  std::optional<RowColumns> found;
  absl::Status status = StepAll(read_.find_columns, [&] {
    found = ColumnsAt(read_.find_columns, 0);
    return false;
  });
  if (!status.ok()) return status;
  return found;
}

absl::StatusOr<std::vector<RowColumns>> SqliteBackend::FindByIdempotencyKey(
    const std::string& key) {
  read_.find_by_key.BindText(1, key);
  std::vector<RowColumns> found;
  absl::Status status = StepAll(read_.find_by_key, [&] {
    found.push_back(ColumnsAt(read_.find_by_key, 0));
    return true;
  });
  if (!status.ok()) return status;
  return found;
}

absl::StatusOr<bool> SqliteBackend::SequenceTaken(uint64_t sequence) {
  absl::Cleanup reset = [this] { read_.find_sequence.Reset(); };
  read_.find_sequence.BindInt(1, static_cast<int64_t>(sequence));
  return read_.find_sequence.Step();
}

absl::Status SqliteBackend::Scan(bool unfinished_only,
                                 const std::function<bool(uint64_t, const StoredRow&)>& visit) {
  SqliteStatement& statement = unfinished_only ? read_.unfinished_in_order : read_.all_in_order;
  StoredRow row;
  return StepAll(statement, [&] {
    RowAt(statement, 1, row);  // after the sequence
    return visit(static_cast<uint64_t>(statement.ColumnInt(0)), row);
  });
}

absl::Status SqliteBackend::ScanNewestFirst(
    uint64_t before_sequence, const std::function<bool(uint64_t, const StoredRow&)>& visit) {
  SqliteStatement& statement = read_.newest_first_before;
  // SQLite's integers are signed: a bound past them is "no bound".
  statement.BindInt(1, static_cast<int64_t>(
                           std::min<uint64_t>(before_sequence, std::numeric_limits<int64_t>::max())));
  StoredRow row;
  return StepAll(statement, [&] {
    RowAt(statement, 1, row);  // after the sequence
    return visit(static_cast<uint64_t>(statement.ColumnInt(0)), row);
  });
}

absl::Status SqliteBackend::ScanErasable(double from_unix, double before_unix,
                                         const std::function<void(const RowColumns&)>& visit) {
  read_.erasable.BindDouble(1, from_unix);
  read_.erasable.BindDouble(2, before_unix);
  return StepAll(read_.erasable, [&] {
    visit(ColumnsAt(read_.erasable, 0));
    return true;
  });
}

// Kept in meta as well as taken from the rows, so that erasing the newest
// jobs never hands their sequence numbers out again.
absl::StatusOr<uint64_t> SqliteBackend::MaxSequence() {
  absl::StatusOr<int64_t> max_sequence = reader_->QueryInt(
      "SELECT max((SELECT coalesce(max(sequence), 0) FROM jobs), "
      "(SELECT value FROM meta WHERE key = 'max_sequence'))");
  if (!max_sequence.ok()) return max_sequence.status();
  return static_cast<uint64_t>(*max_sequence);
}

absl::StatusOr<absl::flat_hash_map<int, int64_t>> SqliteBackend::CountByState() {
  absl::StatusOr<SqliteStatement> by_state =
      reader_->Prepare("SELECT state, count(*) FROM jobs GROUP BY state");
  if (!by_state.ok()) return by_state.status();
  absl::flat_hash_map<int, int64_t> counts;
  absl::Status status = StepAll(*by_state, [&] {
    counts[static_cast<int>(by_state->ColumnInt(0))] = by_state->ColumnInt(1);
    return true;
  });
  if (!status.ok()) return status;
  return counts;
}

}  // namespace netpool
