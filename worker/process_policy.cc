#include "worker/process_policy.h"

#include <errno.h>
#include <fnmatch.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>

#include "absl/base/thread_annotations.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "netpool/value.h"

#if defined(__SANITIZE_ADDRESS__)
#define NETPOOL_ADDRESS_SANITIZER 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define NETPOOL_ADDRESS_SANITIZER 1
#endif
#endif

namespace netpool {
namespace {

// Below this, a worker process could hardly read a task.
constexpr uint64_t kMinMaxMemoryBytes = 64 << 20;

// The policy this process applied, for the exec built-in to enforce.
class InstalledPolicy {
 public:
  static InstalledPolicy& Get() {
    static InstalledPolicy* const installed = new InstalledPolicy();
    return *installed;
  }
  void Set(ProcessPolicy policy) {
    absl::MutexLock lock(&mutex_);
    policy_ = std::move(policy);
  }
  ProcessPolicy Copy() {
    absl::MutexLock lock(&mutex_);
    return policy_;
  }

 private:
  absl::Mutex mutex_;
  ProcessPolicy policy_ ABSL_GUARDED_BY(mutex_);
};

struct User {
  uid_t uid;
  gid_t gid;
  std::string home;
};

absl::StatusOr<User> LookUpUser(const std::string& name) {
  long size = ::sysconf(_SC_GETPW_R_SIZE_MAX);
  std::string buffer(size > 0 ? static_cast<size_t>(size) : 16384, '\0');
  passwd entry;
  passwd* found = nullptr;
  int err;
  while ((err = ::getpwnam_r(name.c_str(), &entry, buffer.data(), buffer.size(), &found)) ==
         ERANGE) {
    buffer.resize(buffer.size() * 2);
  }
  if (err != 0) return absl::ErrnoToStatus(err, absl::StrCat("cannot look up user ", name));
  if (found == nullptr) return absl::NotFoundError(absl::StrCat("no user \"", name, "\""));
  return User{entry.pw_uid, entry.pw_gid, entry.pw_dir};
}

// Soft and hard: neither the task nor what it starts can raise it again.
absl::Status SetLimit(int resource, uint64_t value, const char* name) {
  const rlimit limit = {static_cast<rlim_t>(value), static_cast<rlim_t>(value)};
  if (::setrlimit(resource, &limit) != 0) {
    return absl::ErrnoToStatus(errno, absl::StrCat("cannot set ", name, " to ", value));
  }
  return absl::OkStatus();
}

// Only root may raise a hard limit; the node checks so that a limit out of
// its reach is a usage error rather than every worker process failing.
absl::Status CheckLimit(int resource, uint64_t value, const char* flag) {
  if (value == 0 || ::geteuid() == 0) return absl::OkStatus();
  rlimit current;
  if (::getrlimit(resource, &current) != 0 || current.rlim_max == RLIM_INFINITY ||
      value <= current.rlim_max) {
    return absl::OkStatus();
  }
  return absl::InvalidArgumentError(absl::StrCat(flag, ": ", value,
                                                 " is above this node's hard limit of ",
                                                 current.rlim_max, ", which only root can raise"));
}

// Gives up root for good: supplementary groups, group, then user, the
// order in which each step is still permitted.
absl::Status BecomeUser(const std::string& name) {
  absl::StatusOr<User> user = LookUpUser(name);
  if (!user.ok()) return user.status();
  if (::initgroups(name.c_str(), user->gid) != 0) {
    return absl::ErrnoToStatus(errno, absl::StrCat("initgroups for user ", name));
  }
  if (::setgid(user->gid) != 0) {
    return absl::ErrnoToStatus(errno, absl::StrCat("setgid ", user->gid, " of user ", name));
  }
  if (::setuid(user->uid) != 0) {
    return absl::ErrnoToStatus(errno, absl::StrCat("setuid ", user->uid, " of user ", name));
  }
  if (::getuid() != user->uid || ::geteuid() != user->uid || ::getgid() != user->gid ||
      ::getegid() != user->gid) {
    return absl::InternalError(absl::StrCat("did not become user ", name));
  }
  // setuid keeps the saved user id on some systems: proof that root is gone.
  if (user->uid != 0 && ::setuid(0) == 0) {
    return absl::InternalError(absl::StrCat("could become root again after becoming ", name));
  }
  ::setenv("HOME", user->home.c_str(), 1);
  ::setenv("USER", name.c_str(), 1);
  ::setenv("LOGNAME", name.c_str(), 1);
  return absl::OkStatus();
}

bool HasDotDotComponent(const std::string& path) {
  for (absl::string_view part : absl::StrSplit(path, '/')) {
    if (part == "..") return true;
  }
  return false;
}

// Keys of the command-line form.
constexpr char kAllowExec[] = "allow_exec";
constexpr char kExecAllow[] = "exec_allow";
constexpr char kMaxMemoryBytes[] = "max_memory_bytes";
constexpr char kMaxOpenFiles[] = "max_open_files";
constexpr char kRunAs[] = "run_as";
constexpr char kMaxOutputBytes[] = "max_output_bytes";

}  // namespace

absl::Status CheckProcessPolicy(const ProcessPolicy& policy) {
  for (const std::string& pattern : policy.exec_allow) {
    if (pattern.empty()) return absl::InvalidArgumentError("--exec-allow: empty pattern");
  }
  if (policy.max_memory_bytes > 0 && policy.max_memory_bytes < kMinMaxMemoryBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("--max-memory: at least ", kMinMaxMemoryBytes >> 20,
                     "M: a worker process alone takes about 30M of address space"));
  }
#ifdef NETPOOL_ADDRESS_SANITIZER
  // Its shadow memory alone is terabytes of address space.
  if (policy.max_memory_bytes > 0) {
    return absl::InvalidArgumentError("--max-memory: not available in an AddressSanitizer build");
  }
#endif
  if (absl::Status s = CheckLimit(RLIMIT_AS, policy.max_memory_bytes, "--max-memory"); !s.ok()) {
    return s;
  }
  if (policy.max_output_bytes == 0 || policy.max_output_bytes > kMaxMaxOutputBytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--max-output: 1 to ", kMaxMaxOutputBytes >> 20,
        "M: a command's stdout and stderr together must fit in one result (64M)"));
  }
  if (absl::Status s = CheckLimit(RLIMIT_NOFILE, policy.max_open_files, "--max-open-files");
      !s.ok()) {
    return s;
  }
  if (policy.run_as.empty()) return absl::OkStatus();
  if (::geteuid() != 0) {
    return absl::InvalidArgumentError(
        "--run-as: only a node running as root can run its worker processes as another user");
  }
  absl::StatusOr<User> user = LookUpUser(policy.run_as);
  if (!user.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("--run-as: ", user.status().message()));
  }
  return absl::OkStatus();
}

