#include "worker/builtins.h"

#include <cmath>
#include <string_view>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/value_proto.h"
#include "netpool/worker.h"
#include "worker/command.h"
#include "worker/function_registry.h"
#include "worker/process_policy.h"
#include "worker/signal_name.h"
#include "worker/task_failure.h"

namespace netpool {
namespace {

absl::StatusOr<Value> Echo(const std::vector<Value>& args, TaskContext&) { return ValueList(args); }

absl::StatusOr<Value> Sleep(const std::vector<Value>& args, TaskContext&) {
  if (args.size() != 1 || !args[0].is_number() || !std::isfinite(args[0].AsDouble()) ||
      args[0].AsDouble() < 0) {
    return absl::InvalidArgumentError("sleep: expected one argument, a number of seconds >= 0");
  }
  absl::SleepFor(absl::Seconds(args[0].AsDouble()));
  return Value();
}

Value Output(std::string data) {
  if (IsValidUtf8(data)) return Value(std::move(data));
  return Value(Bytes{std::move(data)});
}

absl::Status ParseExecOptions(const Value& value, CommandOptions* options) {
  if (value.is_null()) return absl::OkStatus();
  if (!value.is_map()) return absl::InvalidArgumentError("exec: options must be a map");
  for (const auto& [key, option] : value.AsMap()) {
    if (key == "cwd" && option.is_string()) {
      options->cwd = option.AsString();
    } else if (key == "stdin" && (option.is_string() || option.is_bytes())) {
      options->stdin_data = option.is_string() ? option.AsString() : option.AsBytes();
    } else if (key == "timeout" && option.is_number() && std::isfinite(option.AsDouble()) &&
               option.AsDouble() >= 0) {
      options->timeout = absl::Seconds(option.AsDouble());
    } else if (key == "env" && option.is_map()) {
      for (const auto& [name, setting] : option.AsMap()) {
        if (!setting.is_string() || name.empty() || name.find('=') != std::string::npos) {
          return absl::InvalidArgumentError(
              absl::StrCat("exec: env \"", name, "\" must be a string variable name and value"));
        }
        options->env[name] = setting.AsString();
      }
    } else if (key == "cwd" || key == "stdin" || key == "timeout" || key == "env") {
      return absl::InvalidArgumentError(absl::StrCat("exec: option \"", key, "\" has a bad value ",
                                                     "(", std::string(KindName(option.kind())),
                                                     ")"));
    } else {
      return absl::InvalidArgumentError(absl::StrCat("exec: unknown option \"", key, "\""));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<Value> Exec(const std::vector<Value>& args, TaskContext&) {
  // The node offers no exec without the policy's leave, but a job may reach
  // this process anyway (e.g. from a scheduler that does not check).
  const ProcessPolicy policy = CurrentProcessPolicy();
  if (absl::Status allowed = CheckExecAllowed(policy); !allowed.ok()) return allowed;
  if (args.empty() || args.size() > 2 || !args[0].is_list() || args[0].AsList().empty()) {
    return absl::InvalidArgumentError("exec: expected arguments [argv list, optional options map]");
  }
  std::vector<std::string> argv;
  for (const Value& arg : args[0].AsList()) {
    if (!arg.is_string()) return absl::InvalidArgumentError("exec: argv entries must be strings");
    argv.push_back(arg.AsString());
  }
  if (absl::Status allowed = CheckCommandAllowed(policy, argv[0]); !allowed.ok()) return allowed;
  CommandOptions options;
  options.max_output_bytes = policy.max_output_bytes;
  if (args.size() == 2) {
    if (absl::Status status = ParseExecOptions(args[1], &options); !status.ok()) return status;
  }
  absl::StatusOr<CommandOutcome> outcome = RunCommand(argv, options);
  if (!outcome.ok()) return outcome.status();

  ValueMap report = {{"exit_code", outcome->exit_code},
                     {"stdout", Output(std::move(outcome->stdout_data))},
                     {"stderr", Output(std::move(outcome->stderr_data))}};
  // Only when true, so that a whole output reads as before.
  if (outcome->stdout_truncated) report["stdout_truncated"] = true;
  if (outcome->stderr_truncated) report["stderr_truncated"] = true;
  Value detail(std::move(report));
  if (outcome->timed_out) {
    return TaskFailure(
        absl::StatusCode::kDeadlineExceeded,
        absl::StrCat("command timed out after ", absl::ToDoubleSeconds(options.timeout), " s"),
        detail);
  }
  if (outcome->signal != 0) {
    return TaskFailure(absl::StatusCode::kUnknown,
                       absl::StrCat("command killed by ", DescribeSignal(outcome->signal)), detail);
  }
  if (outcome->exit_code != 0) {
    return TaskFailure(absl::StatusCode::kUnknown,
                       absl::StrCat("command exited with code ", outcome->exit_code), detail);
  }
  return detail;
}

}  // namespace

void RegisterBuiltins() {
  RegisterIfAbsent("echo", Echo);
  RegisterIfAbsent("sleep", Sleep);
  RegisterIfAbsent(kExecFunction, Exec);
}

}  // namespace netpool
