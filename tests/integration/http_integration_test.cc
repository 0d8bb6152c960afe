// netpoold's HTTP side (--http) on a real netpoold: the probes, /metrics
// behind the same tokens as the gRPC port, and metrics that count a real map
// and pass Prometheus's own checker (promtool, from Debian's prometheus).
#include <signal.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/host_address.h"
#include "common/local_token.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "httplib.h"
#include "tests/support/test_cluster.h"

namespace netpool::testing {
namespace {

using ::testing::HasSubstr;

class HttpTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto cluster = TestCluster::Start({.workers = 1, .processes = 2,
                                       .scheduler_args = {"--http", "127.0.0.1:0"}});
    ASSERT_TRUE(cluster.ok()) << cluster.status();
    cluster_ = *std::move(cluster);
    absl::StatusOr<std::string> line = cluster_->scheduler().ReadLine(absl::Seconds(10));
    ASSERT_TRUE(line.ok()) << line.status();
    absl::string_view address = *line;
    ASSERT_TRUE(absl::ConsumePrefix(&address, "http on ")) << *line;
    std::string host;
    ASSERT_TRUE(SplitHostPort(std::string(address), &host, &http_port_)) << *line;
    std::string grpc_host;
    int grpc_port = 0;
    ASSERT_TRUE(SplitHostPort(cluster_->address(), &grpc_host, &grpc_port));
    std::optional<std::string> token = ReadLocalToken(grpc_port);
    ASSERT_TRUE(token.has_value());
    token_ = *token;
  }

  httplib::Result Get(const std::string& path, const std::string& token) {
    httplib::Client client("127.0.0.1", http_port_);
    httplib::Headers headers;
    if (!token.empty()) headers.emplace("Authorization", absl::StrCat("Bearer ", token));
    return client.Get(path, headers);
  }

  // The value of the sample `series` (name and labels as printed) in `text`.
  static std::optional<double> Sample(const std::string& text, const std::string& series) {
    for (absl::string_view line : absl::StrSplit(text, '\n')) {
      if (!absl::ConsumePrefix(&line, series + " ")) continue;
      double value = 0;
      if (absl::SimpleAtod(line, &value)) return value;
    }
    return std::nullopt;
  }

  std::unique_ptr<TestCluster> cluster_;
  int http_port_ = 0;
  std::string token_;
};

TEST_F(HttpTest, ProbesAnswerWithoutAToken) {
  httplib::Result health = Get("/healthz", "");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
  httplib::Result ready = Get("/readyz", "");
  ASSERT_TRUE(ready);
  EXPECT_EQ(ready->status, 200);
  EXPECT_EQ(ready->body, "ready\n");
}

TEST_F(HttpTest, ReadyzSaysNotReadyWhileTheSchedulerStops) {
  // The node's stream holds the gRPC server's stop for up to a second,
  // during which the HTTP side still answers.
  cluster_->scheduler().Signal(SIGTERM);
  std::string answer;
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (absl::Now() < deadline) {
    httplib::Result ready = Get("/readyz", "");
    if (!ready) break;  // gone
    if (ready->status != 200) {
      answer = absl::StrCat(ready->status, " ", ready->body);
      break;
    }
    absl::SleepFor(absl::Milliseconds(5));
  }
  EXPECT_EQ(answer, "503 not ready: the scheduler is shutting down\n");
}

TEST_F(HttpTest, MetricsNeedAValidToken) {
  httplib::Result none = Get("/metrics", "");
  ASSERT_TRUE(none);
  EXPECT_EQ(none->status, 401);
  EXPECT_EQ(none->get_header_value("WWW-Authenticate"), "Bearer");
  EXPECT_THAT(none->body, HasSubstr("no token"));
  EXPECT_THAT(none->body, ::testing::Not(HasSubstr("netpool_jobs")));

  httplib::Result wrong = Get("/metrics", "not-the-token-0123456789");
  ASSERT_TRUE(wrong);
  EXPECT_EQ(wrong->status, 401);
  EXPECT_THAT(wrong->body, HasSubstr("not valid"));

  httplib::Client client("127.0.0.1", http_port_);
  httplib::Result basic = client.Get("/metrics", {{"Authorization", "Basic dXNlcjpwYXNz"}});
  ASSERT_TRUE(basic);
  EXPECT_EQ(basic->status, 401);

  httplib::Result right = Get("/metrics", token_);
  ASSERT_TRUE(right);
  EXPECT_EQ(right->status, 200);
}

