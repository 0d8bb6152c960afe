#include "common/transport.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/local_token.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/scratch_dir.h"
#include "tests/support/status_matchers.h"

namespace netpool {
namespace {

using ::netpool::testing::IsOk;
using ::netpool::testing::ScratchDir;
using ::netpool::testing::StatusIs;
using ::testing::HasSubstr;

// A socket of this process listening on 127.0.0.1: a stand-in scheduler.
class Listener {
 public:
  Listener() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address = {};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof(address);
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&address), length), 0);
    EXPECT_EQ(::listen(fd_, 1), 0);
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length);
    port_ = ntohs(address.sin_port);
  }
  ~Listener() { ::close(fd_); }
  int port() const { return port_; }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }

 private:
  int fd_ = -1;
  int port_ = 0;
};

// A fresh config directory with no token in it, and none in the environment.
class TransportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ::setenv("XDG_CONFIG_HOME", dir_.path().c_str(), 1);
    ::unsetenv("NETPOOL_TOKEN");
    ::unsetenv("NETPOOL_TOKEN_FILE");
    ::unsetenv("NETPOOL_TLS_CA");
  }
  void TearDown() override { ::unsetenv("XDG_CONFIG_HOME"); }

  ScratchDir dir_;
};

TEST_F(TransportTest, TheLocalTokenGoesToALoopbackSchedulerOnItsPort) {
  Listener scheduler;
  ASSERT_THAT(WriteLocalToken(scheduler.port(), NewToken()), IsOk());
  absl::StatusOr<ClientTransport> local = ClientTransport::Create(scheduler.address(), {});
  ASSERT_THAT(local, IsOk());
  EXPECT_TRUE(local->has_token());
  EXPECT_FALSE(local->tls());
  EXPECT_TRUE(
      ClientTransport::Create("localhost:" + std::to_string(scheduler.port()), {})->has_token());
  Listener other;
  EXPECT_FALSE(ClientTransport::Create(other.address(), {})->has_token());
}

TEST_F(TransportTest, TheLocalTokenNeverLeavesTheMachine) {
  Listener scheduler;
  ASSERT_THAT(WriteLocalToken(scheduler.port(), NewToken()), IsOk());
  const std::string port = std::to_string(scheduler.port());
  EXPECT_FALSE(ClientTransport::Create("10.200.0.1:" + port, {})->has_token());
  EXPECT_FALSE(ClientTransport::Create("127.example.com:" + port, {})->has_token());
}

TEST_F(TransportTest, TheLocalTokenGoesToNoPortWithoutOurListener) {
  int port = 0;
  {
    Listener gone;
    port = gone.port();
  }
  ASSERT_THAT(WriteLocalToken(port, NewToken()), IsOk());
  EXPECT_FALSE(ClientTransport::Create("127.0.0.1:" + std::to_string(port), {})->has_token());
}

TEST_F(TransportTest, ATokenFileMustBePrivate) {
  const std::string open_file = dir_.Write("open", "a-token-0123456789\n", 0644);
  EXPECT_THAT(ClientTransport::Create("10.0.0.1:7340", {.token_file = open_file}),
              StatusIs(absl::StatusCode::kPermissionDenied, HasSubstr("chmod 600")));
  const std::string private_file = dir_.Write("private", "a-token-0123456789\n", 0600);
  absl::StatusOr<ClientTransport> transport =
      ClientTransport::Create("10.0.0.1:7340", {.token_file = private_file});
  ASSERT_THAT(transport, IsOk());
  EXPECT_TRUE(transport->has_token());
}

TEST_F(TransportTest, TheEnvironmentGivesTheTokenAndTheCa) {
  ::setenv("NETPOOL_TOKEN", "a-token-0123456789", 1);
  EXPECT_TRUE(ClientTransport::Create("10.0.0.1:7340", {})->has_token());
  ::unsetenv("NETPOOL_TOKEN");
  ::setenv("NETPOOL_TLS_CA", dir_.File("missing-ca.pem").c_str(), 1);
  EXPECT_THAT(ClientTransport::Create("10.0.0.1:7340", {}),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("missing-ca.pem")));
}

TEST_F(TransportTest, ACertificateNeedsItsKeyAndACa) {
  EXPECT_THAT(ClientTransport::Create("10.0.0.1:7340", {.tls_cert_file = "node.pem"}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("--tls-key")));
  EXPECT_THAT(ClientTransport::Create("10.0.0.1:7340",
                                      {.tls_cert_file = "node.pem", .tls_key_file = "node.key"}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("--tls-ca")));
}

TEST_F(TransportTest, AServerKeyMustBePrivate) {
  const std::string cert = dir_.Write("server.pem", "cert", 0644);
  const std::string key = dir_.Write("server.key", "key", 0644);
  EXPECT_THAT(MakeServerCredentials({.cert_file = cert, .key_file = key}),
              StatusIs(absl::StatusCode::kPermissionDenied, HasSubstr("server.key")));
  EXPECT_THAT(MakeServerCredentials({.cert_file = cert}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("--tls-key")));
  EXPECT_THAT(MakeServerCredentials({.client_ca_file = cert}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("--tls-cert")));
  EXPECT_THAT(MakeServerCredentials({}), IsOk());
}

}  // namespace
}  // namespace netpool
