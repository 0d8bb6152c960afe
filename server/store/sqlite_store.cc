#include "server/store/sqlite_store.h"

#include <utility>

namespace netpool {

absl::StatusOr<std::unique_ptr<SqliteStore>> SqliteStore::Open(const std::string& dir) {
  absl::StatusOr<std::unique_ptr<SqliteBackend>> backend = SqliteBackend::Open(dir);
  if (!backend.ok()) return backend.status();
  std::string path = (*backend)->path();
  std::unique_ptr<SqliteStore> store(new SqliteStore(std::move(path), *std::move(backend)));
  if (absl::Status s = store->Start(); !s.ok()) return s;
  return store;
}

}  // namespace netpool
