// The functions every netpool worker serves with no code of its own, so that
// the system is useful and testable out of the box:
//   echo(ARGS...)            -> [ARGS...]
//   sleep(SECONDS)           -> null, after SECONDS (int or double)
//   exec(ARGV, {cwd, env, stdin, timeout}) -> {exit_code, stdout, stderr}
//                            plus stdout_truncated / stderr_truncated: true
//                            when the output passed the node's --max-output
// exec fails the job when the command exits non-zero, dies by a signal or
// times out, with the same {exit_code, stdout, stderr} map as the error
// detail (see task_failure.h). It runs only what the process's policy allows
// (see process_policy.h), else fails with kPermissionDenied.
#ifndef NETPOOL_WORKER_BUILTINS_H_
#define NETPOOL_WORKER_BUILTINS_H_

#include "common/builtin_functions.h"

namespace netpool {

// Registers the built-ins, except where the program registered a function
// of the same name itself.
void RegisterBuiltins();

}  // namespace netpool

#endif  // NETPOOL_WORKER_BUILTINS_H_
