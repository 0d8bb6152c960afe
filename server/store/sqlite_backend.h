// SqliteBackend keeps the job rows of SqliteStore in one SQLite database,
// DIR/netpool.db, in WAL mode: the schema, its upgrade and the statements,
// nothing more (the store above it does the caching and group commit).
//
//   absl::StatusOr<std::unique_ptr<SqliteBackend>> db = SqliteBackend::Open("/var/lib/netpool");
//   (*db)->Apply(changes, std::nullopt);  // one transaction, one fsync
#ifndef NETPOOL_SERVER_STORE_SQLITE_BACKEND_H_
#define NETPOOL_SERVER_STORE_SQLITE_BACKEND_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "server/store/sqlite_connection.h"
#include "server/store/storage_backend.h"

namespace netpool {

// The schema this build writes and the newest it can read.
// 2: each job's spec in a row of its own (job_specs), written once. It opens
// a schema 1 database and upgrades it at once.
inline constexpr int kSqliteSchemaVersion = 2;

// Reads use a connection of their own: in WAL mode it reads the last commit
// while Apply() writes the next on the other, so the reading and the
// writing thread never wait for each other and need no lock around SQLite.
class SqliteBackend final : public StorageBackend {
 public:
  // Opens or creates DIR/netpool.db (creating DIR), and holds DIR/LOCK so
  // that no other process or store opens it too. Errors, each message
  // starting with the database's path: kFailedPrecondition when the file is
  // in use, is not a netpool database, or was written by a newer netpoold;
  // kDataLoss when the integrity check finds it corrupt or truncated. A file
  // it rejects is left as it is.
  static absl::StatusOr<std::unique_ptr<SqliteBackend>> Open(const std::string& dir);

  SqliteBackend(const SqliteBackend&) = delete;
  SqliteBackend& operator=(const SqliteBackend&) = delete;
  ~SqliteBackend() override;

  absl::Status Apply(const RowChanges& changes, std::optional<double> erase_before_unix) override;
  absl::StatusOr<std::optional<StoredRow>> Read(const std::string& job_id) override;
  absl::StatusOr<std::optional<RowColumns>> ReadColumns(const std::string& job_id) override;
  absl::StatusOr<std::vector<RowColumns>> FindByIdempotencyKey(const std::string& key) override;
  absl::StatusOr<bool> SequenceTaken(uint64_t sequence) override;
  absl::Status Scan(bool unfinished_only,
                    const std::function<bool(uint64_t, const StoredRow&)>& visit) override;
  absl::Status ScanNewestFirst(
      uint64_t before_sequence,
      const std::function<bool(uint64_t, const StoredRow&)>& visit) override;
  absl::Status ScanErasable(double from_unix, double before_unix,
                            const std::function<void(const RowColumns&)>& visit) override;
  absl::StatusOr<uint64_t> MaxSequence() override;
  absl::StatusOr<absl::flat_hash_map<int, int64_t>> CountByState() override;

  const std::string& path() const { return path_; }

 private:
  // Prepared once on the reader connection.
  struct ReadStatements {
    SqliteStatement find_record;
    SqliteStatement find_columns;
    SqliteStatement find_by_key;
    SqliteStatement find_sequence;
    SqliteStatement all_in_order;
    SqliteStatement unfinished_in_order;
    SqliteStatement newest_first_before;
    SqliteStatement erasable;
  };
  // Prepared once on the writer connection.
  struct WriteStatements {
    SqliteStatement put_row;
    SqliteStatement put_spec;
    SqliteStatement delete_row;
    SqliteStatement delete_erasable;
    SqliteStatement raise_max_sequence;
  };

  SqliteBackend(std::string path, int lock_fd, std::unique_ptr<SqliteConnection> writer,
                std::unique_ptr<SqliteConnection> reader);
  absl::Status PrepareStatements();

  // Constant after construction.
  const std::string path_;
  const int lock_fd_;

  // Used only by the reading thread.
  std::unique_ptr<SqliteConnection> reader_;
  ReadStatements read_;

  // Used only by the writing thread.
  std::unique_ptr<SqliteConnection> writer_;
  WriteStatements write_;
};

}  // namespace netpool

#endif  // NETPOOL_SERVER_STORE_SQLITE_BACKEND_H_
