// netpoold's HTTP side (--http) on a real netpoold: the probes, /metrics
// and the JSON API behind the same tokens as the gRPC port, metrics that
// count a real map and pass Prometheus's own checker (promtool, from
// Debian's prometheus), and the API's records of real jobs and nodes.
#include <signal.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/ascii.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "httplib.h"
#include "netpool/value.h"
#include "tests/support/eventually.h"
#include "tests/support/http_endpoint.h"
#include "tests/support/scratch_dir.h"
#include "tests/support/test_cluster.h"

namespace netpool::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// A scheduler with --http, whose own user's admin token is token_, and
// which also knows the client alice and the worker rack1 (token files in
// dir_, named after them).
class HttpTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_.Write("alice.token", std::string(kAliceToken) + "\n");
    const std::string tokens = dir_.Write("tokens", absl::StrCat("client alice ", kAliceToken,
                                                                 "\nworker rack1 ", kRackToken,
                                                                 "\n"));
    std::vector<std::string> scheduler_args = {"--http", "127.0.0.1:0", "--token-file", tokens};
    scheduler_args.insert(scheduler_args.end(), extra_scheduler_args_.begin(),
                          extra_scheduler_args_.end());
    auto cluster = TestCluster::Start({.workers = 1,
                                       .processes = 2,
                                       .durable = durable_,
                                       .scheduler_args = std::move(scheduler_args)});
    ASSERT_TRUE(cluster.ok()) << cluster.status();
    cluster_ = *std::move(cluster);
    absl::StatusOr<int> http_port = ReadHttpPort(cluster_->scheduler(), absl::Seconds(10));
    ASSERT_TRUE(http_port.ok()) << http_port.status();
    http_port_ = *http_port;
    absl::StatusOr<std::string> token = LocalTokenFor(cluster_->address());
    ASSERT_TRUE(token.ok()) << token.status();
    token_ = *std::move(token);
  }

  httplib::Result Get(const std::string& path, const std::string& token) {
    return HttpGet(http_port_, path, token);
  }

  // GET `path` with `token`, which must answer `status` with JSON.
  Value GetJson(const std::string& path, const std::string& token, int status) {
    httplib::Result result = Get(path, token);
    if (!result) {
      ADD_FAILURE() << path << ": no answer";
      return Value();
    }
    EXPECT_EQ(result->status, status) << path << ": " << result->body;
    EXPECT_EQ(result->get_header_value("Content-Type"), "application/json") << path;
    absl::StatusOr<Value> json = Value::FromJson(result->body);
    if (!json.ok()) {
      ADD_FAILURE() << path << ": " << json.status() << " in " << result->body;
      return Value();
    }
    return *std::move(json);
  }

  // The CLI's output of `args`, as alice.
  std::string AsAlice(std::vector<std::string> args) {
    std::vector<std::string> argv = {CliPath(), "--scheduler", cluster_->address(),
                                     "--token-file", dir_.File("alice.token")};
    argv.insert(argv.end(), args.begin(), args.end());
    CliResult result = RunProgram(argv);
    EXPECT_EQ(result.exit_code, 0) << result.err;
    return std::string(absl::StripAsciiWhitespace(result.out));
  }

  std::string Submit(std::vector<std::string> args) {
    args.insert(args.begin(), "submit");
    CliResult result = cluster_->RunCli(args);
    EXPECT_EQ(result.exit_code, 0) << result.err;
    return std::string(absl::StripAsciiWhitespace(result.out));
  }

  static constexpr char kAliceToken[] = "alice-token-0123456789";
  static constexpr char kRackToken[] = "rack1-token-0123456789";

  std::vector<std::string> extra_scheduler_args_;  // set before SetUp
  bool durable_ = false;                            // --data instead of --store memory
  ScratchDir dir_;
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
  EXPECT_EQ(MetricSample(text, "netpool_jobs{state=\"succeeded\"}"), kItems) << text;
  EXPECT_EQ(MetricSample(text, "netpool_jobs{state=\"pending\"}"), 0);
  EXPECT_EQ(MetricSample(text, "netpool_jobs_submitted_total{function=\"echo\"}"), kItems);
  EXPECT_EQ(MetricSample(text, "netpool_jobs_finished_total{function=\"echo\",state=\"succeeded\"}"),
            kItems);
  EXPECT_EQ(MetricSample(text, "netpool_job_run_seconds_count{function=\"echo\"}"), kItems);
  EXPECT_EQ(MetricSample(text, "netpool_workers"), 1);
  EXPECT_EQ(MetricSample(text, "netpool_worker_slots{state=\"free\"}"), 2);
  EXPECT_EQ(MetricSample(text, "netpool_ready"), 1);

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
  EXPECT_EQ(MetricSample(text, "netpool_queue_depth{function=\"echo\",labels=\"zone=mars\"}"), 2)
      << text;
  EXPECT_EQ(MetricSample(text, "netpool_jobs_retried_total{function=\"sleep\"}"), 1);
  EXPECT_EQ(MetricSample(text, "netpool_jobs_finished_total{function=\"sleep\",state=\"failed\"}"), 1);
  EXPECT_GE(MetricSample(text, "netpool_rpcs_total{code=\"OK\",method=\"/netpool.v1.Scheduler/Submit\"}")
                .value_or(0),
            3);
  EXPECT_EQ(
      MetricSample(text, "netpool_rpcs_total{code=\"NOT_FOUND\",method=\"/netpool.v1.Scheduler/Get\"}"),
      1);

  CliResult check = RunProgram({NETPOOL_TEST_PROMTOOL, "check", "metrics"}, text);
  EXPECT_EQ(check.exit_code, 0) << check.out << check.err;
}