absl::Status ApplyProcessPolicy(const ProcessPolicy& policy) {
  // Limits first, while the process may still raise hard limits as root.
  if (absl::Status s = SetLimit(RLIMIT_CORE, 0, "RLIMIT_CORE"); !s.ok()) return s;
  if (policy.max_memory_bytes > 0) {
    if (absl::Status s = SetLimit(RLIMIT_AS, policy.max_memory_bytes, "RLIMIT_AS"); !s.ok()) {
      return s;
    }
  }
  if (policy.max_open_files > 0) {
    if (absl::Status s = SetLimit(RLIMIT_NOFILE, policy.max_open_files, "RLIMIT_NOFILE"); !s.ok()) {
      return s;
    }
  }
  if (!policy.run_as.empty()) {
    if (absl::Status s = BecomeUser(policy.run_as); !s.ok()) return s;
  }
  InstalledPolicy::Get().Set(policy);
  return absl::OkStatus();
}

ProcessPolicy CurrentProcessPolicy() { return InstalledPolicy::Get().Copy(); }

absl::Status CheckExecAllowed(const ProcessPolicy& policy) {
  if (policy.allow_exec) return absl::OkStatus();
  return absl::PermissionDeniedError(
      "exec is not allowed on this node (start netpool-worker with --allow-exec)");
}

