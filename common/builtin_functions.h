// The names of the built-in functions (worker/builtins.h) that other parts
// name too: the CLI submits exec jobs, and job records show their command.
#ifndef NETPOOL_COMMON_BUILTIN_FUNCTIONS_H_
#define NETPOOL_COMMON_BUILTIN_FUNCTIONS_H_

namespace netpool {

// The built-in that runs commands, which a node's ProcessPolicy governs.
inline constexpr char kExecFunction[] = "exec";

}  // namespace netpool

#endif  // NETPOOL_COMMON_BUILTIN_FUNCTIONS_H_
