// SqliteConnection owns one connection to a SQLite database and reports its
// errors as absl::Status; SqliteStatement is one prepared statement on it,
// prepared once and reused (bind, step, read columns, reset).
//
//   absl::StatusOr<std::unique_ptr<SqliteConnection>> db = SqliteConnection::Open(path);
//   absl::StatusOr<SqliteStatement> find = (*db)->Prepare("SELECT record FROM jobs WHERE id = ?1");
//   find->BindText(1, id);
//   absl::StatusOr<bool> row = find->Step();  // true: a row to read
//   ...
//   find->Reset();  // always, so that the statement holds no read transaction
#ifndef NETPOOL_SERVER_STORE_SQLITE_CONNECTION_H_
#define NETPOOL_SERVER_STORE_SQLITE_CONNECTION_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

struct sqlite3;
struct sqlite3_stmt;

namespace netpool {

// The absl::Status for SQLite result code `code`, with `message`:
// kDataLoss for a corrupt file, kFailedPrecondition for a file that is not a
// database, kResourceExhausted for a full disk, kInternal otherwise.
absl::Status SqliteError(int code, absl::string_view message);

// Move-only; finalizes the statement when destroyed.
class SqliteStatement {
 public:
  SqliteStatement() = default;
  SqliteStatement(SqliteStatement&& other) noexcept;
  SqliteStatement& operator=(SqliteStatement&& other) noexcept;
  ~SqliteStatement();

  // Parameters are numbered from 1, as in the SQL text (?1, ?2...). Text
  // and blobs are copied, so the arguments need not outlive the call.
  void BindInt(int index, int64_t value);
  void BindDouble(int index, double value);
  void BindText(int index, absl::string_view value);
  void BindBlob(int index, absl::string_view value);
  void BindNull(int index);

  // Runs to the next row: true when there is one, false when done.
  absl::StatusOr<bool> Step();
  // Columns of the current row, numbered from 0. A view is valid until the
  // next Step() or Reset().
  int64_t ColumnInt(int column) const;
  double ColumnDouble(int column) const;
  absl::string_view ColumnText(int column) const;
  absl::string_view ColumnBlob(int column) const;
  bool ColumnIsNull(int column) const;

  // Ends the run and clears the bindings, ready for the next.
  void Reset();

 private:
  friend class SqliteConnection;
  explicit SqliteStatement(sqlite3_stmt* statement) : statement_(statement) {}

  sqlite3_stmt* statement_ = nullptr;
};

// Not thread-safe: one thread at a time uses a connection and its statements.
class SqliteConnection {
 public:
  // Opens `path` for reading and writing, creating it if missing. Nothing
  // is read until the first statement runs.
  static absl::StatusOr<std::unique_ptr<SqliteConnection>> Open(const std::string& path);

  SqliteConnection(const SqliteConnection&) = delete;
  SqliteConnection& operator=(const SqliteConnection&) = delete;
  // Closes once its last statement is finalized too.
  ~SqliteConnection();

  // Runs SQL that returns no rows (several statements allowed).
  absl::Status Exec(const std::string& sql);
  absl::StatusOr<SqliteStatement> Prepare(const std::string& sql);
  // The first column of the first row of `sql`, as text; kNotFound when
  // there is no row.
  absl::StatusOr<std::string> QueryText(const std::string& sql);
  absl::StatusOr<int64_t> QueryInt(const std::string& sql);

 private:
  explicit SqliteConnection(sqlite3* db) : db_(db) {}
  // `sql` prepared and stepped to its first row; kNotFound when it has none.
  absl::StatusOr<SqliteStatement> FirstRow(const std::string& sql);

  sqlite3* const db_;
};

}  // namespace netpool

#endif  // NETPOOL_SERVER_STORE_SQLITE_CONNECTION_H_