TEST_F(HttpTest, ApiNeedsAClientOrAdminTokenAndWorkersAnAdmin) {
  const Value none = GetJson("/api/v1/overview", "", 401);
  EXPECT_EQ(none.AsMap().at("code").AsString(), "UNAUTHENTICATED");
  EXPECT_EQ(Get("/api/v1/jobs", "")->get_header_value("WWW-Authenticate"), "Bearer");
  const Value worker = GetJson("/api/v1/overview", kRackToken, 403);
  EXPECT_EQ(worker.AsMap().at("code").AsString(), "PERMISSION_DENIED");
  GetJson("/api/v1/jobs", kRackToken, 403);
  GetJson("/api/v1/overview", kAliceToken, 200);
  const Value client = GetJson("/api/v1/workers", kAliceToken, 403);
  EXPECT_THAT(client.AsMap().at("message").AsString(), HasSubstr("needs role admin"));

  const Value workers = GetJson("/api/v1/workers", token_, 200);
  ASSERT_EQ(workers.AsList().size(), 1u) << workers.ToJson();
  const ValueMap& node = workers.AsList()[0].AsMap();
  EXPECT_EQ(node.at("name").AsString(), "node0");
  EXPECT_EQ(node.at("slots").AsInt(), 2);
  EXPECT_TRUE(node.at("connected").is_string());
}

TEST_F(HttpTest, OverviewIsTheStatsRecordWithTheVersion) {
  constexpr int kItems = 5;
  std::vector<std::string> args = {"map", "echo", ":::"};
  for (int i = 0; i < kItems; ++i) args.push_back(absl::StrCat(i));
  CliResult map = cluster_->RunCli(args);
  ASSERT_EQ(map.exit_code, 0) << map.err;

  const Value overview = GetJson("/api/v1/overview", token_, 200);
  const ValueMap& fields = overview.AsMap();
  EXPECT_EQ(fields.at("succeeded").AsInt(), kItems) << overview.ToJson();
  EXPECT_EQ(fields.at("pending").AsInt(), 0);
  EXPECT_EQ(fields.at("workers").AsInt(), 1);
  EXPECT_EQ(fields.at("slots").AsInt(), 2);
  EXPECT_TRUE(fields.at("ready").AsBool());
  EXPECT_TRUE(fields.at("not_ready_reason").is_null());
  EXPECT_FALSE(fields.at("version").AsString().empty());
  // The same record as `netpool stats -o json`, plus the version and the
  // history.
  CliResult stats = cluster_->RunCli({"stats", "-o", "json"});
  ASSERT_EQ(stats.exit_code, 0) << stats.err;
  absl::StatusOr<Value> cli = Value::FromJson(stats.out);
  ASSERT_TRUE(cli.ok()) << stats.out;
  for (const auto& [key, value] : cli->AsMap()) {
    EXPECT_TRUE(fields.count(key)) << key;
  }
  EXPECT_EQ(fields.size(), cli->AsMap().size() + 2);

  // The map's jobs are in the last minutes' history, each state its own
  // list of 10 s intervals over 15 min.
  const ValueMap& history = fields.at("history").AsMap();
  EXPECT_EQ(history.at("interval_s").AsDouble(), 10);
  int64_t succeeded = 0;
  for (const char* state : {"succeeded", "failed", "cancelled"}) {
    ASSERT_EQ(history.at(state).AsList().size(), 90u) << state;
  }
  for (const Value& count : history.at("succeeded").AsList()) succeeded += count.AsInt();
  EXPECT_EQ(succeeded, kItems) << overview.ToJson();
  for (const Value& count : history.at("failed").AsList()) EXPECT_EQ(count.AsInt(), 0);
}