TEST_F(HttpTest, MetricsCountAMapAndPassPromtool) {
  constexpr int kItems = 50;
  std::vector<std::string> args = {"map", "echo", ":::"};
  for (int i = 0; i < kItems; ++i) args.push_back(absl::StrCat(i));
  CliResult map = cluster_->RunCli(args);
  ASSERT_EQ(map.exit_code, 0) << map.err;

  httplib::Result metrics = Get("/metrics", token_);
  ASSERT_TRUE(metrics);
  ASSERT_EQ(metrics->status, 200);
  const std::string& text = metrics->body;
  EXPECT_EQ(Sample(text, "netpool_jobs{state=\"succeeded\"}"), kItems) << text;
  EXPECT_EQ(Sample(text, "netpool_jobs{state=\"pending\"}"), 0);
  EXPECT_EQ(Sample(text, "netpool_jobs_submitted_total{function=\"echo\"}"), kItems);
  EXPECT_EQ(Sample(text, "netpool_jobs_finished_total{function=\"echo\",state=\"succeeded\"}"),
            kItems);
  EXPECT_EQ(Sample(text, "netpool_job_run_seconds_count{function=\"echo\"}"), kItems);
  EXPECT_EQ(Sample(text, "netpool_workers"), 1);
  EXPECT_EQ(Sample(text, "netpool_worker_slots{state=\"free\"}"), 2);
  EXPECT_EQ(Sample(text, "netpool_ready"), 1);

  CliResult check = RunProgram({NETPOOL_TEST_PROMTOOL, "check", "metrics"}, text);
  EXPECT_EQ(check.exit_code, 0) << check.out << check.err;
}

TEST_F(HttpTest, MetricsShowQueuesRetriesAndRpcs) {
  // Two jobs wait for a node labelled zone=mars, which never comes; one job
  // fails once, is retried, and fails for good.
  for (int i = 0; i < 2; ++i) {
    ASSERT_EQ(cluster_->RunCli({"submit", "--label", "zone=mars", "echo", "1"}).exit_code, 0);
  }
  CliResult failing = cluster_->RunCli(
      {"submit", "--max-attempts", "2", "--retry-on-error", "sleep", "not-a-number"});
  ASSERT_EQ(failing.exit_code, 0) << failing.err;
  std::string job_id(absl::StripAsciiWhitespace(failing.out));
  EXPECT_EQ(cluster_->RunCli({"wait", job_id}).exit_code, 0);
  EXPECT_EQ(cluster_->RunCli({"get", "no-such-job"}).exit_code, 1);

  httplib::Result metrics = Get("/metrics", token_);
  ASSERT_TRUE(metrics);
  ASSERT_EQ(metrics->status, 200);
  const std::string& text = metrics->body;
  EXPECT_EQ(Sample(text, "netpool_queue_depth{function=\"echo\",labels=\"zone=mars\"}"), 2)
      << text;
  EXPECT_EQ(Sample(text, "netpool_jobs_retried_total{function=\"sleep\"}"), 1);
  EXPECT_EQ(Sample(text, "netpool_jobs_finished_total{function=\"sleep\",state=\"failed\"}"), 1);
  EXPECT_GE(Sample(text, "netpool_rpcs_total{code=\"OK\",method=\"/netpool.v1.Scheduler/Submit\"}")
                .value_or(0),
            3);
  EXPECT_EQ(
      Sample(text, "netpool_rpcs_total{code=\"NOT_FOUND\",method=\"/netpool.v1.Scheduler/Get\"}"),
      1);

  CliResult check = RunProgram({NETPOOL_TEST_PROMTOOL, "check", "metrics"}, text);
  EXPECT_EQ(check.exit_code, 0) << check.out << check.err;
}

TEST(HttpFlags, AnExplicitAddressThatIsTakenIsAnError) {
  httplib::Server squatter;
  const int port = squatter.bind_to_any_port("127.0.0.1");
  ASSERT_GT(port, 0);
  CliResult result = RunProgram({NetpooldPath(), "--listen", "127.0.0.1:0", "--store", "memory",
                                 "--http", absl::StrCat("127.0.0.1:", port)},
                                "", absl::Seconds(30));
  EXPECT_EQ(result.exit_code, 69) << result.err;
  EXPECT_THAT(result.err, HasSubstr(absl::StrCat("cannot listen on 127.0.0.1:", port)));
}

TEST(HttpFlags, ANonLoopbackAddressWithoutTlsIsRefused) {
  CliResult result = RunProgram(
      {NetpooldPath(), "--listen", "127.0.0.1:0", "--store", "memory", "--http", "0.0.0.0:0"});
  EXPECT_EQ(result.exit_code, 64);
  EXPECT_THAT(result.err, HasSubstr("refusing to serve HTTP on 0.0.0.0"));
}

TEST(HttpFlags, ABadAddressIsAUsageError) {
  CliResult result =
      RunProgram({NetpooldPath(), "--listen", "127.0.0.1:0", "--store", "memory", "--http", "x"});
  EXPECT_EQ(result.exit_code, 64);
  EXPECT_THAT(result.err, HasSubstr("--http must be HOST:PORT or off"));
}

}  // namespace
}  // namespace netpool::testing
