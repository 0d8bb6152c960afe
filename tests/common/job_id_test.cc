#include "common/job_id.h"

#include <sys/wait.h>
#include <unistd.h>

#include <string>
#include <thread>
#include <unordered_set>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "gtest/gtest.h"

namespace netpool {
namespace {

bool IsBase62(char c) {
  return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

TEST(JobId, NewIdsAreJDashAnd22Base62Chars) {
  for (int i = 0; i < 1000; ++i) {
    const std::string id = NewJobId();
    ASSERT_EQ(id.size(), 24u) << id;
    EXPECT_EQ(id.substr(0, 2), "j-");
    for (char c : id.substr(2)) EXPECT_TRUE(IsBase62(c)) << id;
    EXPECT_TRUE(IsValidJobId(id)) << id;
  }
}

TEST(JobId, HundredThousandIdsAreDistinct) {
  std::unordered_set<std::string> seen;
  for (int i = 0; i < 100000; ++i) ASSERT_TRUE(seen.insert(NewJobId()).second);
}

TEST(JobId, IdsFromManyThreadsAreDistinct) {
  absl::Mutex mu;
  std::unordered_set<std::string> seen;
  bool duplicate = false;
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      std::vector<std::string> mine;
      for (int i = 0; i < 5000; ++i) mine.push_back(NewJobId());
      absl::MutexLock lock(&mu);
      for (std::string& id : mine) duplicate |= !seen.insert(std::move(id)).second;
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_FALSE(duplicate);
  EXPECT_EQ(seen.size(), 40000u);
}

TEST(JobId, AForkedChildDoesNotRepeatItsParentsIds) {
  NewJobId();  // this thread's generator is seeded before the fork
  int pipe_fds[2];
  ASSERT_EQ(pipe(pipe_fds), 0);
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    const std::string id = NewJobId();
    _exit(write(pipe_fds[1], id.data(), id.size()) == static_cast<ssize_t>(id.size()) ? 0 : 1);
  }
  close(pipe_fds[1]);
  const std::string parent_id = NewJobId();
  char buffer[64] = {};
  const ssize_t n = read(pipe_fds[0], buffer, sizeof(buffer));
  close(pipe_fds[0]);
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_GT(n, 0);
  EXPECT_NE(std::string(buffer, static_cast<size_t>(n)), parent_id);
}

TEST(JobId, EveryBase62CharacterShowsUp) {
  std::unordered_set<char> chars;
  for (int i = 0; i < 200; ++i) {
    for (char c : NewJobId().substr(2)) chars.insert(c);
  }
  EXPECT_EQ(chars.size(), 62u);
}

TEST(JobId, ValidIdsUseLettersDigitsAndUnderscoreDotDash) {
  EXPECT_TRUE(IsValidJobId("a"));
  EXPECT_TRUE(IsValidJobId("sub-01_run.2"));
  EXPECT_TRUE(IsValidJobId("..."));
  EXPECT_TRUE(IsValidJobId(std::string(kMaxJobIdLength, 'x')));
}

TEST(JobId, InvalidIds) {
  EXPECT_FALSE(IsValidJobId(""));
  EXPECT_FALSE(IsValidJobId(std::string(kMaxJobIdLength + 1, 'x')));
  EXPECT_FALSE(IsValidJobId("has space"));
  EXPECT_FALSE(IsValidJobId("slash/no"));
  EXPECT_FALSE(IsValidJobId("colon:no"));
  EXPECT_FALSE(IsValidJobId("naïve"));
  EXPECT_FALSE(IsValidJobId(std::string("nul\0", 4)));
  EXPECT_FALSE(IsValidJobId("new\nline"));
}

TEST(JobId, IdempotencyKeyNamesOneStableValidId) {
  const std::string id = JobIdForIdempotencyKey("nightly-2026-11-26");
  EXPECT_EQ(id, JobIdForIdempotencyKey("nightly-2026-11-26"));
  EXPECT_NE(id, JobIdForIdempotencyKey("nightly-2026-11-27"));
  EXPECT_TRUE(IsValidJobId(id)) << id;
  EXPECT_EQ(id.size(), 34u);
  EXPECT_TRUE(IsValidJobId(JobIdForIdempotencyKey(std::string(10000, '\xff'))));
  // Pinned: ids must not change between releases, or a resubmitted key would
  // make a second job.
  EXPECT_EQ(JobIdForIdempotencyKey(""), "k-cbf29ce48422232584222325cbf29ce4");
  EXPECT_EQ(JobIdForIdempotencyKey("nightly"), "k-7e308d7680db5f8a5891d3c4d1d4bf91");
}

}  // namespace
}  // namespace netpool
