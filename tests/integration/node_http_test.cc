// netpool-worker --http on a real node of a real netpoold: /healthz for
// anyone, /metrics only with the node's own token, counting the jobs the
// node ran, its tasks' run time and the worker processes it replaced, in a
// text that Prometheus's own checker (promtool) accepts; and the addresses
// the node refuses to serve on.
#include <signal.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "httplib.h"
#include "tests/support/eventually.h"
#include "tests/support/http_endpoint.h"
#include "tests/support/proc.h"
#include "tests/support/scratch_dir.h"
#include "tests/support/subprocess.h"
#include "tests/support/test_cluster.h"

namespace netpool::testing {
namespace {

using ::testing::HasSubstr;

constexpr int kProcesses = 2;

// A scheduler and one node with --http 127.0.0.1:0, whose token is the
// scheduler's own user's (found on loopback, as the node finds it).
class NodeHttpTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto cluster = TestCluster::Start({.workers = 0});
    ASSERT_TRUE(cluster.ok()) << cluster.status();
    cluster_ = *std::move(cluster);
    absl::StatusOr<Subprocess> node = Subprocess::Start(
        {WorkerPath(), "--scheduler", cluster_->address(), "--processes",
         absl::StrCat(kProcesses), "--name", "watched", "--http", "127.0.0.1:0"},
        {.pipe_stdout = true});
    ASSERT_TRUE(node.ok()) << node.status();
    node_ = *std::move(node);
    absl::StatusOr<int> http_port = ReadHttpPort(node_, absl::Seconds(10));
    ASSERT_TRUE(http_port.ok()) << http_port.status();
    http_port_ = *http_port;
    ASSERT_TRUE(cluster_->WaitForWorkers(1, kProcesses, absl::Seconds(30)).ok());
    absl::StatusOr<std::string> token = LocalTokenFor(cluster_->address());
    ASSERT_TRUE(token.ok()) << token.status();
    token_ = *std::move(token);
  }

  httplib::Result Get(const std::string& path, const std::string& token) {
    return HttpGet(http_port_, path, token);
  }

  // /metrics as the node's owner; empty (and a failure) if it did not answer 200.
  std::string Metrics() {
    httplib::Result metrics = Get("/metrics", token_);
    if (!metrics || metrics->status != 200) {
      ADD_FAILURE() << "/metrics: " << (metrics ? metrics->body : "no answer");
      return "";
    }
    return metrics->body;
  }

  std::unique_ptr<TestCluster> cluster_;
  Subprocess node_;
  int http_port_ = 0;
  std::string token_;
};

TEST_F(NodeHttpTest, HealthzAnswersWithoutAToken) {
  httplib::Result health = Get("/healthz", "");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
  EXPECT_EQ(health->body, "ok\n");
}

TEST_F(NodeHttpTest, MetricsNeedTheNodesOwnToken) {
  httplib::Result none = Get("/metrics", "");
  ASSERT_TRUE(none);
  EXPECT_EQ(none->status, 401);
  EXPECT_EQ(none->get_header_value("WWW-Authenticate"), "Bearer");
  httplib::Result wrong = Get("/metrics", token_ + "x");
  ASSERT_TRUE(wrong);
  EXPECT_EQ(wrong->status, 403);
  EXPECT_THAT(wrong->body, ::testing::Not(HasSubstr("netpool_node")));
  httplib::Result right = Get("/metrics", token_);
  ASSERT_TRUE(right);
  EXPECT_EQ(right->status, 200);
}

TEST_F(NodeHttpTest, MetricsCountTheJobsAndTimeTheTasksAndPassPromtool) {
  constexpr int kItems = 20;
  std::vector<std::string> args = {"map", "--chunksize", "1", "echo", ":::"};
  for (int i = 0; i < kItems; ++i) args.push_back(absl::StrCat(i));
  CliResult map = cluster_->RunCli(args);
  ASSERT_EQ(map.exit_code, 0) << map.err;
  CliResult failing = cluster_->RunCli({"submit", "sleep", "not-a-number"});
  ASSERT_EQ(failing.exit_code, 0) << failing.err;
  ASSERT_EQ(cluster_->RunCli({"wait", std::string(absl::StripAsciiWhitespace(failing.out)),
                              "--timeout", "30"})
                .exit_code,
            0);

  std::string text;
  // The node counts a job when its process reports it, just before the
  // scheduler hears of it.
  ASSERT_TRUE(Eventually(
      [&] {
        text = Metrics();
        return MetricSample(text, "netpool_node_jobs_total{state=\"failed\"}") == 1;
      },
      absl::Seconds(10)))
      << text;
  EXPECT_EQ(MetricSample(text, "netpool_node_jobs_total{state=\"succeeded\"}"), kItems) << text;
  EXPECT_EQ(MetricSample(text, "netpool_node_task_seconds_count{function=\"echo\"}"), kItems);
  EXPECT_EQ(MetricSample(text, "netpool_node_task_seconds_count{function=\"sleep\"}"), 1);
  EXPECT_EQ(MetricSample(text, "netpool_node_processes{state=\"busy\"}"), 0);
  EXPECT_EQ(MetricSample(text, "netpool_node_processes{state=\"idle\"}"), kProcesses);
  EXPECT_EQ(MetricSample(text, "netpool_node_process_restarts_total"), 0);

  CliResult check = RunProgram({NETPOOL_TEST_PROMTOOL, "check", "metrics"}, text);
  EXPECT_EQ(check.exit_code, 0) << check.out << check.err;
}