TEST_F(HttpTest, JobsAreFilteredByStateAndFunctionUpToTheLimit) {
  for (int i = 0; i < 3; ++i) Submit({"echo", absl::StrCat(i)});
  std::vector<std::string> failing;
  for (int i = 0; i < 2; ++i) failing.push_back(Submit({"sleep", "not-a-number"}));
  for (const std::string& id : failing) {
    EXPECT_EQ(cluster_->RunCli({"wait", id}).exit_code, 0);
  }
  const std::string alices = AsAlice({"submit", "echo", "mine"});
  EXPECT_EQ(cluster_->RunCli({"wait", alices}).exit_code, 0);

  const Value failed = GetJson("/api/v1/jobs?state=failed&function=sleep", token_, 200);
  ASSERT_EQ(failed.AsList().size(), 2u) << failed.ToJson();
  for (const Value& job : failed.AsList()) {
    EXPECT_EQ(job.AsMap().at("state").AsString(), "FAILED");
    EXPECT_EQ(job.AsMap().at("function").AsString(), "sleep");
    EXPECT_EQ(job.AsMap().at("error").AsMap().at("code").AsString(), "INVALID_ARGUMENT");
  }
  EXPECT_EQ(GetJson("/api/v1/jobs?function=echo", token_, 200).AsList().size(), 4u);
  const Value limited = GetJson("/api/v1/jobs?function=echo&limit=2", token_, 200);
  ASSERT_EQ(limited.AsList().size(), 2u);
  for (const Value& job : limited.AsList()) {
    EXPECT_EQ(job.AsMap().at("function").AsString(), "echo");
  }
  EXPECT_EQ(GetJson("/api/v1/jobs?state=SUCCEEDED", token_, 200).AsList().size(), 4u);
  EXPECT_EQ(GetJson("/api/v1/jobs?function=nothing", token_, 200).AsList().size(), 0u);

  // A client sees its own jobs only; another's is unknown to it.
  const Value own = GetJson("/api/v1/jobs", kAliceToken, 200);
  ASSERT_EQ(own.AsList().size(), 1u) << own.ToJson();
  EXPECT_EQ(own.AsList()[0].AsMap().at("id").AsString(), alices);
  EXPECT_EQ(own.AsList()[0].AsMap().at("owner").AsString(), "alice");
  const Value others = GetJson("/api/v1/jobs/" + failing[0], kAliceToken, 404);
  EXPECT_EQ(others.AsMap().at("code").AsString(), "NOT_FOUND");
  GetJson("/api/v1/jobs/" + alices, kAliceToken, 200);
}

// The dashboard's paging: the newest first, then the page before the last
// job shown; and its label filter.
TEST_F(HttpTest, JobsPageNewestFirstBeforeAJobAndFilterByLabel) {
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) {
    ids.push_back(Submit({"--label", i % 2 == 0 ? "zone=even" : "zone=odd", "echo",
                          absl::StrCat(i)}));
  }
  auto Ids = [&](const std::string& query) {
    std::vector<std::string> out;
    const Value jobs = GetJson("/api/v1/jobs?" + query, token_, 200);
    for (const Value& job : jobs.AsList()) {
      out.push_back(job.AsMap().at("id").AsString());
    }
    return out;
  };
  using ::testing::ElementsAre;
  EXPECT_THAT(Ids("order=newest&limit=2"), ElementsAre(ids[4], ids[3]));
  EXPECT_THAT(Ids("order=newest&limit=2&before=" + ids[3]), ElementsAre(ids[2], ids[1]));
  EXPECT_THAT(Ids("order=newest&limit=2&before=" + ids[1]), ElementsAre(ids[0]));
  EXPECT_THAT(Ids("order=newest&before=" + ids[0]), ElementsAre());
  EXPECT_THAT(Ids("order=oldest&limit=2"), ElementsAre(ids[0], ids[1]));
  // The label's "=" escaped, as a browser's URLSearchParams writes it.
  EXPECT_THAT(Ids("label=zone%3Dodd"), ElementsAre(ids[1], ids[3]));
  EXPECT_THAT(Ids("order=newest&label=zone%3Deven&before=" + ids[4]),
              ElementsAre(ids[2], ids[0]));
  EXPECT_THAT(Ids("label=zone%3Dmars"), ElementsAre());
  // A job that is not (or no longer) there: an empty page.
  EXPECT_THAT(Ids("order=newest&before=no-such-job"), ElementsAre());
}

