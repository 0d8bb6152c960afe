// netpool_bench --quick runs every workload against real processes and
// prints a row for each; --json prints the same rows as JSON.
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/test_cluster.h"

namespace netpool {
namespace {

using ::testing::HasSubstr;

constexpr const char* kKeys[] = {
    "A10k",        "A100k",         "A10k_tls",   "A_cpu_client",     "A_cpu_netpoold",
    "A_cpu_node",  "A_cpu_processes", "B_default", "B_cpu_client",    "B_cpu_netpoold",
    "B_cpu_node",  "B_cpu_processes", "B_cores_busy", "B_chunk1",     "B_chunk1_rtt20ms",
    "B_1ms_rtt20ms", "C_p50",       "C_p99",      "C_rpc_p50",        "D_makespan",
    "D_startup",   "E_100k",        "E_1M",       "F_memory",         "F_sqlite",
    "F_fsync",     "G_0",           "G_100k",     "G_1M",             "H_1",
    "H_1_cpu",     "H_1_threads",   "H_100",      "H_100_cpu",        "H_100_threads",
    "H_1000",      "H_1000_cpu",    "H_1000_threads", "L_A10k",       "L_B_default",
    "L_B_chunk1",  "L_C_p50",       "L_C_p99"};

TEST(NetpoolBenchTest, QuickRunPrintsEveryWorkload) {
  testing::CliResult run =
      testing::RunProgram({NETPOOL_BENCH_PROGRAM, "--quick"}, "", absl::Seconds(240));
  ASSERT_EQ(run.exit_code, 0) << run.err;
  for (const char* key : kKeys) EXPECT_THAT(run.out, HasSubstr(std::string("\n") + key + " "));
  EXPECT_THAT(run.out, HasSubstr("cost per job with 1M queued: "));
  EXPECT_THAT(run.out, HasSubstr("H_1000 items/s: "));
}

TEST(NetpoolBenchTest, JsonHasTheChosenWorkloadsOnly) {
  testing::CliResult run = testing::RunProgram(
      {NETPOOL_BENCH_PROGRAM, "--quick", "--json", "--only", "C"}, "", absl::Seconds(120));
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_THAT(run.out, HasSubstr("\"key\": \"C_p50\""));
  EXPECT_THAT(run.out, HasSubstr("\"better\": \"lower\""));
  EXPECT_THAT(run.out, ::testing::Not(HasSubstr("A10k")));
}

TEST(NetpoolBenchTest, UnknownWorkloadIsAUsageError) {
  testing::CliResult run = testing::RunProgram({NETPOOL_BENCH_PROGRAM, "--only", "Z"});
  EXPECT_EQ(run.exit_code, 64);
  EXPECT_THAT(run.err, HasSubstr("unknown workload \"Z\""));
}

}  // namespace
}  // namespace netpool
