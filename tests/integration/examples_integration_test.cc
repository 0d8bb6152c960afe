// The seed examples run end to end against a real scheduler and the
// imaging worker they are written for.
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/test_cluster.h"

namespace netpool {
namespace {

using ::netpool::testing::Subprocess;
using ::netpool::testing::TestCluster;
using ::testing::ContainsRegex;
using ::testing::HasSubstr;

struct ExampleRun {
  int exit_code = -1;
  std::vector<std::string> lines;
  std::string err;
};

class ExamplesTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    // Short tasks; the worker and the examples both read it (they inherit it).
    setenv("IMAGING_TASK_SECONDS", "0.01", 1);
    auto cluster = TestCluster::Start(
        {.workers = 1, .processes = 2, .worker_binary = NETPOOL_TEST_IMAGING_WORKER});
    ASSERT_TRUE(cluster.ok()) << cluster.status();
    cluster_ = cluster->release();
  }
  static void TearDownTestSuite() {
    delete cluster_;
    cluster_ = nullptr;
  }

  ExampleRun Run(const std::string& program) {
    ExampleRun run;
    absl::StatusOr<Subprocess> example =
        Subprocess::Start({std::string(NETPOOL_TEST_EXAMPLES_DIR) + "/" + program,
                           cluster_->address()},
                          {.pipe_stdout = true, .pipe_stderr = true});
    if (!example.ok()) {
      run.err = example.status().ToString();
      return run;
    }
    std::string out;
    absl::StatusOr<int> code = example->Communicate(absl::Seconds(60), &out, &run.err);
    run.exit_code = code.ok() ? *code : -1;
    run.lines = absl::StrSplit(out, '\n', absl::SkipEmpty());
    return run;
  }

  static TestCluster* cluster_;
};

TestCluster* ExamplesTest::cluster_ = nullptr;

TEST_F(ExamplesTest, CrunchImageMapsTwentyFilesInOrder) {
  ExampleRun run = Run("crunch_image");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  ASSERT_EQ(run.lines.size(), 21u);
  EXPECT_EQ(run.lines[0], "sub-01_T1w_t1_crunched.nii.gz");
  EXPECT_EQ(run.lines[19], "sub-20_T1w_t1_crunched.nii.gz");
  EXPECT_THAT(run.lines[20], ContainsRegex("^makespan [0-9.]+ s \\(ideal 0.10 s: .* on 2 slots\\)$"));
}

TEST_F(ExamplesTest, CrunchImageModalityStarmapsFileAndModality) {
  ExampleRun run = Run("crunch_image_modality");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  ASSERT_EQ(run.lines.size(), 21u);
  EXPECT_EQ(run.lines[0], "sub-01_T1w_t1_crunched.nii.gz");
  EXPECT_EQ(run.lines[1], "sub-01_T2w_t2_crunched.nii.gz");
  EXPECT_THAT(run.lines[20], HasSubstr("makespan"));
}

TEST_F(ExamplesTest, RegistrationFeedsEachLinearResultToTheNonlinearStage) {
  ExampleRun run = Run("registration");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  ASSERT_EQ(run.lines.size(), 21u);
  EXPECT_EQ(run.lines[0], "sub-01_T1w_lin_nonlin.nii.gz");
  EXPECT_EQ(run.lines[19], "sub-20_T1w_lin_nonlin.nii.gz");
  EXPECT_THAT(run.lines[20], HasSubstr("2 stage(s)"));
}

}  // namespace
}  // namespace netpool
