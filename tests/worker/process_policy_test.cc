// ProcessPolicy's pure parts: which commands --exec-allow lets through, the
// checks a node makes before it starts, the policy's command-line form and
// --max-memory's sizes. That worker processes apply it is tested with real
// processes in process_pool_test.cc, worker_binary_test.cc and
// worker_policy_test.cc.
#include "worker/process_policy.h"

#include <sys/resource.h>
#include <unistd.h>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/status_matchers.h"

namespace netpool {
namespace {

using ::netpool::testing::IsOk;
using ::netpool::testing::StatusIs;
using ::testing::_;
using ::testing::StartsWith;

constexpr absl::StatusCode kDenied = absl::StatusCode::kPermissionDenied;
constexpr absl::StatusCode kInvalid = absl::StatusCode::kInvalidArgument;

TEST(CheckCommandAllowed, WithoutAllowExecNothingRuns) {
  for (const ProcessPolicy& policy :
       {ProcessPolicy{}, ProcessPolicy{.exec_allow = {"*", "/*", "sh"}}}) {
    EXPECT_THAT(
        CheckCommandAllowed(policy, "sh"),
        StatusIs(kDenied,
                 "exec is not allowed on this node (start netpool-worker with --allow-exec)"));
    EXPECT_THAT(CheckExecAllowed(policy), StatusIs(kDenied, _));
  }
}

TEST(CheckCommandAllowed, AllowExecWithoutPatternsRunsAnything) {
  const ProcessPolicy policy = {.allow_exec = true};
  EXPECT_THAT(CheckExecAllowed(policy), IsOk());
  for (const char* program : {"sh", "/usr/bin/rm", "../x", "./run.sh"}) {
    EXPECT_THAT(CheckCommandAllowed(policy, program), IsOk()) << program;
  }
}

TEST(CheckCommandAllowed, PatternsMatchArgv0AsGiven) {
  const ProcessPolicy policy = {.allow_exec = true, .exec_allow = {"/usr/bin/*", "sh"}};
  for (const char* program : {"/usr/bin/gzip", "/usr/bin/sh", "sh"}) {
    EXPECT_THAT(CheckCommandAllowed(policy, program), IsOk()) << program;
  }
  // No PATH lookup, no normalisation: only the text is matched.
  for (const char* program : {"rm", "gzip", "/bin/sh", "./sh", "/usr/bin", "/usr/bin/x/y"}) {
    EXPECT_THAT(CheckCommandAllowed(policy, program), StatusIs(kDenied, _)) << program;
  }
  EXPECT_THAT(CheckCommandAllowed(policy, "rm"),
              StatusIs(kDenied,
                       "exec: \"rm\" is not allowed on this node (--exec-allow /usr/bin/* "
                       "--exec-allow sh)"));
}

TEST(CheckCommandAllowed, StarDoesNotCrossSlashesNorDotDotLeaveADirectory) {
  const ProcessPolicy policy = {.allow_exec = true, .exec_allow = {"/opt/tools/*", "/srv/*/bin/*"}};
  EXPECT_THAT(CheckCommandAllowed(policy, "/opt/tools/convert"), IsOk());
  EXPECT_THAT(CheckCommandAllowed(policy, "/srv/a/bin/run"), IsOk());
  for (const char* program : {"/opt/tools/sub/convert", "/opt/tools/../../bin/rm", "/srv/../bin/rm",
                              "/srv/a/bin/..", "/opt/tools/x/../../../bin/rm"}) {
    EXPECT_THAT(CheckCommandAllowed(policy, program), StatusIs(kDenied, _)) << program;
  }
}

TEST(CheckProcessPolicy, TheDefaultAndLimitsWithinReachPass) {
  EXPECT_THAT(CheckProcessPolicy({}), IsOk());
  EXPECT_THAT(CheckProcessPolicy({.allow_exec = true, .exec_allow = {"sh"}, .max_open_files = 64}),
              IsOk());
}

TEST(CheckProcessPolicy, RefusesAnEmptyPatternAndATinyMemoryLimit) {
  EXPECT_THAT(CheckProcessPolicy({.allow_exec = true, .exec_allow = {"sh", ""}}),
              StatusIs(kInvalid, "--exec-allow: empty pattern"));
  EXPECT_THAT(CheckProcessPolicy({.max_memory_bytes = 512}),
              StatusIs(kInvalid, StartsWith("--max-memory: at least 64M")));
}

TEST(CheckProcessPolicy, OutputLimitMustLetBothStreamsFitInOneResult) {
  EXPECT_EQ(ProcessPolicy{}.max_output_bytes, kDefaultMaxOutputBytes);
  EXPECT_THAT(CheckProcessPolicy({.max_output_bytes = kMaxMaxOutputBytes}), IsOk());
  for (uint64_t bytes : {uint64_t{0}, kMaxMaxOutputBytes + 1}) {
    EXPECT_THAT(CheckProcessPolicy({.max_output_bytes = bytes}),
                StatusIs(kInvalid, StartsWith("--max-output: 1 to 30M"))) << bytes;
  }
}

TEST(CheckProcessPolicy, RunAsNeedsRootAndAKnownUser) {
  const absl::Status unknown = CheckProcessPolicy({.run_as = "no-such-user.netpool"});
  const absl::Status known = CheckProcessPolicy({.run_as = "nobody"});
  if (::geteuid() == 0) {
    EXPECT_THAT(unknown, StatusIs(kInvalid, "--run-as: no user \"no-such-user.netpool\""));
    EXPECT_THAT(known, IsOk());
  } else {
    for (const absl::Status& status : {unknown, known}) {
      EXPECT_THAT(status, StatusIs(kInvalid,
                                   "--run-as: only a node running as root can run its worker "
                                   "processes as another user"));
    }
  }
}

TEST(CheckProcessPolicy, OnlyRootMayGoAboveTheHardOpenFileLimit) {
  rlimit files;
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &files), 0);
  if (files.rlim_max == RLIM_INFINITY) GTEST_SKIP() << "no hard limit on open files";
  const absl::Status above = CheckProcessPolicy({.max_open_files = files.rlim_max + 1});
  if (::geteuid() == 0) {
    EXPECT_THAT(above, IsOk());
  } else {
    EXPECT_THAT(above, StatusIs(kInvalid, StartsWith("--max-open-files: ")));
  }
}

