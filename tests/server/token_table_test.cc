#include "server/auth/token_table.h"

#include <string>

#include "absl/strings/escaping.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/auth/authenticator.h"
#include "tests/support/status_matchers.h"

namespace netpool {
namespace {

using ::netpool::testing::IsOk;
using ::netpool::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kAliceToken[] = "alice-secret-0123456789";
constexpr char kRackToken[] = "rack-secret-0123456789ab";

std::string Sha256Hex(const std::string& token) {
  TokenTable::Digest digest = TokenTable::Sha256(token);
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(digest.data()), digest.size()));
}

TEST(TokenTable, FindsEachTokenAsItsLinesIdentity) {
  absl::StatusOr<TokenTable> table =
      TokenTable::Parse(std::string("# role name secret\n\nclient alice ") + kAliceToken + "\n" +
                        "  worker\track1   sha256:" + Sha256Hex(kRackToken) + "  \n");
  ASSERT_THAT(table, IsOk());
  EXPECT_EQ(table->size(), 2u);
  std::optional<Identity> alice = table->Find(kAliceToken);
  ASSERT_TRUE(alice.has_value());
  EXPECT_EQ(alice->name, "alice");
  EXPECT_EQ(alice->role, Role::kClient);
  std::optional<Identity> rack = table->Find(kRackToken);
  ASSERT_TRUE(rack.has_value());
  EXPECT_EQ(rack->name, "rack1");
  EXPECT_EQ(rack->role, Role::kWorker);
}

TEST(TokenTable, RefusesTokensItDoesNotHold) {
  absl::StatusOr<TokenTable> table =
      TokenTable::Parse(std::string("admin ops ") + kAliceToken + "\n");
  ASSERT_THAT(table, IsOk());
  EXPECT_FALSE(table->Find("").has_value());
  EXPECT_FALSE(table->Find(std::string(kAliceToken) + "x").has_value());
  EXPECT_FALSE(table->Find(std::string(kAliceToken).substr(1)).has_value());
  // The hash is what is held: its hex is no token.
  EXPECT_FALSE(table->Find(Sha256Hex(kAliceToken)).has_value());
}

TEST(TokenTable, BadLinesAreRefusedByNumberWithoutTheSecret) {
  const std::string secret = "do-not-print-this-secret";
  EXPECT_THAT(TokenTable::Parse("client alice\n"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("line 1")));
  EXPECT_THAT(TokenTable::Parse("\nroot alice " + secret),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("line 2"), HasSubstr("role"), Not(HasSubstr(secret)))));
  EXPECT_THAT(TokenTable::Parse("client al/ice " + secret),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("name")));
  EXPECT_THAT(TokenTable::Parse("client alice short"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("at least 16")));
  EXPECT_THAT(TokenTable::Parse("client alice sha256:ABC"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("64 lowercase hex")));
  EXPECT_THAT(TokenTable::Parse("client alice " + secret + "\nadmin bob " + secret),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("line 2"), HasSubstr("twice"), Not(HasSubstr(secret)))));
}

TEST(BearerToken, TakesWhatFollowsTheScheme) {
  EXPECT_THAT(BearerToken("Bearer abc"), IsOk());
  EXPECT_EQ(*BearerToken("Bearer abc"), "abc");
  EXPECT_THAT(BearerToken("bearer abc"),
              StatusIs(absl::StatusCode::kUnauthenticated, HasSubstr("Bearer")));
  EXPECT_THAT(BearerToken("Basic abc"),
              StatusIs(absl::StatusCode::kUnauthenticated, HasSubstr("Bearer")));
  EXPECT_THAT(BearerToken("Bearer "),
              StatusIs(absl::StatusCode::kUnauthenticated, HasSubstr("Bearer")));
}

TEST(BindNodeName, AWorkerCredentialOwnsItsNameAndWhatIsUnderIt) {
  const Identity rack{Role::kWorker, "rack1"};
  EXPECT_EQ(*BindNodeName(rack, "rack1", /*chosen=*/true), "rack1");
  EXPECT_EQ(*BindNodeName(rack, "rack1/gpu0", /*chosen=*/true), "rack1/gpu0");
  EXPECT_EQ(*BindNodeName(rack, "host-42", /*chosen=*/false), "rack1/host-42");
}

TEST(BindNodeName, AWorkerCredentialCannotClaimAnotherNodesName) {
  const Identity rogue{Role::kWorker, "rogue"};
  EXPECT_THAT(BindNodeName(rogue, "rack1", /*chosen=*/true),
              StatusIs(absl::StatusCode::kPermissionDenied,
                       AllOf(HasSubstr("\"rack1\""), HasSubstr("\"rogue\""))));
  EXPECT_THAT(BindNodeName(rogue, "rogue2", /*chosen=*/true),
              StatusIs(absl::StatusCode::kPermissionDenied, HasSubstr("rogue2")));
  EXPECT_THAT(BindNodeName(rogue, "rogue/", /*chosen=*/true),
              StatusIs(absl::StatusCode::kPermissionDenied, HasSubstr("rogue/")));
}

TEST(BindNodeName, AnAdminNamesItsNodesFreely) {
  EXPECT_EQ(*BindNodeName({Role::kAdmin, "owner"}, "node0", /*chosen=*/true), "node0");
  EXPECT_EQ(*BindNodeName({Role::kAdmin, "owner"}, "host-1", /*chosen=*/false), "host-1");
}

TEST(Identity, OwnsItsOwnJobsAndAnAdminOwnsAll) {
  EXPECT_TRUE((Identity{Role::kClient, "alice"}).Owns("alice"));
  EXPECT_FALSE((Identity{Role::kClient, "alice"}).Owns("bob"));
  EXPECT_FALSE((Identity{Role::kClient, "alice"}).Owns(""));
  EXPECT_TRUE((Identity{Role::kAdmin, "ops"}).Owns("bob"));
}

}  // namespace
}  // namespace netpool
