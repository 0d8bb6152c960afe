#include "worker/function_registry.h"

#include <map>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace netpool {
namespace {

class FunctionRegistry {
 public:
  static FunctionRegistry& Get() {
    static FunctionRegistry* const registry = new FunctionRegistry();
    return *registry;
  }

  void Add(std::string name, TaskFunction fn, bool replace) {
    absl::MutexLock lock(&mutex_);
    if (replace) {
      functions_[std::move(name)] = std::move(fn);
    } else {
      functions_.emplace(std::move(name), std::move(fn));
    }
  }

  std::optional<TaskFunction> Find(const std::string& name) {
    absl::MutexLock lock(&mutex_);
    auto it = functions_.find(name);
    if (it == functions_.end()) return std::nullopt;
    return it->second;
  }

  std::vector<std::string> Names() {
    absl::MutexLock lock(&mutex_);
    std::vector<std::string> names;
    names.reserve(functions_.size());
    for (const auto& [name, fn] : functions_) names.push_back(name);
    return names;  // std::map keeps them sorted
  }

 private:
  absl::Mutex mutex_;
  std::map<std::string, TaskFunction> functions_ ABSL_GUARDED_BY(mutex_);
};

}  // namespace

bool Register(std::string name, TaskFunction fn) {
  FunctionRegistry::Get().Add(std::move(name), std::move(fn), /*replace=*/true);
  return true;
}

void RegisterIfAbsent(std::string name, TaskFunction fn) {
  FunctionRegistry::Get().Add(std::move(name), std::move(fn), /*replace=*/false);
}

std::vector<std::string> RegisteredFunctions() { return FunctionRegistry::Get().Names(); }

std::optional<TaskFunction> FindFunction(const std::string& name) {
  return FunctionRegistry::Get().Find(name);
}

}  // namespace netpool