TEST(ProcessPolicyArg, RoundTrips) {
  const ProcessPolicy policy = {.allow_exec = true,
                                .exec_allow = {"/usr/bin/*", "sh", "a \"quoted\" name"},
                                .max_memory_bytes = uint64_t{3} << 40,
                                .max_open_files = 64,
                                .run_as = "nobody",
                                .max_output_bytes = 1000};
  absl::StatusOr<ProcessPolicy> back = ProcessPolicyFromArg(ProcessPolicyToArg(policy));
  ASSERT_THAT(back, IsOk());
  EXPECT_EQ(back->allow_exec, policy.allow_exec);
  EXPECT_EQ(back->exec_allow, policy.exec_allow);
  EXPECT_EQ(back->max_memory_bytes, policy.max_memory_bytes);
  EXPECT_EQ(back->max_open_files, policy.max_open_files);
  EXPECT_EQ(back->run_as, policy.run_as);
  EXPECT_EQ(back->max_output_bytes, policy.max_output_bytes);

  absl::StatusOr<ProcessPolicy> none = ProcessPolicyFromArg(ProcessPolicyToArg({}));
  ASSERT_THAT(none, IsOk());
  EXPECT_FALSE(none->allow_exec);
}

TEST(ProcessPolicyArg, RefusesAnythingElse) {
  const std::string good = ProcessPolicyToArg({});
  for (const std::string& arg :
       {std::string(""), std::string("{}"), std::string("[]"), std::string("not json"),
        good.substr(0, good.size() - 1),
        std::string(R"({"allow_exec":"yes","exec_allow":[],"max_memory_bytes":0,)"
                    R"("max_open_files":0,"run_as":""})"),
        std::string(R"({"allow_exec":true,"exec_allow":[1],"max_memory_bytes":0,)"
                    R"("max_open_files":0,"run_as":""})"),
        std::string(R"({"allow_exec":true,"exec_allow":[],"max_memory_bytes":-1,)"
                    R"("max_open_files":0,"run_as":""})"),
        std::string(R"({"allow_exec":true,"exec_allow":[],"max_memory_bytes":0,)"
                    R"("max_open_files":0,"run_as":"","extra":1})")}) {
    EXPECT_THAT(ProcessPolicyFromArg(arg), StatusIs(kInvalid, StartsWith("not a process policy")))
        << arg;
  }
}

TEST(ParseByteSize, TakesBytesOrKMGTSuffixesInPowersOf1024) {
  EXPECT_EQ(*ParseByteSize("1048576"), 1048576u);
  EXPECT_EQ(*ParseByteSize("512M"), uint64_t{512} << 20);
  EXPECT_EQ(*ParseByteSize("512m"), uint64_t{512} << 20);
  EXPECT_EQ(*ParseByteSize("64K"), uint64_t{64} << 10);
  EXPECT_EQ(*ParseByteSize("2G"), uint64_t{2} << 30);
  EXPECT_EQ(*ParseByteSize("1T"), uint64_t{1} << 40);
}

TEST(ParseByteSize, RefusesAnythingElse) {
  for (const char* text : {"", "M", "0", "0M", "-1M", "1.5G", "12X", "1 G", "1MB", " 1M",
                           "99999999999999999999", "9000000T"}) {
    EXPECT_THAT(ParseByteSize(text), StatusIs(kInvalid, _)) << text;
  }
  EXPECT_THAT(ParseByteSize("12X"),
              StatusIs(kInvalid,
                       "expected a number of bytes above 0 with an optional K, M, G or T suffix "
                       "(e.g. 512M), got \"12X\""));
}

}  // namespace
}  // namespace netpool
