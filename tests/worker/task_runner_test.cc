#include "worker/task_runner.h"

#include <stdexcept>

#include "common/packed_chunk.h"
#include "common/value_proto.h"
#include "gtest/gtest.h"
#include "netpool/v1/worker.pb.h"
#include "netpool/worker.h"
#include "tests/worker/value_printer.h"
#include "worker/builtins.h"
#include "worker/process_policy.h"

namespace netpool {
namespace {

v1::Assignment Assign(const std::string& function, const std::vector<Value>& args = {}) {
  v1::Assignment assignment;
  assignment.set_job_id("job-1");
  assignment.set_function(function);
  for (const Value& arg : args) ToProto(arg, assignment.add_args());
  return assignment;
}

void AddChunkEntry(v1::Assignment* assignment, const std::vector<Value>& args) {
  v1::ValueList* entry = assignment->add_chunk();
  for (const Value& arg : args) ToProto(arg, entry->add_items());
}

Value ResultValue(const v1::JobResult& result) { return *FromProto(result.value()); }

class TaskRunnerTest : public testing::Test {
 protected:
  static void SetUpTestSuite() {
    RegisterBuiltins();
    Register("test.negate",
             [](const std::vector<Value>& args, TaskContext&) -> absl::StatusOr<Value> {
               if (args.size() != 1 || !args[0].is_int())
                 return absl::InvalidArgumentError("not an int");
               return -args[0].AsInt();
             });
    Register("test.throw", [](const std::vector<Value>&, TaskContext&) -> absl::StatusOr<Value> {
      throw std::runtime_error("boom");
    });
    Register("test.context",
             [](const std::vector<Value>&, TaskContext& context) -> absl::StatusOr<Value> {
               return ValueList{context.job_id(), context.attempt(),
                                absl::ToDoubleSeconds(context.timeout())};
             });
  }
};

TEST_F(TaskRunnerTest, RunsTheFunctionAndReturnsItsValue) {
  v1::JobResult result = RunAssignment(Assign("test.negate", {5}));
  EXPECT_EQ(result.job_id(), "job-1");
  EXPECT_EQ(result.state(), v1::SUCCEEDED);
  EXPECT_EQ(ResultValue(result), Value(-5));
}

TEST_F(TaskRunnerTest, FunctionErrorFailsTheJobWithItsCodeAndMessage) {
  v1::JobResult result = RunAssignment(Assign("test.negate", {"x"}));
  EXPECT_EQ(result.state(), v1::FAILED);
  EXPECT_EQ(result.error().code(), static_cast<int>(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(result.error().message(), "not an int");
}

TEST_F(TaskRunnerTest, UnknownFunctionIsNotFound) {
  v1::JobResult result = RunAssignment(Assign("test.missing"));
  EXPECT_EQ(result.state(), v1::FAILED);
  EXPECT_EQ(result.error().code(), static_cast<int>(absl::StatusCode::kNotFound));
  EXPECT_EQ(result.error().message(), "unknown function \"test.missing\"");
}

TEST_F(TaskRunnerTest, ExceptionFailsTheJobInsteadOfTheProcess) {
  v1::JobResult result = RunAssignment(Assign("test.throw"));
  EXPECT_EQ(result.state(), v1::FAILED);
  EXPECT_EQ(result.error().code(), static_cast<int>(absl::StatusCode::kInternal));
  EXPECT_EQ(result.error().message(), "function threw an exception: boom");
}

TEST_F(TaskRunnerTest, MalformedArgumentsFailTheJob) {
  v1::Assignment assignment = Assign("echo");
  v1::Value* deep = assignment.add_args();  // nested deeper than kMaxValueDepth
  for (int i = 0; i <= kMaxValueDepth + 1; ++i) deep = deep->mutable_list_value()->add_items();
  v1::JobResult result = RunAssignment(assignment);
  EXPECT_EQ(result.state(), v1::FAILED);
  EXPECT_EQ(result.error().code(), static_cast<int>(absl::StatusCode::kInvalidArgument));
}

TEST_F(TaskRunnerTest, ContextCarriesJobIdAttemptAndTimeout) {
  v1::Assignment assignment = Assign("test.context");
  assignment.set_attempt(2);
  assignment.set_timeout_seconds(1.5);
  EXPECT_EQ(ResultValue(RunAssignment(assignment)), Value(ValueList{"job-1", 2, 1.5}));
}

TEST_F(TaskRunnerTest, ChunkRunsOncePerEntryAndReturnsTheList) {
  v1::Assignment assignment = Assign("test.negate");
  AddChunkEntry(&assignment, {1});
  AddChunkEntry(&assignment, {2});
  AddChunkEntry(&assignment, {3});
  v1::JobResult result = RunAssignment(assignment);
  EXPECT_EQ(result.state(), v1::SUCCEEDED);
  EXPECT_EQ(ResultValue(result), Value(ValueList{-1, -2, -3}));
}

TEST_F(TaskRunnerTest, ChunkFailsWithItsFirstFailingEntry) {
  v1::Assignment assignment = Assign("test.negate");
  AddChunkEntry(&assignment, {1});
  AddChunkEntry(&assignment, {"bad"});
  AddChunkEntry(&assignment, {});
  v1::JobResult result = RunAssignment(assignment);
  EXPECT_EQ(result.state(), v1::FAILED);
  EXPECT_EQ(result.error().message(), "not an int");
}

TEST_F(TaskRunnerTest, PackedChunkRunsOncePerEntryAndReturnsThePackedList) {
  v1::Assignment assignment = Assign("test.negate");
  assignment.set_packed_chunk(PackChunk({{1}, {2}, {3}}));
  v1::JobResult result = RunAssignment(assignment);
  EXPECT_EQ(result.state(), v1::SUCCEEDED);
  EXPECT_FALSE(result.has_value());
  absl::StatusOr<v1::Value> packed = UnpackValue(result.packed_value());
  ASSERT_TRUE(packed.ok()) << packed.status();
  EXPECT_EQ(*FromProto(*packed), Value(ValueList{-1, -2, -3}));
}

TEST_F(TaskRunnerTest, PackedChunkFailsWithItsFirstFailingEntryOrWhenItDoesNotParse) {
  v1::Assignment assignment = Assign("test.negate");
  assignment.set_packed_chunk(PackChunk({{1}, {"bad"}}));
  v1::JobResult result = RunAssignment(assignment);
  EXPECT_EQ(result.state(), v1::FAILED);
  EXPECT_EQ(result.error().message(), "not an int");
  EXPECT_TRUE(result.packed_value().empty());

  assignment.set_packed_chunk("\xff\xff\xff");
  result = RunAssignment(assignment);
  EXPECT_EQ(result.state(), v1::FAILED);
  EXPECT_EQ(result.error().code(), static_cast<int>(absl::StatusCode::kInvalidArgument));
}

TEST_F(TaskRunnerTest, FailureDetailTravelsInTheJobError) {
  ASSERT_TRUE(ApplyProcessPolicy({.allow_exec = true}).ok());
  v1::JobResult result =
      RunAssignment(Assign("exec", {Value(ValueList{"sh", "-c", "echo out; exit 4"})}));
  EXPECT_EQ(result.state(), v1::FAILED);
  EXPECT_EQ(result.error().message(), "command exited with code 4");
  EXPECT_EQ(*FromProto(result.error().detail()),
            Value(ValueMap{{"exit_code", 4}, {"stdout", "out\n"}, {"stderr", ""}}));
}

TEST_F(TaskRunnerTest, InitializerRunsTheFunctionWithItsArguments) {
  EXPECT_TRUE(RunInitializer({"test.negate", {5}}).ok());
  absl::Status error = RunInitializer({"test.negate", {"x"}});
  EXPECT_EQ(error.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(error.message(), "not an int");
}

TEST_F(TaskRunnerTest, InitializerThatThrowsOrIsUnknownFails) {
  EXPECT_EQ(RunInitializer({"test.throw", {}}).message(), "function threw an exception: boom");
  EXPECT_EQ(RunInitializer({"no.such", {}}).code(), absl::StatusCode::kNotFound);
}

TEST_F(TaskRunnerTest, CheckInitializerRefusesAnUnknownFunction) {
  EXPECT_TRUE(CheckInitializer({}).ok());
  EXPECT_TRUE(CheckInitializer({"test.negate", {1}}).ok());
  absl::Status unknown = CheckInitializer({"no.such", {}});
  EXPECT_EQ(unknown.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(unknown.message(), "unknown function \"no.such\"");
}

}  // namespace
}  // namespace netpool
