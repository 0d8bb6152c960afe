// SpawnAttributes are the posix_spawn attributes of every process a worker
// node starts (worker processes, exec commands): nothing blocked and default
// signal dispositions, whatever the node blocked for its ShutdownSignal or
// ignored (SIGPIPE), so the child can be stopped and sees a broken pipe.
#ifndef NETPOOL_WORKER_SPAWN_ATTRIBUTES_H_
#define NETPOOL_WORKER_SPAWN_ATTRIBUTES_H_

#include <signal.h>
#include <spawn.h>

namespace netpool {

class SpawnAttributes {
 public:
  // Where the child starts: a new process group (an exec command), so that
  // killing the group also stops whatever it started; or a new session
  // (a worker process), so that the session also holds the groups of the
  // commands it starts (see process_session.h).
  enum class Leads { kProcessGroup, kSession };

  explicit SpawnAttributes(Leads leads) {
    posix_spawnattr_init(&attr_);
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    posix_spawnattr_setsigmask(&attr_, &none);
    posix_spawnattr_setsigdefault(&attr_, &all);
    short flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF;
    if (leads == Leads::kSession) {
      flags |= POSIX_SPAWN_SETSID;
    } else {
      posix_spawnattr_setpgroup(&attr_, 0);
      flags |= POSIX_SPAWN_SETPGROUP;
    }
    posix_spawnattr_setflags(&attr_, flags);
  }
  ~SpawnAttributes() { posix_spawnattr_destroy(&attr_); }
  SpawnAttributes(const SpawnAttributes&) = delete;
  SpawnAttributes& operator=(const SpawnAttributes&) = delete;

  const posix_spawnattr_t* get() const { return &attr_; }

 private:
  posix_spawnattr_t attr_;
};

}  // namespace netpool

#endif  // NETPOOL_WORKER_SPAWN_ATTRIBUTES_H_