TEST_F(NodeHttpTest, AWorkerProcessKilledFromOutsideCountsAsARestart) {
  // A running job shows its process busy.
  CliResult sleeper = cluster_->RunCli({"submit", "sleep", "30"});
  ASSERT_EQ(sleeper.exit_code, 0) << sleeper.err;
  std::string text;
  ASSERT_TRUE(Eventually(
      [&] {
        text = Metrics();
        return MetricSample(text, "netpool_node_processes{state=\"busy\"}") == 1;
      },
      absl::Seconds(10)))
      << text;

  const std::vector<pid_t> processes = ChildPids(node_.pid());
  ASSERT_EQ(processes.size(), static_cast<size_t>(kProcesses));
  ::kill(processes[0], SIGKILL);
  ASSERT_TRUE(Eventually(
      [&] {
        text = Metrics();
        return MetricSample(text, "netpool_node_process_restarts_total") == 1 &&
               ChildPids(node_.pid()).size() == static_cast<size_t>(kProcesses);
      },
      absl::Seconds(10)))
      << text;
}

// Beyond loopback, with the node's certificate: HTTPS, and still the token.
TEST(NodeHttpTls, ANonLoopbackAddressServesHttpsWithTheNodesCertificate) {
  ScratchDir dir;
  const std::string script = NETPOOL_TEST_SOURCE_DIR "/deploy/make-certs.sh";
  ASSERT_EQ(RunProgram({script, "ca", dir.path()}).exit_code, 0);
  ASSERT_EQ(RunProgram({script, "node", dir.path(), "rack1"}).exit_code, 0);
  const std::string token = "rack1-token-0123456789";
  const std::string token_file = dir.Write("rack1.token", token + "\n");
  // No scheduler: the HTTP side serves while the node keeps reconnecting.
  absl::StatusOr<Subprocess> node = Subprocess::Start(
      {WorkerPath(), "--scheduler", "127.0.0.1:1", "--processes", "1", "--tls-ca",
       dir.File("ca.pem"), "--tls-cert", dir.File("rack1.pem"), "--tls-key",
       dir.File("rack1.key"), "--token-file", token_file, "--http", "0.0.0.0:0"},
      {.pipe_stdout = true});
  ASSERT_TRUE(node.ok()) << node.status();
  absl::StatusOr<std::string> line = node->ReadLine(absl::Seconds(10));
  ASSERT_TRUE(line.ok()) << line.status();
  absl::string_view address = *line;
  ASSERT_TRUE(absl::ConsumePrefix(&address, "http on 0.0.0.0:")) << *line;
  int port = 0;
  ASSERT_TRUE(absl::SimpleAtoi(address, &port)) << *line;

  httplib::Client plain("127.0.0.1", port);
  EXPECT_FALSE(plain.Get("/healthz")) << "plain HTTP answered";
  httplib::SSLClient https("127.0.0.1", port);
  https.enable_server_certificate_verification(false);  // a node certificate names no host
  httplib::Result health = https.Get("/healthz");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
  httplib::Result refused = https.Get("/metrics");
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 401);
  httplib::Result metrics = https.Get("/metrics", {{"Authorization", "Bearer " + token}});
  ASSERT_TRUE(metrics);
  EXPECT_EQ(metrics->status, 200);
  EXPECT_THAT(metrics->body, HasSubstr("netpool_node_processes{state=\"idle\"}"));
}

TEST(NodeHttpFlags, ANonLoopbackAddressWithoutTlsIsRefused) {
  CliResult result = RunProgram(
      {WorkerPath(), "--scheduler", "127.0.0.1:1", "--http", "0.0.0.0:0"}, "", absl::Seconds(30));
  EXPECT_EQ(result.exit_code, 64);
  EXPECT_THAT(result.err, HasSubstr("refusing to serve HTTP on 0.0.0.0"));
}

TEST(NodeHttpFlags, ABadAddressIsAUsageError) {
  CliResult result =
      RunProgram({WorkerPath(), "--scheduler", "127.0.0.1:1", "--http", "x"}, "", absl::Seconds(30));
  EXPECT_EQ(result.exit_code, 64);
  EXPECT_THAT(result.err, HasSubstr("--http must be HOST:PORT or off"));
}

TEST(NodeHttpFlags, AnAddressThatIsTakenIsAnError) {
  httplib::Server squatter;
  const int port = squatter.bind_to_any_port("127.0.0.1");
  ASSERT_GT(port, 0);
  CliResult result = RunProgram({WorkerPath(), "--scheduler", "127.0.0.1:1", "--http",
                                 absl::StrCat("127.0.0.1:", port)},
                                "", absl::Seconds(30));
  EXPECT_EQ(result.exit_code, 69) << result.err;
  EXPECT_THAT(result.err, HasSubstr(absl::StrCat("cannot listen on 127.0.0.1:", port)));
}

}  // namespace
}  // namespace netpool::testing
