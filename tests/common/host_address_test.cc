#include "common/host_address.h"

#include "gtest/gtest.h"

namespace netpool {
namespace {

TEST(IsLoopbackHost, LoopbackAddressesAndLocalhost) {
  EXPECT_TRUE(IsLoopbackHost("127.0.0.1"));
  EXPECT_TRUE(IsLoopbackHost("127.1.2.3"));
  EXPECT_TRUE(IsLoopbackHost("::1"));
  EXPECT_TRUE(IsLoopbackHost("[::1]"));
  EXPECT_TRUE(IsLoopbackHost("localhost"));
}

TEST(IsLoopbackHost, ANameThatMerelyLooksLoopbackIsNot) {
  // Today's attack on a prefix test: a name that starts like 127.x.
  EXPECT_FALSE(IsLoopbackHost("127.example.com"));
  EXPECT_FALSE(IsLoopbackHost("127.0.0.1.nip.io.invalid"));
  EXPECT_FALSE(IsLoopbackHost("localhost.example.invalid"));
}

TEST(IsLoopbackHost, OtherAddressesAreNot) {
  EXPECT_FALSE(IsLoopbackHost("0.0.0.0"));
  EXPECT_FALSE(IsLoopbackHost("10.200.0.1"));
  EXPECT_FALSE(IsLoopbackHost("[::]"));
  EXPECT_FALSE(IsLoopbackHost("::ffff:10.0.0.1"));
  EXPECT_FALSE(IsLoopbackHost(""));
  EXPECT_FALSE(IsLoopbackHost("[::1"));
}

TEST(IsLoopbackAddress, ChecksTheHostOfHostPort) {
  EXPECT_TRUE(IsLoopbackAddress("127.0.0.1:7340"));
  EXPECT_TRUE(IsLoopbackAddress("[::1]:0"));
  EXPECT_FALSE(IsLoopbackAddress("0.0.0.0:7340"));
  EXPECT_FALSE(IsLoopbackAddress("127.0.0.1"));
  EXPECT_FALSE(IsLoopbackAddress("127.0.0.1:99999"));
}

}  // namespace
}  // namespace netpool
