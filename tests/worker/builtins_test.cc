#include "worker/builtins.h"

#include <sys/stat.h>
#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "tests/support/scratch_dir.h"
#include "netpool/worker.h"
#include "tests/worker/value_printer.h"
#include "worker/function_registry.h"
#include "worker/process_policy.h"
#include "worker/task_failure.h"

namespace netpool {
namespace {

using ::netpool::testing::FileExists;
using ::netpool::testing::FreshTempPath;

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

// The exec tests run the built-in in this process, under a policy that
// allows exec, as a worker process of a node with --allow-exec would.
class Exec : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(ApplyProcessPolicy({.allow_exec = true}).ok()); }
};

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

TEST_F(Exec, ReturnsExitCodeAndOutput) {
  EXPECT_EQ(*Call("exec", {Argv({"sh", "-c", "echo hi; echo there >&2"})}),
            Outcome(0, "hi\n", "there\n"));
}

TEST_F(Exec, NonZeroExitFailsWithTheOutcomeAsDetail) {
  absl::StatusOr<Value> result = Call("exec", {Argv({"sh", "-c", "echo partial; exit 3"})});
  EXPECT_EQ(result.status().code(), absl::StatusCode::kUnknown);
  EXPECT_EQ(result.status().message(), "command exited with code 3");
  EXPECT_EQ(TaskFailureDetail(result.status()), Outcome(3, "partial\n", ""));
}

TEST_F(Exec, DeathBySignalFailsWithTheSignalName) {
  absl::StatusOr<Value> result = Call("exec", {Argv({"sh", "-c", "kill -9 $$"})});
  EXPECT_EQ(result.status().code(), absl::StatusCode::kUnknown);
  EXPECT_EQ(result.status().message(), "command killed by signal 9 (SIGKILL)");
  EXPECT_EQ(TaskFailureDetail(result.status()), Outcome(137, "", ""));
}

TEST_F(Exec, CommandNotFoundFailsWithExitCode127) {
  absl::StatusOr<Value> result = Call("exec", {Argv({"netpool-no-such-command"})});
  EXPECT_EQ(result.status().message(), "command exited with code 127");
  EXPECT_EQ(
      TaskFailureDetail(result.status()),
      Outcome(127, "", "netpool: exec: netpool-no-such-command: No such file or directory\n"));
}

TEST_F(Exec, AppliesStdinEnvAndCwdOptions) {
  Value options = ValueMap{{"stdin", "from stdin"},
                           {"env", ValueMap{{"NETPOOL_TEST_VAR", "from env"}}},
                           {"cwd", "/usr"}};
  absl::StatusOr<Value> result =
      Call("exec", {Argv({"sh", "-c", "cat; echo; echo \"$NETPOOL_TEST_VAR\"; pwd"}), options});
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->AsMap().at("stdout"), Value("from stdin\nfrom env\n/usr\n"));
}

TEST_F(Exec, AcceptsNullOptionsAndBytesStdin) {
  EXPECT_EQ(*Call("exec", {Argv({"true"}), Value()}), Outcome(0, "", ""));
  absl::StatusOr<Value> result = Call("exec", {Argv({"cat"}), ValueMap{{"stdin", Bytes{"raw"}}}});
  EXPECT_EQ(*result, Outcome(0, "raw", ""));
}

TEST_F(Exec, TimeoutFailsWithDeadlineExceeded) {
  absl::StatusOr<Value> result =
      Call("exec", {Argv({"sh", "-c", "echo started; exec sleep 30"}), ValueMap{{"timeout", 0.2}}});
  EXPECT_EQ(result.status().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(result.status().message(), "command timed out after 0.2 s");
  EXPECT_EQ(TaskFailureDetail(result.status()), Outcome(137, "started\n", ""));
}

TEST_F(Exec, OutputThatIsNotUtf8ComesBackAsBytes) {
  absl::StatusOr<Value> result = Call("exec", {Argv({"printf", "\\377ok"})});
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->AsMap().at("stdout"), Value(Bytes{"\xffok"}));
  EXPECT_EQ(*Call("exec", {Argv({"printf", "caf\xc3\xa9"})}), Outcome(0, "caf\xc3\xa9", ""));
}

TEST_F(Exec, RejectsMalformedArguments) {
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

TEST(ExecPolicy, WithoutAllowExecNoCommandRuns) {
  ASSERT_TRUE(ApplyProcessPolicy({}).ok());
  const std::string marker = FreshTempPath("not-allowed");
  absl::StatusOr<Value> result = Call("exec", {Argv({"touch", marker})});
  EXPECT_EQ(result.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(result.status().message(),
            "exec is not allowed on this node (start netpool-worker with --allow-exec)");
  EXPECT_FALSE(FileExists(marker));
  // Refused before the arguments are even looked at.
  EXPECT_EQ(Call("exec", {}).status().code(), absl::StatusCode::kPermissionDenied);
}

TEST(ExecPolicy, ExecAllowRunsOnlyMatchingCommands) {
  ASSERT_TRUE(ApplyProcessPolicy({.allow_exec = true, .exec_allow = {"/bin/*", "sh"}}).ok());
  EXPECT_EQ(*Call("exec", {Argv({"sh", "-c", "echo ok"})}), Outcome(0, "ok\n", ""));
  EXPECT_EQ(*Call("exec", {Argv({"/bin/echo", "ok"})}), Outcome(0, "ok\n", ""));

  const std::string marker = FreshTempPath("not-matching");
  absl::StatusOr<Value> refused = Call("exec", {Argv({"touch", marker})});
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(refused.status().message(),
            "exec: \"touch\" is not allowed on this node (--exec-allow /bin/* --exec-allow sh)");
  EXPECT_FALSE(FileExists(marker));
  // Neither another path to an allowed name nor a way out of an allowed directory.
  for (const char* program : {"/usr/bin/sh", "./sh", "/bin/../bin/touch", "/bin/x/touch"}) {
    EXPECT_EQ(Call("exec", {Argv({program, marker})}).status().code(),
              absl::StatusCode::kPermissionDenied)
        << program;
  }
  EXPECT_FALSE(FileExists(marker));
}

}  // namespace
}  // namespace netpool
