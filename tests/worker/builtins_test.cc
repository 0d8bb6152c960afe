#include "worker/builtins.h"

#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "netpool/worker.h"
#include "tests/worker/value_printer.h"
#include "worker/function_registry.h"
#include "worker/task_failure.h"

namespace netpool {
namespace {

absl::StatusOr<Value> Call(const std::string& name, std::vector<Value> args) {
  RegisterBuiltins();
  std::optional<TaskFunction> fn = FindFunction(name);
  if (!fn.has_value()) return absl::NotFoundError(name);
  TaskContext context("job", 1, absl::ZeroDuration());
  return (*fn)(args, context);
}

Value Argv(std::vector<std::string> argv) {
  ValueList list(argv.begin(), argv.end());
  return list;
}

Value Outcome(int exit_code, Value out, Value err) {
  return ValueMap{{"exit_code", exit_code}, {"stdout", std::move(out)}, {"stderr", std::move(err)}};
}

TEST(Builtins, AreRegistered) {
  RegisterBuiltins();
  std::vector<std::string> names = RegisteredFunctions();
  for (const char* name : {"echo", "exec", "sleep"}) {
    EXPECT_NE(std::find(names.begin(), names.end(), name), names.end()) << name;
  }
}

TEST(Builtins, DoNotReplaceAFunctionTheProgramRegistered) {
  RegisterBuiltins();
  TaskFunction original = *FindFunction("echo");
  Register("echo", [](const std::vector<Value>&, TaskContext&) -> absl::StatusOr<Value> {
    return Value("mine");
  });
  RegisterBuiltins();
  EXPECT_EQ(*Call("echo", {1}), Value("mine"));
  Register("echo", original);
}

TEST(Echo, ReturnsItsArgumentsAsAList) {
  EXPECT_EQ(*Call("echo", {1, "two", ValueList{3.5}}), Value(ValueList{1, "two", ValueList{3.5}}));
  EXPECT_EQ(*Call("echo", {}), Value(ValueList{}));
}

TEST(Sleep, WaitsForIntOrDoubleSecondsAndReturnsNull) {
  absl::Time start = absl::Now();
  EXPECT_EQ(*Call("sleep", {0.05}), Value());
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(50));
  EXPECT_EQ(*Call("sleep", {0}), Value());
}

TEST(Sleep, RejectsAnythingButOneNonNegativeNumber) {
  for (const std::vector<Value>& args :
       std::vector<std::vector<Value>>{{}, {"1"}, {-1}, {1, 2}, {Value()}}) {
    EXPECT_EQ(Call("sleep", args).status().code(), absl::StatusCode::kInvalidArgument);
  }
}

TEST(Exec, ReturnsExitCodeAndOutput) {
  EXPECT_EQ(*Call("exec", {Argv({"sh", "-c", "echo hi; echo there >&2"})}),
            Outcome(0, "hi\n", "there\n"));
}

TEST(Exec, NonZeroExitFailsWithTheOutcomeAsDetail) {
  absl::StatusOr<Value> result = Call("exec", {Argv({"sh", "-c", "echo partial; exit 3"})});
  EXPECT_EQ(result.status().code(), absl::StatusCode::kUnknown);
  EXPECT_EQ(result.status().message(), "command exited with code 3");
  EXPECT_EQ(TaskFailureDetail(result.status()), Outcome(3, "partial\n", ""));
}

TEST(Exec, DeathBySignalFailsWithTheSignalName) {
  absl::StatusOr<Value> result = Call("exec", {Argv({"sh", "-c", "kill -9 $$"})});
  EXPECT_EQ(result.status().code(), absl::StatusCode::kUnknown);
  EXPECT_EQ(result.status().message(), "command killed by signal 9 (SIGKILL)");
  EXPECT_EQ(TaskFailureDetail(result.status()), Outcome(137, "", ""));
}

TEST(Exec, CommandNotFoundFailsWithExitCode127) {
  absl::StatusOr<Value> result = Call("exec", {Argv({"netpool-no-such-command"})});
  EXPECT_EQ(result.status().message(), "command exited with code 127");
  EXPECT_EQ(
      TaskFailureDetail(result.status()),
      Outcome(127, "", "netpool: exec: netpool-no-such-command: No such file or directory\n"));
}

TEST(Exec, AppliesStdinEnvAndCwdOptions) {
  Value options = ValueMap{{"stdin", "from stdin"},
                           {"env", ValueMap{{"NETPOOL_TEST_VAR", "from env"}}},
                           {"cwd", "/usr"}};
  absl::StatusOr<Value> result =
      Call("exec", {Argv({"sh", "-c", "cat; echo; echo \"$NETPOOL_TEST_VAR\"; pwd"}), options});
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->AsMap().at("stdout"), Value("from stdin\nfrom env\n/usr\n"));
}

TEST(Exec, AcceptsNullOptionsAndBytesStdin) {
  EXPECT_EQ(*Call("exec", {Argv({"true"}), Value()}), Outcome(0, "", ""));
  absl::StatusOr<Value> result = Call("exec", {Argv({"cat"}), ValueMap{{"stdin", Bytes{"raw"}}}});
  EXPECT_EQ(*result, Outcome(0, "raw", ""));
}

TEST(Exec, TimeoutFailsWithDeadlineExceeded) {
  absl::StatusOr<Value> result =
      Call("exec", {Argv({"sh", "-c", "echo started; exec sleep 30"}), ValueMap{{"timeout", 0.2}}});
  EXPECT_EQ(result.status().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(result.status().message(), "command timed out after 0.2 s");
  EXPECT_EQ(TaskFailureDetail(result.status()), Outcome(137, "started\n", ""));
}

TEST(Exec, OutputThatIsNotUtf8ComesBackAsBytes) {
  absl::StatusOr<Value> result = Call("exec", {Argv({"printf", "\\377ok"})});
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->AsMap().at("stdout"), Value(Bytes{"\xffok"}));
  EXPECT_EQ(*Call("exec", {Argv({"printf", "caf\xc3\xa9"})}), Outcome(0, "caf\xc3\xa9", ""));
}

TEST(Exec, RejectsMalformedArguments) {
  for (const std::vector<Value>& args :
       std::vector<std::vector<Value>>{{},
                                       {"echo hi"},
                                       {ValueList{}},
                                       {ValueList{"echo", 1}},
                                       {Argv({"true"}), "options"},
                                       {Argv({"true"}), ValueMap{{"bogus", 1}}},
                                       {Argv({"true"}), ValueMap{{"timeout", -1}}},
                                       {Argv({"true"}), ValueMap{{"env", ValueMap{{"A", 1}}}}},
                                       {Argv({"true"}), ValueMap{{"cwd", "/nonexistent/netpool"}}},
                                       {Argv({"true"}), Value(), 3}}) {
    EXPECT_EQ(Call("exec", args).status().code(), absl::StatusCode::kInvalidArgument)
        << Value(ValueList(args)).ToJson();
  }
}

}  // namespace
}  // namespace netpool