absl::Status CheckCommandAllowed(const ProcessPolicy& policy, const std::string& program) {
  if (absl::Status s = CheckExecAllowed(policy); !s.ok()) return s;
  if (policy.exec_allow.empty()) return absl::OkStatus();
  // "/usr/bin/*/*" must not let "/usr/bin/../../bin/rm" through.
  const bool matches =
      !HasDotDotComponent(program) &&
      std::any_of(policy.exec_allow.begin(), policy.exec_allow.end(),
                  [&](const std::string& pattern) {
                    return ::fnmatch(pattern.c_str(), program.c_str(), FNM_PATHNAME) == 0;
                  });
  if (matches) return absl::OkStatus();
  return absl::PermissionDeniedError(
      absl::StrCat("exec: \"", program, "\" is not allowed on this node (--exec-allow ",
                   absl::StrJoin(policy.exec_allow, " --exec-allow "), ")"));
}

std::string ProcessPolicyToArg(const ProcessPolicy& policy) {
  return Value(ValueMap{
                   {kAllowExec, policy.allow_exec},
                   {kExecAllow, ValueList(policy.exec_allow.begin(), policy.exec_allow.end())},
                   {kMaxMemoryBytes, policy.max_memory_bytes},
                   {kMaxOpenFiles, policy.max_open_files},
                   {kRunAs, policy.run_as},
                   {kMaxOutputBytes, policy.max_output_bytes},
               })
      .ToJson();
}

absl::StatusOr<ProcessPolicy> ProcessPolicyFromArg(const std::string& arg) {
  const absl::Status bad = absl::InvalidArgumentError(absl::StrCat("not a process policy: ", arg));
  absl::StatusOr<Value> parsed = Value::FromJson(arg);
  if (!parsed.ok() || !parsed->is_map()) return bad;
  const ValueMap& map = parsed->AsMap();
  const Value none;
  auto get = [&](const char* key) -> const Value& {
    auto it = map.find(key);
    return it == map.end() ? none : it->second;
  };
  auto is_count = [](const Value& v) { return v.is_int() && v.AsInt() >= 0; };
  const Value& allow_exec = get(kAllowExec);
  const Value& exec_allow = get(kExecAllow);
  const Value& max_memory_bytes = get(kMaxMemoryBytes);
  const Value& max_open_files = get(kMaxOpenFiles);
  const Value& run_as = get(kRunAs);
  const Value& max_output_bytes = get(kMaxOutputBytes);
  if (map.size() != 6 || !allow_exec.is_bool() || !exec_allow.is_list() ||
      !is_count(max_memory_bytes) || !is_count(max_open_files) || !run_as.is_string() ||
      !is_count(max_output_bytes)) {
    return bad;
  }
  ProcessPolicy policy;
  policy.allow_exec = allow_exec.AsBool();
  for (const Value& pattern : exec_allow.AsList()) {
    if (!pattern.is_string()) return bad;
    policy.exec_allow.push_back(pattern.AsString());
  }
  policy.max_memory_bytes = static_cast<uint64_t>(max_memory_bytes.AsInt());
  policy.max_open_files = static_cast<uint64_t>(max_open_files.AsInt());
  policy.run_as = run_as.AsString();
  policy.max_output_bytes = static_cast<uint64_t>(max_output_bytes.AsInt());
  return policy;
}

absl::StatusOr<uint64_t> ParseByteSize(const std::string& text) {
  const absl::Status bad = absl::InvalidArgumentError(absl::StrCat(
      "expected a number of bytes above 0 with an optional K, M, G or T suffix (e.g. 512M), got \"",
      text, "\""));
  static constexpr absl::string_view kUnits = "KMGT";  // 2^10, 2^20, 2^30, 2^40
  const size_t unit =
      text.empty() ? absl::string_view::npos : kUnits.find(absl::ascii_toupper(text.back()));
  const int shift = unit == absl::string_view::npos ? 0 : 10 * static_cast<int>(unit + 1);
  const std::string digits(shift > 0 ? text.substr(0, text.size() - 1) : text);
  uint64_t count = 0;
  if (digits.empty() || !std::all_of(digits.begin(), digits.end(), absl::ascii_isdigit) ||
      !absl::SimpleAtoi(digits, &count) || count == 0 || count > (uint64_t{1} << 63 >> shift)) {
    return bad;
  }
  return count << shift;
}

}  // namespace netpool
