#include "worker/cgroup.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "common/monotonic_clock.h"
#include "spdlog/spdlog.h"

namespace netpool {
namespace {

// Rounds of pid-by-pid killing before giving up on a cgroup whose
// processes keep forking (only without cgroup.kill).
constexpr int kKillRounds = 20;

absl::Status SystemError(absl::string_view what, const std::string& path) {
  const std::string message = absl::StrCat(what, " ", path, ": ", strerror(errno));
  return errno == EACCES || errno == EPERM || errno == EROFS ? absl::PermissionDeniedError(message)
                                                            : absl::InternalError(message);
}

// The directory of the calling process's own cgroup v2: the cgroup2 mount
// (from /proc/self/mountinfo) joined with the "0::" line of /proc/self/cgroup.
absl::StatusOr<std::string> OwnCgroupDirectory() {
  std::string own;
  std::ifstream cgroups("/proc/self/cgroup");
  for (std::string line; std::getline(cgroups, line);) {
    if (absl::StartsWith(line, "0::")) own = line.substr(3);
  }
  if (own.empty()) return absl::UnavailableError("this process is in no cgroup v2");
  std::ifstream mounts("/proc/self/mountinfo");
  for (std::string line; std::getline(mounts, line);) {
    // ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS... - FSTYPE SOURCE SUPEROPTIONS
    std::vector<std::string> halves = absl::StrSplit(line, " - ");
    if (halves.size() != 2 || !absl::StartsWith(halves[1], "cgroup2 ")) continue;
    std::vector<std::string> fields = absl::StrSplit(halves[0], ' ');
    if (fields.size() < 5) continue;
    const std::string& root = fields[3];
    const std::string& mount_point = fields[4];
    if (root == "/") return absl::StrCat(mount_point, own == "/" ? "" : own);
    if (own == root || absl::StartsWith(own, absl::StrCat(root, "/"))) {
      return absl::StrCat(mount_point, own.substr(root.size()));
    }
  }
  return absl::UnavailableError("no cgroup v2 hierarchy is mounted");
}

std::vector<std::string> ChildDirectories(const std::string& path) {
  std::vector<std::string> children;
  DIR* dir = ::opendir(path.c_str());
  if (dir == nullptr) return children;
  while (dirent* entry = ::readdir(dir)) {
    if (entry->d_type != DT_DIR || strcmp(entry->d_name, ".") == 0 ||
        strcmp(entry->d_name, "..") == 0) {
      continue;
    }
    children.push_back(absl::StrCat(path, "/", entry->d_name));
  }
  ::closedir(dir);
  return children;
}

// SIGKILLs the processes listed in `path` and below; returns how many.
int KillListed(const std::string& path) {
  int killed = 0;
  std::ifstream procs(absl::StrCat(path, "/cgroup.procs"));
  for (std::string line; std::getline(procs, line);) {
    pid_t pid;
    if (absl::SimpleAtoi(line, &pid) && pid > 0 && ::kill(pid, SIGKILL) == 0) ++killed;
  }
  for (const std::string& child : ChildDirectories(path)) killed += KillListed(child);
  return killed;
}

// Whether any process is in `path` or below (cgroup.events "populated 1").
bool Populated(const std::string& path) {
  std::ifstream events(absl::StrCat(path, "/cgroup.events"));
  for (std::string line; std::getline(events, line);) {
    if (line == "populated 0") return false;
  }
  return ::access(path.c_str(), F_OK) == 0;
}

bool RemoveTree(const std::string& path) {
  for (const std::string& child : ChildDirectories(path)) RemoveTree(child);
  if (::rmdir(path.c_str()) == 0 || errno == ENOENT) return true;
  spdlog::debug("cannot remove cgroup {}: {}", path, strerror(errno));
  return false;
}

}  // namespace

absl::StatusOr<Cgroup> Cgroup::Own() {
  absl::StatusOr<std::string> own = OwnCgroupDirectory();
  if (!own.ok()) return own.status();
  return Cgroup(*std::move(own));
}

absl::StatusOr<Cgroup> Cgroup::Create(const Cgroup* parent, const std::string& name) {
  std::string parent_path;
  if (parent != nullptr) {
    parent_path = parent->path_;
  } else {
    absl::StatusOr<Cgroup> own = Own();
    if (!own.ok()) return own.status();
    parent_path = own->path_;
  }
  std::string path = absl::StrCat(parent_path, "/", name);
  if (::mkdir(path.c_str(), 0755) != 0 && errno != EEXIST) {
    return SystemError("cannot make cgroup", path);
  }
  return Cgroup(std::move(path));
}

std::optional<Cgroup> Cgroup::TryCreate(const Cgroup* parent, const std::string& name) {
  absl::StatusOr<Cgroup> cgroup = Create(parent, name);
  if (cgroup.ok()) return *std::move(cgroup);
  static std::atomic<bool> logged{false};
  if (!logged.exchange(true)) {
    spdlog::debug(
        "process {}: no cgroup for job processes ({}); a job's processes are tracked by process "
        "group and session only, so one that calls setsid can outlive its job",
        ::getpid(),
        std::string(cgroup.status().message()));
  }
  return std::nullopt;
}

std::string Cgroup::name() const { return path_.substr(path_.rfind('/') + 1); }

std::vector<Cgroup> Cgroup::Children() const {
  std::vector<Cgroup> children;
  for (std::string& child : ChildDirectories(path_)) children.push_back(Cgroup(std::move(child)));
  return children;
}

absl::Status Cgroup::Add(pid_t pid) const {
  const std::string procs = absl::StrCat(path_, "/cgroup.procs");
  std::ofstream out(procs);
  out << pid << std::flush;
  if (!out) return SystemError(absl::StrCat("cannot move ", pid, " into"), path_);
  return absl::OkStatus();
}

void Cgroup::Kill() const {
  {
    std::ofstream kill(absl::StrCat(path_, "/cgroup.kill"));
    kill << "1" << std::flush;
    if (kill) return;
  }
  for (int round = 0; round < kKillRounds && KillListed(path_) > 0; ++round) {
  }
}

bool Cgroup::KillAndRemove(absl::Duration wait) const {
  Kill();
  const absl::Time deadline = MonotonicNow() + wait;
  while (Populated(path_) && MonotonicNow() < deadline) absl::SleepFor(absl::Milliseconds(2));
  return RemoveTree(path_);
}

}  // namespace netpool
