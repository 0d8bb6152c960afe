#include "common/private_file.h"

#include <sys/stat.h>

#include "common/local_token.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/scratch_dir.h"
#include "tests/support/status_matchers.h"

namespace netpool {
namespace {

using ::netpool::testing::FileMode;
using ::netpool::testing::IsOk;
using ::netpool::testing::ScratchDir;
using ::netpool::testing::StatusIs;
using ::testing::HasSubstr;

TEST(ReadPrivateFile, ReadsAFileOnlyItsOwnerCanRead) {
  ScratchDir dir;
  dir.Write("token", "secret\n", 0600);
  EXPECT_EQ(*ReadPrivateFile(dir.File("token")), "secret\n");
  dir.Write("key", "k", 0400);
  EXPECT_THAT(ReadPrivateFile(dir.File("key")), IsOk());
}

TEST(ReadPrivateFile, RefusesAFileOthersCanRead) {
  ScratchDir dir;
  for (mode_t mode : {0644, 0640, 0604, 0660}) {
    dir.Write("token", "secret", mode);
    EXPECT_THAT(ReadPrivateFile(dir.File("token")),
                StatusIs(absl::StatusCode::kPermissionDenied,
                         AllOf(HasSubstr(dir.File("token")), HasSubstr("chmod 600"))))
        << std::oct << mode;
  }
}

TEST(ReadPrivateFile, TrustsSystemdsCredentialsDirectoryAlone) {
  ScratchDir credentials;
  ScratchDir elsewhere;
  // systemd may show the ACL mask in the group bits of its copies.
  const std::string token = credentials.Write("tokens", "secret", 0440);
  const std::string outside = elsewhere.Write("tokens", "secret", 0440);
  ::setenv("CREDENTIALS_DIRECTORY", credentials.path().c_str(), 1);
  EXPECT_THAT(ReadPrivateFile(token), IsOk());
  EXPECT_THAT(ReadPrivateFile(outside),
              StatusIs(absl::StatusCode::kPermissionDenied, HasSubstr("chmod 600")));
  ::unsetenv("CREDENTIALS_DIRECTORY");
  EXPECT_THAT(ReadPrivateFile(token),
              StatusIs(absl::StatusCode::kPermissionDenied, HasSubstr("chmod 600")));
}

TEST(ReadPrivateFile, AMissingFileIsNotFound) {
  ScratchDir dir;
  EXPECT_THAT(ReadPrivateFile(dir.File("none")),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr(dir.File("none"))));
}

TEST(WritePrivateFile, WritesMode0600InA0700Directory) {
  ScratchDir dir;
  const std::string path = dir.File("a/b/token");
  ASSERT_THAT(WritePrivateFile(path, "t1"), IsOk());
  EXPECT_EQ(FileMode(path), 0600u);
  EXPECT_EQ(FileMode(dir.File("a/b")), 0700u);
  ASSERT_THAT(WritePrivateFile(path, "t2"), IsOk());
  EXPECT_EQ(*ReadPrivateFile(path), "t2");
}

TEST(LocalToken, IsKeptPerPortUnderTheUsersConfigDirectory) {
  ScratchDir dir;
  ::setenv("XDG_CONFIG_HOME", dir.path().c_str(), 1);
  EXPECT_EQ(LocalTokenPath(7340), dir.File("netpool/tokens/loopback-7340"));
  EXPECT_FALSE(ReadLocalToken(7340).has_value());
  const std::string token = NewToken();
  EXPECT_EQ(token.size(), 64u);
  EXPECT_NE(token, NewToken());
  ASSERT_THAT(WriteLocalToken(7340, token), IsOk());
  EXPECT_EQ(FileMode(LocalTokenPath(7340)), 0600u);
  EXPECT_EQ(ReadLocalToken(7340), token);
  EXPECT_FALSE(ReadLocalToken(7341).has_value());
  // A copy others could read is no longer the user's alone: not used.
  ASSERT_EQ(::chmod(LocalTokenPath(7340).c_str(), 0644), 0);
  EXPECT_FALSE(ReadLocalToken(7340).has_value());
  ASSERT_EQ(::chmod(LocalTokenPath(7340).c_str(), 0600), 0);
  RemoveLocalToken(7340, "another scheduler's token");
  EXPECT_EQ(ReadLocalToken(7340), token);
  RemoveLocalToken(7340, token);
  EXPECT_FALSE(ReadLocalToken(7340).has_value());
  ::unsetenv("XDG_CONFIG_HOME");
}

}  // namespace
}  // namespace netpool
