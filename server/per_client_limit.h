// PerClientLimit counts what each client identity holds open on the
// scheduler at once (its Watch streams, its waiting Gets) and refuses it
// more than a limit, so that one client cannot take what all share.
#ifndef NETPOOL_SERVER_PER_CLIENT_LIMIT_H_
#define NETPOOL_SERVER_PER_CLIENT_LIMIT_H_

#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"

namespace netpool {

class PerClientLimit {
 public:
  // One unit held by one client; given back when the lease goes away.
  class Lease {
   public:
    Lease() = default;
    Lease(Lease&& other) noexcept { *this = std::move(other); }
    Lease& operator=(Lease&& other) noexcept;
    ~Lease() { Release(); }

   private:
    friend class PerClientLimit;
    Lease(PerClientLimit* limit, std::string client) : limit_(limit), client_(std::move(client)) {}
    void Release();

    PerClientLimit* limit_ = nullptr;
    std::string client_;
  };

  // `what` names the things counted ("open Watch streams"), `flag` the
  // netpoold flag that sets `limit`; 0 means no limit.
  PerClientLimit(int limit, std::string what, std::string flag)
      : limit_(limit), what_(std::move(what)), flag_(std::move(flag)) {}

  // kResourceExhausted, naming the limit and its flag, when `client` holds
  // the limit already. REQUIRES: the limit outlives the lease.
  absl::StatusOr<Lease> Acquire(const std::string& client) ABSL_LOCKS_EXCLUDED(mu_);

  int held(const std::string& client) const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  void Release(const std::string& client) ABSL_LOCKS_EXCLUDED(mu_);

  const int limit_;
  const std::string what_;
  const std::string flag_;
  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, int> held_ ABSL_GUARDED_BY(mu_);
};

}  // namespace netpool

#endif  // NETPOOL_SERVER_PER_CLIENT_LIMIT_H_
