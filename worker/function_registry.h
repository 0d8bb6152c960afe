// The process-wide table of functions that jobs can call by name. The public
// face is netpool::Register / RegisteredFunctions (netpool/worker.h); the
// worker itself looks functions up here when a task arrives.
#ifndef NETPOOL_WORKER_FUNCTION_REGISTRY_H_
#define NETPOOL_WORKER_FUNCTION_REGISTRY_H_

#include <optional>
#include <string>

#include "netpool/worker.h"

namespace netpool {

// A copy of the function registered under `name`, or nullopt. Copying lets
// the caller run it without holding the registry lock.
std::optional<TaskFunction> FindFunction(const std::string& name);

// Registers `fn` unless `name` is taken, so that built-ins never replace a
// function the program registered under the same name.
void RegisterIfAbsent(std::string name, TaskFunction fn);

}  // namespace netpool

#endif  // NETPOOL_WORKER_FUNCTION_REGISTRY_H_