TEST_F(HttpTest, BadJobParametersAre400) {
  for (const char* query : {"state=done", "limit=0", "limit=abc", "limit=100001", "colour=red",
                            "order=sideways", "before=j-1", "order=oldest&before=j-1",
                            "label=nokey", "label=%3Dv"}) {
    const Value error = GetJson(absl::StrCat("/api/v1/jobs?", query), token_, 400);
    EXPECT_EQ(error.AsMap().at("code").AsString(), "INVALID_ARGUMENT") << query;
  }
  EXPECT_THAT(GetJson("/api/v1/jobs?state=done", token_, 400).AsMap().at("message").AsString(),
              HasSubstr("unknown job state \"done\""));
}

// The page and its files hold no data: anyone who can reach the port gets
// them, while every call the page makes for data needs the token.
TEST_F(HttpTest, TheDashboardIsServedWithoutATokenAndItsDataIsNot) {
  ASSERT_EQ(cluster_->RunCli({"submit", "echo", "secret-argument"}).exit_code, 0);
  for (const auto& [path, type] : std::vector<std::pair<std::string, std::string>>{
           {"/", "text/html"}, {"/dashboard.js", "text/javascript"},
           {"/dashboard.css", "text/css"}}) {
    httplib::Result file = Get(path, "");
    ASSERT_TRUE(file) << path;
    EXPECT_EQ(file->status, 200) << path;
    EXPECT_THAT(file->get_header_value("Content-Type"), HasSubstr(type)) << path;
    EXPECT_THAT(file->get_header_value("Content-Security-Policy"),
                HasSubstr("frame-ancestors 'none'"));
    EXPECT_EQ(file->get_header_value("Referrer-Policy"), "no-referrer");
    for (const std::string& data : {token_, std::string("node0"), std::string("secret-argument"),
                                    std::string("echo")}) {
      EXPECT_THAT(file->body, Not(HasSubstr(data))) << path;
    }
  }
  EXPECT_THAT(Get("/", "")->body, HasSubstr("/dashboard.js"));
  EXPECT_EQ(Get("/nothing.js", "")->status, 404);
  for (const char* path :
       {"/api/v1/overview", "/api/v1/workers", "/api/v1/jobs", "/api/v1/jobs?order=newest",
        "/api/v1/jobs/j-1", "/metrics"}) {
    EXPECT_EQ(Get(path, "")->status, 401) << path;
    EXPECT_EQ(Get(path, "wrong-token-0123456789")->status, 401) << path;
    EXPECT_EQ(Get(path, kRackToken)->status, 403) << path;
  }
}

// `netpool dashboard` gives the page's address with the same token the
// other commands use (here the one netpoold left for its own user), which
// the API takes.
TEST_F(HttpTest, NetpoolDashboardPrintsTheAddressWithAWorkingToken) {
  CliResult run =
      cluster_->RunCli({"dashboard", "--http", absl::StrCat("127.0.0.1:", http_port_)});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(run.out, absl::StrCat("http://127.0.0.1:", http_port_, "/#token=", token_, "\n"));
  GetJson("/api/v1/overview", token_, 200);
  httplib::Result page = Get("/", "");
  ASSERT_TRUE(page);
  EXPECT_EQ(page->status, 200);
}

