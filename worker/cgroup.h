// Cgroup is a cgroup v2 directory that holds one job's process tree (a
// worker process and what it started, or one exec command), so that the
// whole tree can be killed, including processes that left their process
// group with setsid. The worker creates these under its own cgroup when the
// system lets it (cgroup v2 mounted, the directory writable: as root on most
// hosts); elsewhere it falls back to process groups and sessions.
//
//   std::optional<Cgroup> cgroup = Cgroup::TryCreate(nullptr, "exec-42");
//   if (cgroup) cgroup->Add(pid);
//   ...
//   if (cgroup) cgroup->KillAndRemove();
//
// No controller is enabled, so processes may live both in a cgroup and in
// its children; a cgroup only groups them.
#ifndef NETPOOL_WORKER_CGROUP_H_
#define NETPOOL_WORKER_CGROUP_H_

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace netpool {

class Cgroup {
 public:
  // Makes `name` under `parent`, or under the calling process's own cgroup
  // when `parent` is null. Errors: kUnavailable when there is no cgroup v2
  // hierarchy, kPermissionDenied / kInternal when the directory cannot be
  // made.
  static absl::StatusOr<Cgroup> Create(const Cgroup* parent, const std::string& name);

  // The calling process's own cgroup, as it is (nothing is made). Errors:
  // kUnavailable when there is no cgroup v2 hierarchy.
  static absl::StatusOr<Cgroup> Own();

  // Create, but nullopt on failure. The first failure in a process is
  // logged at debug, once: the caller then tracks its jobs by process group
  // and session only.
  static std::optional<Cgroup> TryCreate(const Cgroup* parent, const std::string& name);

  Cgroup(Cgroup&&) = default;
  Cgroup& operator=(Cgroup&&) = default;

  const std::string& path() const { return path_; }
  // The last component of path().
  std::string name() const;

  // The cgroups directly below this one.
  std::vector<Cgroup> Children() const;

  // Moves `pid` (all its threads) into this cgroup; what it starts from then
  // on is born inside. Errors: kInternal with the system's reason.
  absl::Status Add(pid_t pid) const;

  // SIGKILLs every process in this cgroup and its children: with
  // cgroup.kill where the kernel has it (5.14), else pid by pid.
  void Kill() const;

  // Kills, waits up to `wait` for the processes to go, then removes the
  // directory and its children. Returns whether they are gone; what is left
  // is logged at debug, and a later KillAndRemove of a parent retries.
  bool KillAndRemove(absl::Duration wait = absl::Seconds(1)) const;

 private:
  explicit Cgroup(std::string path) : path_(std::move(path)) {}

  std::string path_;
};

}  // namespace netpool

#endif  // NETPOOL_WORKER_CGROUP_H_
