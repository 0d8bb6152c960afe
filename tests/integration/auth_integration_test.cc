// Authentication and authorisation of a real netpoold on 127.0.0.1, driven
// through the CLI: each protection is shown by the refusal it makes (item by
// item of the security issue). The same across hosts, with TLS, in network
// namespaces: multi_host_test.sh.
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "client/scheduler_client.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "netpool/pool.h"
#include "tests/support/eventually.h"
#include "tests/support/scratch_dir.h"
#include "tests/support/subprocess.h"
#include "tests/support/test_cluster.h"

namespace netpool {
namespace {

using ::netpool::testing::CliPath;
using ::netpool::testing::CliResult;
using ::netpool::testing::Eventually;
using ::netpool::testing::FileMode;
using ::netpool::testing::NetpooldPath;
using ::netpool::testing::RunProgram;
using ::netpool::testing::ScratchDir;
using ::netpool::testing::Subprocess;
using ::netpool::testing::TestCluster;
using ::netpool::testing::WorkerPath;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr int kExitNoPermission = 77;
constexpr int kExitUsage = 64;
constexpr int kExitUnavailable = 69;

std::string Trimmed(const std::string& text) {
  return std::string(absl::StripAsciiWhitespace(text));
}

// A netpool-worker with `args`; its log comes out on its stdout.
absl::StatusOr<Subprocess> StartNode(std::vector<std::string> args) {
  std::vector<std::string> argv = {"/bin/sh", "-c", "exec \"$0\" \"$@\" 2>&1", WorkerPath()};
  argv.insert(argv.end(), args.begin(), args.end());
  return Subprocess::Start(argv, {.pipe_stdout = true});
}

// Reads `process`'s output until a line holds `text`; what it read.
std::string ReadUntil(Subprocess& process, const std::string& text) {
  std::string read;
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  while (read.find(text) == std::string::npos && absl::Now() < deadline) {
    absl::StatusOr<std::string> line = process.ReadLine(absl::Seconds(1));
    if (line.ok()) read += *line + "\n";
  }
  return read;
}

// A copy of `program` that other users can run, in `dir` (opened to them):
// the build tree may be in a home directory that only its owner can enter.
std::string RunnableByOthers(const ScratchDir& dir, const std::string& program) {
  EXPECT_EQ(::chmod(dir.path().c_str(), 0755), 0);
  const std::string copy = dir.File(std::filesystem::path(program).filename());
  std::filesystem::copy_file(program, copy, std::filesystem::copy_options::overwrite_existing);
  EXPECT_EQ(::chmod(copy.c_str(), 0755), 0);
  return copy;
}

// A scheduler with a token file of two clients, a worker credential and an
// admin, plus one node that joined with the scheduler's own admin token.
class AuthTest : public ::testing::Test {
 protected:
  void SetUp() override { StartCluster({}); }

  void StartCluster(std::vector<std::string> extra_args) {
    WriteSecret("alice", "alice-token-0123456789");
    WriteSecret("bob", "bob-token-0123456789ab");
    WriteSecret("rack1", "rack1-token-0123456789");
    WriteSecret("ops", "ops-token-0123456789abc");
    WriteSecret("wrong", "not-a-token-0123456789");
    token_file_ = dir_.Write("tokens",
                             "# role name secret\n"
                             "client alice alice-token-0123456789\n"
                             "client bob bob-token-0123456789ab\n"
                             "worker rack1 rack1-token-0123456789\n"
                             "admin ops ops-token-0123456789abc\n");
    std::vector<std::string> args = {"--token-file", token_file_};
    args.insert(args.end(), extra_args.begin(), extra_args.end());
    auto cluster = TestCluster::Start({.workers = 1, .processes = 2, .scheduler_args = args});
    ASSERT_TRUE(cluster.ok()) << cluster.status();
    cluster_ = *std::move(cluster);
  }

  void WriteSecret(const std::string& name, const std::string& token) {
    dir_.Write(name + ".token", token + "\n");
  }

  // The CLI as `who` (a name above).
  CliResult As(const std::string& who, std::vector<std::string> args) {
    std::vector<std::string> argv = {CliPath(), "--scheduler", cluster_->address(), "--token-file",
                                     dir_.File(who + ".token")};
    argv.insert(argv.end(), args.begin(), args.end());
    return RunProgram(argv);
  }

  std::string SubmitAs(const std::string& who, const std::string& value) {
    CliResult submitted = As(who, {"submit", "echo", value});
    EXPECT_EQ(submitted.exit_code, 0) << submitted.err;
    return Trimmed(submitted.out);
  }