TEST_F(HttpTest, AJobHasItsAttemptsArgsAndResult) {
  const std::string failed =
      Submit({"--max-attempts", "2", "--retry-on-error", "sleep", "not-a-number"});
  const std::string echoed = Submit({"echo", "a", "b"});
  const std::string big = Submit({"echo", std::string(5000, 'x')});
  for (const std::string& id : {failed, echoed, big}) {
    ASSERT_EQ(cluster_->RunCli({"wait", id}).exit_code, 0);
  }

  const Value job = GetJson("/api/v1/jobs/" + failed, token_, 200);
  const ValueMap& fields = job.AsMap();
  EXPECT_EQ(fields.at("id").AsString(), failed);
  EXPECT_EQ(fields.at("state").AsString(), "FAILED");
  EXPECT_EQ(fields.at("args").ToJson(), "[\"not-a-number\"]");
  EXPECT_EQ(fields.at("attempts").AsInt(), 2);
  ASSERT_EQ(fields.at("history").AsList().size(), 2u) << job.ToJson();
  EXPECT_EQ(fields.at("history").AsList()[1].AsMap().at("worker").AsString(), "node0");
  EXPECT_EQ(fields.at("result").AsMap().at("error").AsMap().at("code").AsString(),
            "INVALID_ARGUMENT");

  const Value ok = GetJson("/api/v1/jobs/" + echoed, token_, 200);
  EXPECT_EQ(ok.AsMap().at("result").ToJson(), "{\"value\":[\"a\",\"b\"]}");

  // A big result shows as the start of its JSON.
  const Value big_job = GetJson("/api/v1/jobs/" + big, token_, 200);
  const ValueMap& preview = big_job.AsMap().at("result").AsMap();
  EXPECT_TRUE(preview.at("truncated").AsBool());
  EXPECT_EQ(preview.at("json").AsString(), "{\"value\":[\"" + std::string(4096 - 11, 'x'));
}

TEST_F(HttpTest, AnUnknownOrUnfinishedJob) {
  const Value unknown = GetJson("/api/v1/jobs/j-no-such-job", token_, 404);
  EXPECT_EQ(unknown.AsMap().at("code").AsString(), "NOT_FOUND");

  // Waits for a node labelled zone=mars, which never comes.
  const std::string pending = Submit({"--label", "zone=mars", "echo", "1"});
  const Value job = GetJson("/api/v1/jobs/" + pending, token_, 200);
  EXPECT_EQ(job.AsMap().at("state").AsString(), "PENDING");
  EXPECT_TRUE(job.AsMap().at("result").is_null());
}

// Results are kept a fraction of a second once a client has them.
class HttpShortRetentionTest : public HttpTest {
 protected:
  HttpShortRetentionTest() { extra_scheduler_args_ = {"--result-ttl", "0.2"}; }
};

TEST_F(HttpShortRetentionTest, ALookAtAJobLeavesItsResultForItsOwner) {
  const std::string id = Submit({"echo", "kept"});
  ASSERT_TRUE(Eventually(
      [&] { return cluster_->RunCli({"status", id}).out == id + "\tSUCCEEDED\n"; },
      absl::Seconds(30)));
  EXPECT_EQ(GetJson("/api/v1/jobs/" + id, token_, 200).AsMap().at("result").ToJson(),
            "{\"value\":[\"kept\"]}");
  // Long past the retention of a result handed to a client.
  absl::SleepFor(absl::Seconds(1.5));
  CliResult get = cluster_->RunCli({"get", id});
  EXPECT_EQ(get.exit_code, 0) << get.err;
  EXPECT_EQ(get.out, "[\"kept\"]\n");
}

class HttpDurableTest : public HttpTest {
 protected:
  HttpDurableTest() { durable_ = true; }
};

TEST_F(HttpDurableTest, MetricsTimeTheStoresCommits) {
  CliResult map = cluster_->RunCli({"map", "echo", ":::", "1", "2", "3"});
  ASSERT_EQ(map.exit_code, 0) << map.err;
  httplib::Result metrics = Get("/metrics", token_);
  ASSERT_TRUE(metrics);
  ASSERT_EQ(metrics->status, 200);
  EXPECT_GT(MetricSample(metrics->body, "netpool_store_commit_seconds_count").value_or(0), 0)
      << metrics->body;
  CliResult check = RunProgram({NETPOOL_TEST_PROMTOOL, "check", "metrics"}, metrics->body);
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
