// CgroupsUnavailable says why this host gives the worker no cgroups (so
// that a test of what only a cgroup can do skips with the reason), or
// nothing when it does: cgroup v2 is mounted and this process may make a
// child of its own cgroup, as the worker would.
#ifndef NETPOOL_TESTS_WORKER_CGROUP_PROBE_H_
#define NETPOOL_TESTS_WORKER_CGROUP_PROBE_H_

#include <unistd.h>

#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "worker/cgroup.h"

namespace netpool::testing {

inline std::optional<std::string> CgroupsUnavailable() {
  absl::StatusOr<Cgroup> probe =
      Cgroup::Create(nullptr, absl::StrCat("netpool-probe-", ::getpid()));
  if (!probe.ok()) {
    return absl::StrCat("no cgroup can be made here (", probe.status().message(),
                        "): a process that calls setsid can outlive its job");
  }
  probe->KillAndRemove();
  return std::nullopt;
}

}  // namespace netpool::testing

#endif  // NETPOOL_TESTS_WORKER_CGROUP_PROBE_H_