  ScratchDir dir_;
  std::string token_file_;
  std::unique_ptr<TestCluster> cluster_;
};

TEST_F(AuthTest, ACallWithoutATokenIsUnauthenticated) {
  // No token file, no NETPOOL_TOKEN, and no same-user token to find.
  CliResult r = RunProgram({CliPath(), "--scheduler", cluster_->address(), "stats"}, "",
                           absl::Seconds(60), {"XDG_CONFIG_HOME=" + dir_.File("empty-config")});
  EXPECT_EQ(r.exit_code, kExitNoPermission) << r.err;
  EXPECT_THAT(r.err, HasSubstr("no token"));
}

TEST_F(AuthTest, AWrongTokenIsUnauthenticated) {
  CliResult r = As("wrong", {"submit", "echo", "x"});
  EXPECT_EQ(r.exit_code, kExitNoPermission) << r.err;
  EXPECT_THAT(r.err, HasSubstr("not valid"));
  r = RunProgram({CliPath(), "--scheduler", cluster_->address(), "stats"}, "", absl::Seconds(60),
                 {"NETPOOL_TOKEN=ops-token-0123456789abcX"});
  EXPECT_EQ(r.exit_code, kExitNoPermission) << r.err;
}

TEST_F(AuthTest, TheTokenComesFromTheEnvironmentToo) {
  CliResult r = RunProgram({CliPath(), "--scheduler", cluster_->address(), "workers"}, "",
                           absl::Seconds(60), {"NETPOOL_TOKEN=ops-token-0123456789abc"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("node0"));
}

TEST_F(AuthTest, AWorkerTokenCannotSubmit) {
  CliResult r = As("rack1", {"submit", "echo", "x"});
  EXPECT_EQ(r.exit_code, kExitNoPermission) << r.err;
  EXPECT_THAT(r.err, AllOf(HasSubstr("rack1 has role worker"), HasSubstr("Submit needs role")));
}

TEST_F(AuthTest, OnlyAnAdminListsWorkerNodes) {
  CliResult r = As("alice", {"workers"});
  EXPECT_EQ(r.exit_code, kExitNoPermission) << r.err;
  EXPECT_THAT(r.err, HasSubstr("ListWorkers needs role admin"));
  r = As("ops", {"workers"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("node0"));
}

TEST_F(AuthTest, AClientSeesWaitsOnAndCancelsOnlyItsOwnJobs) {
  const std::string job = SubmitAs("alice", "alice-data");
  ASSERT_FALSE(job.empty());
  for (const std::vector<std::string>& command : {std::vector<std::string>{"status", job},
                                                  {"get", job, "--timeout", "10"},
                                                  {"wait", job, "--timeout", "10"},
                                                  {"cancel", job}}) {
    CliResult r = As("bob", command);
    EXPECT_EQ(r.exit_code, kExitNoPermission) << command[0] << ": " << r.err;
    EXPECT_THAT(r.err, HasSubstr("submitted by another identity")) << command[0];
    EXPECT_THAT(r.out, Not(HasSubstr("alice-data")));
  }
  CliResult bobs_jobs = As("bob", {"jobs"});
  EXPECT_EQ(bobs_jobs.exit_code, 0) << bobs_jobs.err;
  EXPECT_THAT(bobs_jobs.out, Not(HasSubstr(job)));

  CliResult got = As("alice", {"get", job, "--timeout", "30"});
  EXPECT_EQ(got.exit_code, 0) << got.err;
  EXPECT_THAT(got.out, HasSubstr("alice-data"));
  CliResult status = As("alice", {"status", "-v", job});
  EXPECT_EQ(status.exit_code, 0) << status.err;
  EXPECT_THAT(status.out, HasSubstr("submitted by alice"));
  CliResult alices_jobs = As("alice", {"jobs"});
  EXPECT_THAT(alices_jobs.out, AllOf(HasSubstr(job), HasSubstr("OWNER"), HasSubstr("alice")));
  // An admin sees everyone's.
  CliResult all = As("ops", {"status", job});
  EXPECT_EQ(all.exit_code, 0) << all.err;
}

// Watch, the stream that brings a Pool its results, refuses another
// identity's job while it still runs, not only once it has finished.
TEST_F(AuthTest, AWatchOnAnotherIdentitysRunningJobIsRefused) {
  CliResult submitted = As("alice", {"submit", "sleep", "30"});
  ASSERT_EQ(submitted.exit_code, 0) << submitted.err;
  const std::string job = Trimmed(submitted.out);
  SchedulerClient bob(cluster_->address(), {.security = {.token = "bob-token-0123456789ab"}});
  grpc::ClientContext context;
  std::unique_ptr<SchedulerClient::WatchStream> stream = bob.OpenWatch(&context);
  v1::WatchRequest request;
  request.add_job_ids(job);
  ASSERT_TRUE(stream->Write(request));
  v1::WatchResponse response;
  ASSERT_TRUE(stream->Read(&response));
  ASSERT_EQ(response.results_size(), 1);
  EXPECT_EQ(response.results(0).job_id(), job);
  EXPECT_EQ(response.results(0).error().code(),
            static_cast<int>(absl::StatusCode::kPermissionDenied));
  EXPECT_THAT(response.results(0).error().message(), HasSubstr("another identity"));
  context.TryCancel();
  EXPECT_EQ(stream->Finish().error_code(), grpc::StatusCode::CANCELLED);
  EXPECT_EQ(As("alice", {"cancel", job}).exit_code, 0);
}

TEST_F(AuthTest, AJobCannotTakeAnotherIdentitysResultAsArgument) {
  absl::StatusOr<Pool> alice =
      Pool::Connect(cluster_->address(), {.token = "alice-token-0123456789"});
  ASSERT_TRUE(alice.ok()) << alice.status();
  absl::StatusOr<Pool> bob =
      Pool::Connect(cluster_->address(), {.token = "bob-token-0123456789ab"});
  ASSERT_TRUE(bob.ok()) << bob.status();
  AsyncResult secret = alice->ApplyAsync("echo", {"alice-data"});
  ASSERT_TRUE(secret.Wait(absl::Seconds(30)));
  absl::StatusOr<Value> stolen =
      bob->ApplyAsync("echo", {Value(JobRef{secret.id()})}).Get(absl::Seconds(30));
  EXPECT_EQ(stolen.status().code(), absl::StatusCode::kPermissionDenied) << stolen.status();
  EXPECT_THAT(stolen.status().message(), HasSubstr("another identity"));
  // Alice may build on her own results.
  absl::StatusOr<Value> own = alice->Apply("echo", {Value(JobRef{secret.id()})});
  ASSERT_TRUE(own.ok()) << own.status();
  EXPECT_THAT(own->ToJson(), HasSubstr("alice-data"));
}

TEST_F(AuthTest, TheTokenFileIsReloadedOnSighup) {
  WriteSecret("carol", "carol-token-0123456789");
  EXPECT_EQ(As("carol", {"stats"}).exit_code, kExitNoPermission);
  dir_.Write("tokens",
             "client carol carol-token-0123456789\n"
             "client bob bob-token-0123456789ab\n");
  cluster_->scheduler().Signal(SIGHUP);
  EXPECT_TRUE(Eventually([&] { return As("carol", {"stats"}).exit_code == 0; }, absl::Seconds(10)));
  EXPECT_EQ(As("alice", {"stats"}).exit_code, kExitNoPermission);  // revoked
  // A broken file keeps the tokens in use.
  dir_.Write("tokens", "client carol short\n");
  cluster_->scheduler().Signal(SIGHUP);
  absl::SleepFor(absl::Milliseconds(300));
  EXPECT_EQ(As("carol", {"stats"}).exit_code, 0);
  EXPECT_TRUE(cluster_->scheduler().running());
}

TEST_F(AuthTest, RevokingAWorkerTokenEndsItsNodesStream) {
  absl::StatusOr<Subprocess> node =
      StartNode({"--scheduler", cluster_->address(), "--processes", "1", "--name", "rack1",
                 "--token-file", dir_.File("rack1.token")});
  ASSERT_TRUE(node.ok());
  auto listed = [&] { return As("ops", {"workers"}).out.find("rack1") != std::string::npos; };
  ASSERT_TRUE(Eventually(listed, absl::Seconds(20)));
  dir_.Write("tokens", "admin ops ops-token-0123456789abc\n");
  cluster_->scheduler().Signal(SIGHUP);
  EXPECT_TRUE(Eventually([&] { return !listed(); }, absl::Seconds(20)));
  // Its attempts to come back are refused.
  EXPECT_THAT(ReadUntil(*node, "not valid"), HasSubstr("the token is not valid"));
}

TEST_F(AuthTest, UnfinishedJobsPerClientAreLimited) {
  cluster_.reset();
  StartCluster({"--max-pending-per-client", "2"});
  std::vector<std::string> ids;
  for (int i = 0; i < 2; ++i) {
    CliResult r = As("alice", {"submit", "sleep", "30"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    ids.push_back(Trimmed(r.out));
  }
  CliResult refused = As("alice", {"submit", "sleep", "30"});
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_THAT(refused.err, AllOf(HasSubstr("alice has 2 unfinished jobs"),
                                 HasSubstr("--max-pending-per-client")));
  // Nothing accepted is lost, and another client is not held back.
  for (const std::string& id : ids) {
    CliResult status = As("alice", {"status", id});
    EXPECT_THAT(status.out, AnyOf(HasSubstr("RUNNING"), HasSubstr("PENDING"))) << status.err;
  }
  EXPECT_EQ(As("bob", {"submit", "echo", "b"}).exit_code, 0);
  // Once one is done, alice may submit again.
  ASSERT_EQ(As("alice", {"cancel", ids[0]}).exit_code, 0);
  EXPECT_EQ(As("alice", {"submit", "echo", "z"}).exit_code, 0);
  As("alice", {"cancel", ids[1]});
}

TEST_F(AuthTest, ASecondNodeCannotTakeALiveNodesName) {
  absl::StatusOr<Subprocess> impostor =
      StartNode({"--scheduler", cluster_->address(), "--processes", "1", "--name", "node0"});
  ASSERT_TRUE(impostor.ok());
  EXPECT_THAT(ReadUntil(*impostor, "already connected"), HasSubstr("already connected"));
  CliResult workers = As("ops", {"workers"});
  EXPECT_EQ(workers.out.find("node0"), workers.out.rfind("node0")) << workers.out;
  // The real node0 still runs jobs.
  const std::string job = SubmitAs("alice", "still-served");
  CliResult got = As("alice", {"get", job, "--timeout", "30"});
  EXPECT_EQ(got.exit_code, 0) << got.err;
  EXPECT_THAT(got.out, HasSubstr("still-served"));
}

TEST_F(AuthTest, AWorkerCredentialNamesItsNode) {
  absl::StatusOr<Subprocess> rogue =
      StartNode({"--scheduler", cluster_->address(), "--processes", "1", "--name", "node0",
                 "--token-file", dir_.File("rack1.token")});
  ASSERT_TRUE(rogue.ok());
  EXPECT_THAT(ReadUntil(*rogue, "does not belong"),
              HasSubstr("node name \"node0\" does not belong to credential \"rack1\""));
  // Under its own name it joins.
  absl::StatusOr<Subprocess> own =
      Subprocess::Start({WorkerPath(), "--scheduler", cluster_->address(), "--processes", "1",
                         "--token-file", dir_.File("rack1.token")});
  ASSERT_TRUE(own.ok());
  CliResult workers;
  Eventually(
      [&] {
        workers = As("ops", {"workers"});
        return workers.out.find("rack1/") != std::string::npos;
      },
      absl::Seconds(20));
  EXPECT_THAT(workers.out, HasSubstr("rack1/"));
}

TEST(AuthSetup, ATokenFileOthersCanReadIsRefused) {
  ScratchDir dir;
  dir.Write("tokens", "admin ops ops-token-0123456789abc\n", 0644);
  CliResult r = RunProgram({NetpooldPath(), "--listen", "127.0.0.1:0", "--store", "memory",
                            "--token-file", dir.File("tokens")});
  EXPECT_EQ(r.exit_code, kExitUsage);
  EXPECT_THAT(r.err, HasSubstr("chmod 600"));
}

TEST(AuthSetup, ANameThatOnlyLooksLoopbackIsRefused) {
  for (const char* listen : {"127.example.com:0", "0.0.0.0:0"}) {
    CliResult r = RunProgram({NetpooldPath(), "--listen", listen, "--store", "memory"});
    EXPECT_EQ(r.exit_code, kExitUsage) << listen;
    EXPECT_THAT(r.err, HasSubstr("not loopback")) << listen;
  }
}

TEST(AuthSetup, BeyondLoopbackTlsWithoutTokensIsNotEnough) {
  ScratchDir dir;
  dir.Write("server.pem", "unused", 0644);
  dir.Write("server.key", "unused");
  CliResult r =
      RunProgram({NetpooldPath(), "--listen", "0.0.0.0:0", "--store", "memory", "--tls-cert",
                  dir.File("server.pem"), "--tls-key", dir.File("server.key")});
  EXPECT_EQ(r.exit_code, kExitUsage);
  EXPECT_THAT(r.err, HasSubstr("--token-file"));
}

TEST(AuthSetup, InsecureBeyondLoopbackWarnsAtEveryStart) {
  for (int start = 0; start < 2; ++start) {
    absl::StatusOr<Subprocess> daemon = Subprocess::Start(
        {NetpooldPath(), "--listen", "0.0.0.0:0", "--store", "memory", "--insecure"},
        {.pipe_stdout = true, .pipe_stderr = true});
    ASSERT_TRUE(daemon.ok());
    ASSERT_TRUE(daemon->ReadLine(absl::Seconds(30)).ok());
    daemon->Signal(SIGTERM);
    std::string out, err;
    ASSERT_TRUE(daemon->Communicate(absl::Seconds(30), &out, &err).ok());
    EXPECT_THAT(err,
                AllOf(HasSubstr("warning"), HasSubstr("--insecure"), HasSubstr("without TLS")));
  }
}

TEST(AuthSetup, TheDataDirectoryIsItsUsersAlone) {
  ScratchDir dir;
  const std::string data = dir.File("data");
  // Made by someone else's umask, world-readable: netpoold closes it up.
  ASSERT_EQ(::mkdir(data.c_str(), 0755), 0);
  dir.Write("data/stray", "x", 0644);
  absl::StatusOr<Subprocess> daemon = Subprocess::Start(
      {NetpooldPath(), "--listen", "127.0.0.1:0", "--data", data}, {.pipe_stdout = true});
  ASSERT_TRUE(daemon.ok());
  ASSERT_TRUE(daemon->ReadLine(absl::Seconds(30)).ok());
  EXPECT_EQ(FileMode(data), 0700u);
  for (const char* file : {"netpool.db", "netpool.db-wal", "admin.token", "stray"}) {
    EXPECT_EQ(FileMode(data + "/" + file), 0600u) << file;
  }
}

TEST(AuthSetup, TheOwnersTokenSurvivesARestartOfADurableScheduler) {
  auto cluster = TestCluster::Start({.workers = 0, .durable = true});
  ASSERT_TRUE(cluster.ok()) << cluster.status();
  std::ifstream file((*cluster)->data_dir() + "/admin.token");
  std::string before;
  std::getline(file, before);
  ASSERT_TRUE((*cluster)->RestartScheduler().ok());
  std::ifstream again((*cluster)->data_dir() + "/admin.token");
  std::string after;
  std::getline(again, after);
  EXPECT_EQ(before, after);
  EXPECT_EQ((*cluster)->RunCli({"stats"}).exit_code, 0);
}

TEST(AuthSetup, AnotherLocalUserIsUnauthenticated) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to run a command as nobody";
  auto cluster = TestCluster::Start({.workers = 0});
  ASSERT_TRUE(cluster.ok()) << cluster.status();
  ASSERT_EQ((*cluster)->RunCli({"stats"}).exit_code, 0);  // the owner: no set-up
  ScratchDir bin;
  CliResult r = RunProgram({"/bin/su", "-s", "/bin/sh", "nobody", "-c",
                            absl::StrCat(RunnableByOthers(bin, CliPath()), " --scheduler ",
                                         (*cluster)->address(), " submit exec -- id")});
  EXPECT_EQ(r.exit_code, kExitNoPermission) << r.err;
  EXPECT_THAT(r.err, HasSubstr("no token"));
}

TEST(AuthSetup, TheOwnersTokenGoesToNoSchedulerOfAnotherUser) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to run a scheduler as nobody";
  // nobody took the port while ours was down; our token for it is still on disk.
  ScratchDir bin;
  absl::StatusOr<Subprocess> theirs =
      Subprocess::Start({"/bin/su", "-s", "/bin/sh", "nobody", "-c",
                         absl::StrCat("exec ", RunnableByOthers(bin, NetpooldPath()),
                                      " --listen 127.0.0.1:0 --store memory 2>/dev/null")},
                        {.pipe_stdout = true});
  ASSERT_TRUE(theirs.ok());
  absl::StatusOr<std::string> line = theirs->ReadLine(absl::Seconds(30));
  ASSERT_TRUE(line.ok()) << line.status();
  const std::string address = line->substr(std::string("listening on ").size());
  ScratchDir config;
  const std::string port = address.substr(address.rfind(':') + 1);
  ASSERT_EQ(::mkdir(config.File("netpool").c_str(), 0700), 0);
  ASSERT_EQ(::mkdir(config.File("netpool/tokens").c_str(), 0700), 0);
  config.Write("netpool/tokens/loopback-" + port, "our-secret-0123456789\n");
  CliResult r = RunProgram({CliPath(), "--scheduler", address, "stats"}, "", absl::Seconds(60),
                           {"XDG_CONFIG_HOME=" + config.path()});
  EXPECT_EQ(r.exit_code, kExitNoPermission) << r.err;
  // Not "not valid": no token was sent at all.
  EXPECT_THAT(r.err, HasSubstr("no token"));
  theirs->Signal(SIGTERM);
}

}  // namespace
}  // namespace netpool
