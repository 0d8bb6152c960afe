#include "worker/process_session.h"

#include <dirent.h>
#include <signal.h>

#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace netpool {
namespace {

constexpr int kKillRounds = 20;

// Whether `pid` is alive (not a zombie, which a signal cannot end) in
// session `session_id`, from /proc/PID/stat ("PID (COMM) STATE PPID PGRP
// SESSION ..."; COMM may hold spaces and parentheses, hence the last ')').
bool IsLiveMember(pid_t pid, pid_t session_id) {
  std::ifstream in(absl::StrCat("/proc/", pid, "/stat"));
  std::string stat;
  std::getline(in, stat);
  const size_t end_of_name = stat.rfind(')');
  if (end_of_name == std::string::npos) return false;
  std::vector<absl::string_view> fields =
      absl::StrSplit(absl::string_view(stat).substr(end_of_name + 1), ' ', absl::SkipEmpty());
  pid_t session = 0;
  if (fields.size() < 4 || !absl::SimpleAtoi(fields[3], &session)) return false;
  return session == session_id && fields[0] != "Z" && fields[0] != "X";
}

// SIGKILLs the processes of `session_id` found now; returns how many.
int KillMembers(pid_t session_id) {
  DIR* proc = ::opendir("/proc");
  if (proc == nullptr) return 0;
  int killed = 0;
  while (dirent* entry = ::readdir(proc)) {
    pid_t pid;
    if (!absl::SimpleAtoi(entry->d_name, &pid) || pid <= 0) continue;
    if (IsLiveMember(pid, session_id) && ::kill(pid, SIGKILL) == 0) ++killed;
  }
  ::closedir(proc);
  return killed;
}

}  // namespace

void KillSession(pid_t session_id) {
  if (session_id <= 0) return;
  ::kill(-session_id, SIGKILL);
  for (int round = 0; round < kKillRounds && KillMembers(session_id) > 0; ++round) {
  }
}

}  // namespace netpool
