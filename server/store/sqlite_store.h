// SqliteStore is the durable job store of netpoold (the default; `--data
// DIR`): DurableStore over one SQLite database, DIR/netpool.db, in WAL mode
// (SqliteBackend).
//
//   absl::StatusOr<std::unique_ptr<SqliteStore>> store = SqliteStore::Open("/var/lib/netpool");
//   if (!store.ok()) ...;  // newer schema, not a netpool database, corrupt, in use
//   (*store)->Insert(jobs);
//   (*store)->WaitDurable((*store)->last_write());  // now it survives kill -9 and power loss
#ifndef NETPOOL_SERVER_STORE_SQLITE_STORE_H_
#define NETPOOL_SERVER_STORE_SQLITE_STORE_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "server/store/durable_store.h"
#include "server/store/sqlite_backend.h"

namespace netpool {

// Only opens: what it does is DurableStore's, how rows are stored
// SqliteBackend's.
class SqliteStore final : public DurableStore {
 public:
  // Opens or creates DIR/netpool.db (creating DIR), and holds DIR/LOCK so
  // that no other process or store opens it too. Errors, each message
  // starting with the database's path: kFailedPrecondition when the file is
  // in use, is not a netpool database, or was written by a newer netpoold;
  // kDataLoss when the integrity check finds it corrupt or truncated. A file
  // it rejects is left as it is.
  static absl::StatusOr<std::unique_ptr<SqliteStore>> Open(const std::string& dir);

  // DIR/netpool.db.
  const std::string& path() const { return name(); }

 private:
  using DurableStore::DurableStore;
};

}  // namespace netpool

#endif  // NETPOOL_SERVER_STORE_SQLITE_STORE_H_
