// KillSession ends every process of a session: how a node kills a worker
// process together with everything it started, where no cgroup holds them.
// Each worker process leads a session of its own, and each exec command a
// process group within it, so the session is the job's whole process tree
// except what called setsid (which a cgroup catches, see cgroup.h).
#ifndef NETPOOL_WORKER_PROCESS_SESSION_H_
#define NETPOOL_WORKER_PROCESS_SESSION_H_

#include <sys/types.h>

namespace netpool {

// SIGKILLs the process group `session_id` and then every process whose
// session is `session_id`, found in /proc, until none is left (or a bounded
// number of rounds, for processes that fork as fast as they are killed).
// The id stays safe to use while any member lives or the leader is an
// unreaped zombie: Linux reuses no pid that still names a session or group.
void KillSession(pid_t session_id);

}  // namespace netpool

#endif  // NETPOOL_WORKER_PROCESS_SESSION_H_
