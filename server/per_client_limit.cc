#include "server/per_client_limit.h"

#include <utility>

#include "absl/strings/str_cat.h"

namespace netpool {

PerClientLimit::Lease& PerClientLimit::Lease::operator=(Lease&& other) noexcept {
  if (this != &other) {
    Release();
    limit_ = std::exchange(other.limit_, nullptr);
    client_ = std::move(other.client_);
  }
  return *this;
}

void PerClientLimit::Lease::Release() {
  if (limit_ != nullptr) std::exchange(limit_, nullptr)->Release(client_);
}

absl::StatusOr<PerClientLimit::Lease> PerClientLimit::Acquire(const std::string& client) {
  absl::MutexLock lock(&mu_);
  int& held = held_[client];
  if (limit_ > 0 && held >= limit_) {
    return absl::ResourceExhaustedError(absl::StrCat(client, " has ", held, " ", what_,
                                                     ", the most one client may have (netpoold ",
                                                     flag_, "); close some first"));
  }
  ++held;
  return Lease(this, client);
}

int PerClientLimit::held(const std::string& client) const {
  absl::MutexLock lock(&mu_);
  auto it = held_.find(client);
  return it == held_.end() ? 0 : it->second;
}

void PerClientLimit::Release(const std::string& client) {
  absl::MutexLock lock(&mu_);
  auto it = held_.find(client);
  if (it != held_.end() && --it->second == 0) held_.erase(it);
}

}  // namespace netpool
