#include "server/core/scheduler.h"

#include <memory>

#include "absl/strings/str_cat.h"
#include "common/packed_chunk.h"
#include "common/worker_protocol.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "netpool/v1/worker.pb.h"
#include "server/store/memory_store.h"
#include "tests/support/status_matchers.h"

namespace netpool {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::SizeIs;

// Records what the scheduler tells the outside world.
class RecordingListener : public SchedulerListener {
 public:
  void OnAssign(WorkerId worker, std::vector<v1::Assignment> assignments) override {
    for (v1::Assignment& assignment : assignments) assigned.push_back({worker, assignment});
    batches.push_back({worker, static_cast<int>(assignments.size())});
  }
  void OnCancelRunning(WorkerId worker, const std::string& job_id) override {
    kill_requests.push_back({worker, job_id});
  }
  void OnFinished(const Job& job, uint64_t write) override { finished.push_back(job.result()); }
  void OnWorkerLost(WorkerId worker) override { lost.push_back(worker); }

  std::vector<std::string> AssignedIds(WorkerId worker) const {
    std::vector<std::string> ids;
    for (const auto& [w, a] : assigned) {
      if (w == worker) ids.push_back(a.job_id());
    }
    return ids;
  }

  std::vector<std::pair<WorkerId, v1::Assignment>> assigned;
  // Each OnAssign call: the node and how many jobs it carried.
  std::vector<std::pair<WorkerId, int>> batches;
  std::vector<std::pair<WorkerId, std::string>> kill_requests;
  std::vector<v1::JobResult> finished;
  std::vector<WorkerId> lost;
};

v1::JobSpec Spec(std::string fn, std::string id) {
  v1::JobSpec spec;
  spec.set_function(std::move(fn));
  spec.set_job_id(std::move(id));
  return spec;
}

v1::JobSpec LabelledSpec(std::string fn, std::string id, const JobQueue::Labels& labels) {
  v1::JobSpec spec = Spec(std::move(fn), std::move(id));
  spec.mutable_labels()->insert(labels.begin(), labels.end());
  return spec;
}

v1::JobResult Failure(const std::string& id, std::string message, bool worker_failure = false) {
  v1::JobResult result;
  result.set_job_id(id);
  result.set_state(v1::FAILED);
  result.mutable_error()->set_code(static_cast<int>(absl::StatusCode::kInternal));
  result.mutable_error()->set_message(std::move(message));
  result.set_worker_failure(worker_failure);
  return result;
}

v1::Value Ref(const std::string& id) {
  v1::Value value;
  value.set_job_ref(id);
  return value;
}

v1::Value Int(int64_t i) {
  v1::Value value;
  value.set_int_value(i);
  return value;
}

v1::JobResult Success(const std::string& id, int64_t value) {
  v1::JobResult result;
  result.set_job_id(id);
  result.set_state(v1::SUCCEEDED);
  result.mutable_value()->set_int_value(value);
  return result;
}

// A MemoryStore whose writes fail once told to, as on a full disk. The first
// failure turns health() non-OK until Heal(), as the durable store's does.
class FailableStore final : public Store {
 public:
  // Writes fail from now on with `error`, which health() then returns.
  void FailWrites(absl::Status error = absl::ResourceExhaustedError("disk full")) {
    failing_ = true;
    error_ = std::move(error);
  }
  void Heal() {
    failing_ = false;
    health_ = absl::OkStatus();
  }

  // Reads fail from now on with `error` (writes go on).
  void FailReads(absl::Status error = absl::DataLossError("unreadable")) {
    read_error_ = std::move(error);
  }

  absl::StatusOr<std::vector<Job*>> Insert(std::vector<Job> jobs) override {
    if (failing_) return Fail();
    return store_.Insert(std::move(jobs));
  }
  Job* FindLive(absl::string_view job_id) override {
    ++id_lookups;
    return store_.FindLive(job_id);
  }
  absl::StatusOr<std::optional<Job>> Lookup(absl::string_view job_id) override {
    ++id_lookups;
    if (!read_error_.ok()) return read_error_;
    return store_.Lookup(job_id);
  }
  absl::StatusOr<std::optional<std::string>> FindByIdempotencyKey(
      absl::string_view key) override {
    if (!read_error_.ok()) return read_error_;
    return store_.FindByIdempotencyKey(key);
  }
  absl::Status Update(const Job& job) override {
    if (failing_) return Fail();
    return store_.Update(job);
  }
  absl::Status MarkFetched(absl::string_view job_id) override {
    if (failing_) return Fail();
    return store_.MarkFetched(job_id);
  }
  int64_t EraseFetchedBefore(absl::Time cutoff) override {
    return store_.EraseFetchedBefore(cutoff);
  }
  void ForEach(const std::function<bool(const Job&)>& visit) override { store_.ForEach(visit); }
  void ForEachNewestFirst(uint64_t before_sequence,
                          const std::function<bool(const Job&)>& visit) override {
    store_.ForEachNewestFirst(before_sequence, visit);
  }
  void ForEachUnfinished(const std::function<void(Job&)>& visit) override {
    store_.ForEachUnfinished(visit);
  }
  FinishedCounts CountFinished() override { return store_.CountFinished(); }
  uint64_t MaxSequence() override { return store_.MaxSequence(); }
  size_t size() const override { return store_.size(); }
  uint64_t last_write() const override { return store_.last_write(); }
  uint64_t durable_write() const override { return store_.durable_write(); }
  absl::Status health() const override { return health_; }
  // FindLive and Lookup calls so far.
  int id_lookups = 0;
  absl::Status WaitDurable(uint64_t write) override { return health_; }
  void SetDurableListener(std::function<void(uint64_t)> listener) override {}

 private:
  absl::Status Fail() {
    health_ = error_;
    return health_;
  }

  MemoryStore store_;
  absl::Status read_error_;
  bool failing_ = false;
  absl::Status error_;
  absl::Status health_;
};

// A copy of the job the scheduler holds (a default Job, and a test
// failure, if it holds none).
Job Found(const Scheduler& scheduler, const std::string& id) {
  absl::StatusOr<std::optional<Job>> job = scheduler.FindJob(id);
  EXPECT_TRUE(job.ok()) << job.status();
  EXPECT_TRUE(job.ok() && job->has_value()) << "no job " << id;
  return job.ok() && job->has_value() ? **job : Job();
}

// Whether the scheduler holds the job.
bool Held(const Scheduler& scheduler, const std::string& id) {
  absl::StatusOr<std::optional<Job>> job = scheduler.FindJob(id);
  EXPECT_TRUE(job.ok()) << job.status();
  return job.ok() && job->has_value();
}

class SchedulerTest : public ::testing::Test {
 protected:
  WorkerId Connect(std::string name, int slots, std::vector<std::string> functions = {"f"},
                   JobQueue::Labels labels = {}) {
    WorkerId id = scheduler_.AddWorker({.name = std::move(name),
                                        .slots = slots,
                                        .functions = std::move(functions),
                                        .labels = std::move(labels)});
    scheduler_.AddCredits(id, slots);
    return id;
  }
  Job JobOf(const std::string& id) { return Found(scheduler_, id); }

  FakeClock clock_;
  FailableStore store_;
  RecordingListener listener_;
  SchedulerOptions options_{.default_max_attempts = 2,
                            .default_retry_backoff = absl::Seconds(1),
                            .max_retry_backoff = absl::Seconds(60),
                            .lease_timeout = absl::Seconds(15),
                            // SchedulerRunOnceTest has its own.
                            .restart_grace = absl::ZeroDuration(),
                            .result_ttl = absl::Hours(1),
                            .random_seed = 42};
  Scheduler scheduler_{&clock_, &store_, &listener_, options_};
};

TEST_F(SchedulerTest, JobsWaitUntilAWorkerHasCredits) {
  ASSERT_TRUE(scheduler_.Submit({Spec("f", "a"), Spec("f", "b")}).ok());
  EXPECT_THAT(listener_.assigned, IsEmpty());
  EXPECT_EQ(JobOf("a").state, v1::PENDING);

  WorkerId w = Connect("node1", 1);
  EXPECT_THAT(listener_.AssignedIds(w), ElementsAre("a"));
  EXPECT_EQ(JobOf("a").state, v1::RUNNING);
  EXPECT_EQ(JobOf("a").attempt, 1);
  EXPECT_EQ(JobOf("b").state, v1::PENDING);

  scheduler_.ReportResult(w, Success("a", 7));
  EXPECT_THAT(listener_.AssignedIds(w), ElementsAre("a"));  // no credit yet
  scheduler_.AddCredits(w, 1);
  EXPECT_THAT(listener_.AssignedIds(w), ElementsAre("a", "b"));
}

TEST_F(SchedulerTest, ResultFinishesTheJobOnce) {
  WorkerId w = Connect("node1", 1);
  ASSERT_TRUE(scheduler_.Submit({Spec("f", "a")}).ok());
  clock_.Advance(absl::Seconds(3));
  scheduler_.ReportResult(w, Success("a", 7));
  scheduler_.ReportResult(w, Success("a", 8));  // duplicate: ignored
  ASSERT_THAT(listener_.finished, SizeIs(1));
  EXPECT_EQ(listener_.finished[0].state(), v1::SUCCEEDED);
  EXPECT_EQ(JobOf("a").result().value().int_value(), 7);
  EXPECT_EQ(JobOf("a").finished - JobOf("a").started, absl::Seconds(3));
  EXPECT_EQ(scheduler_.Stats().succeeded, 1);
  EXPECT_EQ(scheduler_.Stats().running, 0);
}

TEST_F(SchedulerTest, AssignsOnlyToWorkersThatHaveTheFunction) {
  WorkerId plain = Connect("plain", 4, {"echo"});
  WorkerId imaging = Connect("imaging", 4, {"echo", "crunch_image"});
  ASSERT_TRUE(scheduler_.Submit({Spec("crunch_image", "c1"), Spec("crunch_image", "c2")}).ok());
  EXPECT_THAT(listener_.AssignedIds(plain), IsEmpty());
  EXPECT_THAT(listener_.AssignedIds(imaging), ElementsAre("c1", "c2"));
}

TEST_F(SchedulerTest, LabelledJobWaitsForANodeWithItsLabels) {
  WorkerId plain = Connect("plain", 2);
  WorkerId other_gpu = Connect("other-gpu", 2, {"f"}, {{"gpu", "2"}});
  ASSERT_TRUE(
      scheduler_.Submit({LabelledSpec("f", "gpu-job", {{"gpu", "1"}}), Spec("f", "any")}).ok());
  EXPECT_THAT(listener_.AssignedIds(plain), ElementsAre("any"));
  EXPECT_EQ(JobOf("gpu-job").state, v1::PENDING);

  // Time passing changes nothing while no node has the label.
  for (int i = 0; i < 3; ++i) {
    clock_.Advance(absl::Seconds(10));
    scheduler_.Heartbeat(plain);
    scheduler_.Heartbeat(other_gpu);
    scheduler_.Tick();
  }
  EXPECT_EQ(JobOf("gpu-job").state, v1::PENDING);
  EXPECT_THAT(listener_.AssignedIds(other_gpu), IsEmpty());

  WorkerId gpu = Connect("gpu", 1, {"f"}, {{"gpu", "1"}, {"zone", "eu"}});
  EXPECT_THAT(listener_.AssignedIds(gpu), ElementsAre("gpu-job"));
  EXPECT_EQ(JobOf("gpu-job").state, v1::RUNNING);
  EXPECT_EQ(JobOf("gpu-job").worker_name(), "gpu");
}

TEST_F(SchedulerTest, LabelsNoNodeHasAreAcceptedButAnUnknownFunctionIsNot) {
  Connect("n1", 1, {"echo"});
  EXPECT_TRUE(scheduler_.Submit({LabelledSpec("echo", "a", {{"gpu", "1"}})}).ok());
  EXPECT_EQ(JobOf("a").state, v1::PENDING);
  EXPECT_EQ(scheduler_.Submit({LabelledSpec("nope", "b", {{"gpu", "1"}})}).status().code(),
            absl::StatusCode::kNotFound);
}

TEST_F(SchedulerTest, BadLabelsAreRejected) {
  absl::StatusOr<std::vector<std::string>> ids =
      scheduler_.Submit({LabelledSpec("f", "a", {{"has space", "1"}})});
  EXPECT_EQ(ids.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(ids.status().message()), ::testing::HasSubstr("labels"));
  EXPECT_FALSE(Held(scheduler_, "a"));
}

TEST_F(SchedulerTest, CancelLabelledPendingJob) {
  Connect("plain", 1);
  ASSERT_TRUE(scheduler_.Submit({LabelledSpec("f", "a", {{"gpu", "1"}})}).ok());
  EXPECT_EQ(*scheduler_.Cancel("a"), v1::CANCELLED);
  WorkerId gpu = Connect("gpu", 1, {"f"}, {{"gpu", "1"}});
  EXPECT_THAT(listener_.AssignedIds(gpu), IsEmpty());
  EXPECT_EQ(JobOf("a").state, v1::CANCELLED);
  EXPECT_EQ(scheduler_.Stats().pending, 0);
}

TEST_F(SchedulerTest, RetriedLabelledJobGoesOnlyToANodeWithItsLabels) {
  WorkerId gpu = Connect("gpu", 1, {"f"}, {{"gpu", "1"}});
  v1::JobSpec spec = LabelledSpec("f", "a", {{"gpu", "1"}});
  spec.set_max_attempts(5);
  ASSERT_TRUE(scheduler_.Submit({spec}).ok());
  WorkerId plain = Connect("plain", 1);
  ASSERT_THAT(listener_.AssignedIds(gpu), ElementsAre("a"));
  scheduler_.ReportResult(gpu, Failure("a", "worker process died", /*worker_failure=*/true));
  clock_.Advance(absl::Seconds(60));  // past the backoff
  scheduler_.Heartbeat(plain);
  scheduler_.Heartbeat(gpu);
  scheduler_.Tick();
  EXPECT_THAT(listener_.AssignedIds(plain), IsEmpty());
  EXPECT_EQ(JobOf("a").state, v1::PENDING);
  scheduler_.AddCredits(gpu, 1);
  EXPECT_THAT(listener_.AssignedIds(gpu), ElementsAre("a", "a"));
  EXPECT_EQ(JobOf("a").attempt, 2);

  // A lost node's labelled job waits for another node with the label.
  scheduler_.RemoveWorker(gpu);
  EXPECT_THAT(listener_.AssignedIds(plain), IsEmpty());
  WorkerId gpu2 = Connect("gpu2", 1, {"f"}, {{"gpu", "1"}});
  EXPECT_THAT(listener_.AssignedIds(gpu2), ElementsAre("a"));
}

TEST_F(SchedulerTest, SpreadsJobsOverWorkers) {
  WorkerId w1 = Connect("n1", 2);
  WorkerId w2 = Connect("n2", 2);
  ASSERT_TRUE(scheduler_.Submit({Spec("f", "a"), Spec("f", "b"), Spec("f", "c"), Spec("f", "d")}).ok());
  EXPECT_THAT(listener_.AssignedIds(w1), SizeIs(2));
  EXPECT_THAT(listener_.AssignedIds(w2), SizeIs(2));
}

TEST_F(SchedulerTest, ANodeTakesAsManyJobsAsItHasCreditsInOneMessage) {
  WorkerId w = Connect("n", 4);
  ASSERT_TRUE(scheduler_
                  .Submit({Spec("f", "a"), Spec("f", "b"), Spec("f", "c"), Spec("f", "d"),
                           Spec("f", "e")})
                  .ok());
  EXPECT_THAT(listener_.AssignedIds(w), ElementsAre("a", "b", "c", "d"));
  EXPECT_THAT(listener_.batches, ElementsAre(std::make_pair(w, 4)));
}

TEST_F(SchedulerTest, SingleJobsTakeTurnsOverTheNodes) {
  WorkerId w1 = Connect("n1", 4);
  WorkerId w2 = Connect("n2", 4);
  for (const char* id : {"a", "b", "c"}) ASSERT_TRUE(scheduler_.Submit({Spec("f", id)}).ok());
  EXPECT_THAT(listener_.AssignedIds(w1), ElementsAre("a", "c"));
  EXPECT_THAT(listener_.AssignedIds(w2), ElementsAre("b"));
}

TEST_F(SchedulerTest, DispatchLooksOnlyAtNodesWithFreeCredits) {
  constexpr int kNodes = 1000;
  std::vector<WorkerId> nodes;
  std::vector<v1::JobSpec> jobs;
  for (int i = 0; i < kNodes; ++i) {
    nodes.push_back(Connect(absl::StrCat("n", i), 1));
    jobs.push_back(Spec("f", absl::StrCat("job", i)));
  }
  ASSERT_TRUE(scheduler_.Submit(std::move(jobs)).ok());
  ASSERT_THAT(listener_.assigned, SizeIs(kNodes));

  // Every node is busy: a new job waits, and no node is looked at for it.
  const int64_t visits = scheduler_.work().dispatch_visits;
  ASSERT_TRUE(scheduler_.Submit({Spec("f", "late")}).ok());
  EXPECT_EQ(scheduler_.work().dispatch_visits, visits);
  // One node frees its slot: it alone is looked at, and takes the job.
  scheduler_.ReportResult(nodes[500], Success("job500", 1));
  scheduler_.AddCredits(nodes[500], 1);
  EXPECT_EQ(scheduler_.work().dispatch_visits, visits + 1);
  EXPECT_THAT(listener_.AssignedIds(nodes[500]), ElementsAre("job500", "late"));
}

TEST_F(SchedulerTest, ATickLooksOnlyAtTheLeasesThatEnd) {
  constexpr int kNodes = 1000;
  std::vector<WorkerId> nodes;
  for (int i = 0; i < kNodes; ++i) nodes.push_back(Connect(absl::StrCat("n", i), 1));
  clock_.Advance(absl::Seconds(10));
  for (int i = 1; i < kNodes; ++i) scheduler_.Heartbeat(nodes[i]);
  EXPECT_EQ(scheduler_.NextTick(), clock_.Monotonic() + absl::Seconds(5));

  // No lease ends: a Tick looks at the oldest one only.
  const int64_t checks = scheduler_.work().lease_checks;
  scheduler_.Tick();
  EXPECT_LE(scheduler_.work().lease_checks, checks + 1);
  EXPECT_THAT(listener_.lost, IsEmpty());

  // The one node not heard since loses its lease, and only it is lost.
  // (Ticks come often: a long gap would be a stall, which restarts leases.)
  for (int i = 0; i < 5; ++i) {
    clock_.Advance(absl::Seconds(1));
    scheduler_.Tick();
  }
  EXPECT_THAT(listener_.lost, IsEmpty());
  const int64_t checks_before_expiry = scheduler_.work().lease_checks;
  clock_.Advance(absl::Seconds(1));
  scheduler_.Tick();
  EXPECT_THAT(listener_.lost, ElementsAre(nodes[0]));
  EXPECT_LE(scheduler_.work().lease_checks, checks_before_expiry + 2);
  EXPECT_EQ(scheduler_.NextTick(), clock_.Monotonic() + absl::Seconds(9));
}

TEST_F(SchedulerTest, HigherPriorityRunsFirst) {
  ASSERT_TRUE(scheduler_.Submit({Spec("f", "low")}).ok());
  v1::JobSpec urgent = Spec("f", "urgent");
  urgent.set_priority(10);
  ASSERT_TRUE(scheduler_.Submit({urgent}).ok());
  WorkerId w = Connect("n1", 1);
  EXPECT_THAT(listener_.AssignedIds(w), ElementsAre("urgent"));
}

TEST_F(SchedulerTest, UnknownFunctionIsRejectedWhileWorkersAreConnected) {
  Connect("n1", 1, {"echo"});
  absl::StatusOr<std::vector<std::string>> ids = scheduler_.Submit({Spec("nope", "a")});
  EXPECT_EQ(ids.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(ids.status().message()), ::testing::HasSubstr("unknown function \"nope\""));
  EXPECT_FALSE(Held(scheduler_, "a"));
}

TEST_F(SchedulerTest, AnyFunctionIsAcceptedWhileNoWorkerIsConnected) {
  EXPECT_TRUE(scheduler_.Submit({Spec("later", "a")}).ok());
}

TEST_F(SchedulerTest, SubmitIsAllOrNothing) {
  ASSERT_TRUE(scheduler_.Submit({Spec("f", "a")}).ok());
  absl::StatusOr<std::vector<std::string>> ids = scheduler_.Submit({Spec("f", "b"), Spec("g", "a")});
  EXPECT_EQ(ids.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_FALSE(Held(scheduler_, "b"));
  ids = scheduler_.Submit({Spec("f", "c"), Spec("", "d")});
  EXPECT_EQ(ids.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(ids.status().message()), ::testing::StartsWith("job 1: "));
  EXPECT_FALSE(Held(scheduler_, "c"));
  EXPECT_EQ(scheduler_.Stats().pending, 1);
}

TEST_F(SchedulerTest, GivesIdsToJobsWithoutOne) {
  absl::StatusOr<std::vector<std::string>> ids = scheduler_.Submit({Spec("f", ""), Spec("f", "")});
  ASSERT_TRUE(ids.ok());
  ASSERT_THAT(*ids, SizeIs(2));
  EXPECT_NE((*ids)[0], (*ids)[1]);
  EXPECT_TRUE(Held(scheduler_, (*ids)[0]));
}

TEST_F(SchedulerTest, LostWorkerRequeuesItsRunningJobs) {
  WorkerId doomed = Connect("doomed", 2);
  ASSERT_TRUE(scheduler_.Submit({Spec("f", "a"), Spec("f", "b"), Spec("f", "c")}).ok());
  EXPECT_THAT(listener_.AssignedIds(doomed), ElementsAre("a", "b"));

  scheduler_.RemoveWorker(doomed);
  EXPECT_EQ(JobOf("a").state, v1::PENDING);
  EXPECT_EQ(JobOf("b").state, v1::PENDING);
  EXPECT_THAT(listener_.finished, IsEmpty());

  WorkerId rescuer = Connect("rescuer", 3);
  // The lost jobs keep their place ahead of the never-run one.
  EXPECT_THAT(listener_.AssignedIds(rescuer), ElementsAre("a", "b", "c"));
  EXPECT_EQ(JobOf("a").attempt, 2);
  EXPECT_EQ(JobOf("a").worker_name(), "rescuer");
  // A result from the lost node, should it arrive, is not the job's result.
  scheduler_.ReportResult(doomed, Success("a", 1));
  EXPECT_EQ(JobOf("a").state, v1::RUNNING);
}

TEST_F(SchedulerTest, LostWorkerFailsJobsThatUsedAllTheirAttempts) {
  ASSERT_TRUE(scheduler_.Submit({Spec("f", "a")}).ok());
  for (int i = 0; i < 2; ++i) scheduler_.RemoveWorker(Connect("flaky", 1));
  ASSERT_THAT(listener_.finished, SizeIs(1));
  EXPECT_EQ(listener_.finished[0].state(), v1::FAILED);
  EXPECT_EQ(listener_.finished[0].error().code(), static_cast<int>(absl::StatusCode::kUnavailable));
  EXPECT_THAT(listener_.finished[0].error().message(),
              ::testing::HasSubstr("worker node flaky was lost while running the job (attempt 2 of 2)"));
}

TEST_F(SchedulerTest, CancelPendingJobRemovesItFromTheQueue) {
  ASSERT_TRUE(scheduler_.Submit({Spec("f", "a"), Spec("f", "b")}).ok());
  EXPECT_EQ(*scheduler_.Cancel("a"), v1::CANCELLED);
  WorkerId w = Connect("n", 2);
  EXPECT_THAT(listener_.AssignedIds(w), ElementsAre("b"));
  ASSERT_THAT(listener_.finished, SizeIs(1));
  EXPECT_EQ(listener_.finished[0].state(), v1::CANCELLED);
}

TEST_F(SchedulerTest, CancelRunningJobKillsItsProcessAndIgnoresItsLateResult) {
  WorkerId w = Connect("n", 1);
  ASSERT_TRUE(scheduler_.Submit({Spec("f", "a"), Spec("f", "b")}).ok());
  EXPECT_EQ(*scheduler_.Cancel("a"), v1::CANCELLED);
  ASSERT_THAT(listener_.kill_requests, SizeIs(1));
  EXPECT_EQ(listener_.kill_requests[0].second, "a");
  scheduler_.ReportResult(w, Success("a", 1));
  EXPECT_EQ(JobOf("a").state, v1::CANCELLED);
  // The slot frees when the node says so, not at the cancel.
  EXPECT_THAT(listener_.AssignedIds(w), ElementsAre("a"));
  scheduler_.AddCredits(w, 1);
  EXPECT_THAT(listener_.AssignedIds(w), ElementsAre("a", "b"));
}

TEST_F(SchedulerTest, CancelFinishedOrUnknownJob) {
  WorkerId w = Connect("n", 1);
  ASSERT_TRUE(scheduler_.Submit({Spec("f", "a")}).ok());
  scheduler_.ReportResult(w, Success("a", 1));
  EXPECT_EQ(*scheduler_.Cancel("a"), v1::SUCCEEDED);
  EXPECT_EQ(scheduler_.Cancel("zzz").status().code(), absl::StatusCode::kNotFound);
}

TEST_F(SchedulerTest, ResultFromAnotherWorkerIsIgnored) {
  WorkerId w1 = Connect("n1", 1);
  WorkerId w2 = Connect("n2", 1, {"g"});
  ASSERT_TRUE(scheduler_.Submit({Spec("f", "a")}).ok());
  scheduler_.ReportResult(w2, Success("a", 1));
  EXPECT_EQ(JobOf("a").state, v1::RUNNING);
  scheduler_.ReportResult(w1, Success("a", 2));
  EXPECT_EQ(JobOf("a").result().value().int_value(), 2);
}

TEST_F(SchedulerTest, CreditsNeverExceedFreeSlots) {
  WorkerId w = Connect("n", 1);
  scheduler_.AddCredits(w, 50);  // a confused node
  ASSERT_TRUE(scheduler_.Submit({Spec("f", "a"), Spec("f", "b")}).ok());
  EXPECT_THAT(listener_.AssignedIds(w), ElementsAre("a"));
}

TEST_F(SchedulerTest, APrefetchingNodeHoldsAtMostSlotsPlusPrefetch) {
  WorkerId w = scheduler_.AddWorker({.name = "n", .slots = 1, .prefetch = 2, .functions = {"f"}});
  scheduler_.AddCredits(w, 50);  // more than it may hold
  ASSERT_TRUE(
      scheduler_.Submit({Spec("f", "a"), Spec("f", "b"), Spec("f", "c"), Spec("f", "d")}).ok());
  EXPECT_THAT(listener_.AssignedIds(w), ElementsAre("a", "b", "c"));
  scheduler_.ReportResult(w, Success("a", 1));
  scheduler_.AddCredits(w, 1);
  EXPECT_THAT(listener_.AssignedIds(w), ElementsAre("a", "b", "c", "d"));
}

TEST_F(SchedulerTest, ListsAndCounts) {
  WorkerId w = Connect("n", 1);
  ASSERT_TRUE(scheduler_.Submit({Spec("f", "a"), Spec("f", "b"), Spec("f", "c")}).ok());
  scheduler_.ReportResult(w, Success("a", 1));
  EXPECT_THAT(scheduler_.ListJobs(v1::JOB_STATE_UNSPECIFIED, 10), SizeIs(3));
  EXPECT_THAT(scheduler_.ListJobs(v1::PENDING, 10), SizeIs(2));
  EXPECT_THAT(scheduler_.ListJobs(v1::JOB_STATE_UNSPECIFIED, 1), SizeIs(1));
  SchedulerStats stats = scheduler_.Stats();
  EXPECT_EQ(stats.pending, 2);
  EXPECT_EQ(stats.succeeded, 1);
  EXPECT_EQ(stats.workers, 1);
  EXPECT_EQ(stats.slots, 1);
  ASSERT_THAT(scheduler_.ListWorkers(), SizeIs(1));
  EXPECT_EQ(scheduler_.ListWorkers()[0].jobs_done, 1);
}

TEST_F(SchedulerTest, WorkerFailureIsRetriedAfterABackoff) {
  WorkerId w = Connect("n", 1);
  ASSERT_TRUE(scheduler_.Submit({Spec("f", "a")}).ok());
  scheduler_.ReportResult(w, Failure("a", "worker process died: signal 9 (SIGKILL)", true));
  EXPECT_EQ(JobOf("a").state, v1::PENDING);
  scheduler_.AddCredits(w, 1);
  EXPECT_THAT(listener_.AssignedIds(w), ElementsAre("a"));  // backing off
  const absl::Duration wait = JobOf("a").not_before - clock_.Now();
  EXPECT_GE(wait, absl::Milliseconds(500));  // equal jitter: at least half of 1 s
  EXPECT_LE(wait, absl::Seconds(1));
  EXPECT_EQ(scheduler_.NextTick(), clock_.Monotonic() + wait);
  clock_.Advance(wait);
  scheduler_.Tick();
  EXPECT_THAT(listener_.AssignedIds(w), ElementsAre("a", "a"));
  EXPECT_EQ(JobOf("a").attempt, 2);
  ASSERT_THAT(JobOf("a").attempts, SizeIs(2));
  EXPECT_EQ(JobOf("a").attempts[0].worker, "n");
  EXPECT_THAT(JobOf("a").attempts[0].error.message(), ::testing::HasSubstr("SIGKILL"));
  EXPECT_EQ(JobOf("a").attempts[1].finished, absl::InfinitePast());

  scheduler_.ReportResult(w, Failure("a", "worker process died: signal 11 (SIGSEGV)", true));
  ASSERT_THAT(listener_.finished, SizeIs(1));
  EXPECT_EQ(listener_.finished[0].state(), v1::FAILED);
  EXPECT_EQ(listener_.finished[0].error().message(),
            "worker process died: signal 11 (SIGSEGV) (attempt 2 of 2)");
  EXPECT_FALSE(listener_.finished[0].worker_failure());
}

TEST_F(SchedulerTest, TaskErrorIsRetriedOnlyWhenTheJobAsks) {
  WorkerId w = Connect("n", 2);
  v1::JobSpec retried = Spec("f", "retried");
  retried.set_retry_on_error(true);
  retried.set_max_attempts(3);
  retried.set_retry_backoff_seconds(10);
  ASSERT_TRUE(scheduler_.Submit({Spec("f", "once"), retried}).ok());
  scheduler_.ReportResult(w, Failure("once", "boom"));
  EXPECT_EQ(JobOf("once").state, v1::FAILED);
  EXPECT_EQ(JobOf("once").result().error().message(), "boom");

  scheduler_.ReportResult(w, Failure("retried", "flaky"));
  EXPECT_EQ(JobOf("retried").state, v1::PENDING);
  EXPECT_GE(JobOf("retried").not_before - clock_.Now(), absl::Seconds(5));
  clock_.Advance(absl::Seconds(10));
  scheduler_.Tick();
  scheduler_.AddCredits(w, 2);
  scheduler_.ReportResult(w, Failure("retried", "flaky"));
  // The second backoff doubles: between 10 and 20 s.
  const absl::Duration second = JobOf("retried").not_before - clock_.Now();
  EXPECT_GE(second, absl::Seconds(10));
  EXPECT_LE(second, absl::Seconds(20));
  clock_.Advance(second);
  scheduler_.Heartbeat(w);
  scheduler_.Tick();
  scheduler_.AddCredits(w, 1);
  scheduler_.ReportResult(w, Success("retried", 3));
  EXPECT_EQ(JobOf("retried").state, v1::SUCCEEDED);
  EXPECT_EQ(JobOf("retried").attempt, 3);
}

TEST_F(SchedulerTest, CancelDuringBackoffEndsTheJob) {
  WorkerId w = Connect("n", 1);
  ASSERT_TRUE(scheduler_.Submit({Spec("f", "a")}).ok());
  scheduler_.ReportResult(w, Failure("a", "died", true));
  EXPECT_EQ(*scheduler_.Cancel("a"), v1::CANCELLED);
  clock_.Advance(absl::Seconds(5));
  scheduler_.Tick();
  scheduler_.AddCredits(w, 1);
  EXPECT_THAT(listener_.AssignedIds(w), ElementsAre("a"));
  EXPECT_EQ(JobOf("a").state, v1::CANCELLED);
}

TEST_F(SchedulerTest, SilentWorkerLosesItsJobsWhenItsLeaseRunsOut) {
  WorkerId silent = Connect("silent", 1);
  WorkerId alive = Connect("alive", 1);
  ASSERT_TRUE(scheduler_.Submit({Spec("f", "a"), Spec("f", "b")}).ok());
  EXPECT_THAT(listener_.AssignedIds(silent), ElementsAre("a"));
  EXPECT_THAT(listener_.AssignedIds(alive), ElementsAre("b"));
  clock_.Advance(absl::Seconds(10));
  scheduler_.Heartbeat(alive);
  scheduler_.ReportResult(alive, Success("b", 1));
  scheduler_.AddCredits(alive, 1);
  clock_.Advance(absl::Seconds(6));
  scheduler_.Tick();
  EXPECT_THAT(listener_.lost, ElementsAre(silent));
  EXPECT_FALSE(scheduler_.HasWorker(silent));
  EXPECT_THAT(listener_.AssignedIds(alive), ElementsAre("b", "a"));
  // Its late result is not the job's.
  scheduler_.ReportResult(silent, Success("a", 99));
  scheduler_.ReportResult(alive, Success("a", 2));
  EXPECT_EQ(JobOf("a").result().value().int_value(), 2);
  EXPECT_THAT(JobOf("a").attempts[0].error.message(), ::testing::HasSubstr("lease expired"));
}

TEST_F(SchedulerTest, IdempotencyKeyReturnsTheSameJob) {
  v1::JobSpec spec = Spec("f", "");
  spec.set_idempotency_key("nightly-2026-11-26");
  absl::StatusOr<std::vector<std::string>> first = scheduler_.Submit({spec});
  ASSERT_TRUE(first.ok());
  absl::StatusOr<std::vector<std::string>> again = scheduler_.Submit({spec, spec});
  ASSERT_TRUE(again.ok());
  EXPECT_THAT(*again, ElementsAre((*first)[0], (*first)[0]));
  EXPECT_EQ(scheduler_.Stats().pending, 1);
}

TEST_F(SchedulerTest, ResentJobWithTheSameIdIsNotAddedTwice) {
  v1::JobSpec spec = Spec("f", "a");
  *spec.add_args() = Int(1);
  ASSERT_TRUE(scheduler_.Submit({spec}).ok());
  absl::StatusOr<std::vector<std::string>> resent = scheduler_.Submit({spec, Spec("f", "b")});
  ASSERT_TRUE(resent.ok());
  EXPECT_THAT(*resent, ElementsAre("a", "b"));
  EXPECT_EQ(scheduler_.Stats().pending, 2);
  *spec.mutable_args(0) = Int(2);
  EXPECT_EQ(scheduler_.Submit({spec}).status().code(), absl::StatusCode::kAlreadyExists);
}

TEST_F(SchedulerTest, SubmitLooksUpEachCallerGivenIdOnce) {
  std::vector<v1::JobSpec> specs;
  for (int i = 0; i < 5; ++i) specs.push_back(Spec("f", absl::StrCat("j", i)));
  store_.id_lookups = 0;
  ASSERT_TRUE(scheduler_.Submit(specs).ok());
  // One look for a clash; the queue gets the records Insert handed back.
  EXPECT_EQ(store_.id_lookups, 5);
  EXPECT_EQ(JobOf("j4").state, v1::PENDING);
}

TEST_F(SchedulerTest, SubmitReturnsTheStoresReadError) {
  ASSERT_TRUE(scheduler_.Submit({Spec("f", "a")}).ok());
  store_.FailReads(absl::DataLossError("unreadable"));
  EXPECT_EQ(scheduler_.Submit({Spec("f", "b")}).status().code(), absl::StatusCode::kDataLoss);
  v1::JobSpec keyed = Spec("f", "");
  keyed.set_idempotency_key("k");
  EXPECT_EQ(scheduler_.Submit({keyed}).status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(scheduler_.Cancel("gone").status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(scheduler_.FindJob("a").status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(scheduler_.Stats().pending, 1);
}

TEST_F(SchedulerTest, AJobKeepsItsSpecAsSubmitted) {
  v1::JobSpec spec = Spec("f", "a");
  *spec.add_args() = Int(3);
  spec.set_priority(4);
  spec.set_max_attempts(7);
  (*spec.mutable_labels())["zone"] = "eu";
  (*spec.mutable_labels())["gpu"] = "1";
  ASSERT_TRUE(scheduler_.Submit({spec}).ok());
  const Job job = JobOf("a");
  EXPECT_EQ(job.id(), "a");
  EXPECT_EQ(job.function(), "f");
  EXPECT_EQ(job.priority, 4);
  EXPECT_EQ(scheduler_.MaxAttempts(job), 7);
  EXPECT_EQ(job.labels(), (JobLabels{{"gpu", "1"}, {"zone", "eu"}}));
  EXPECT_EQ(Job::Serialize(job.DecodeSpec()), Job::Serialize(spec));
  // A job without labels allocates none.
  ASSERT_TRUE(scheduler_.Submit({Spec("f", "b")}).ok());
  EXPECT_EQ(JobOf("b").label_set, nullptr);
  // The owner's jobs share its name.
  ASSERT_TRUE(scheduler_.Submit({Spec("f", "c")}, "carol").ok());
  ASSERT_TRUE(scheduler_.Submit({Spec("f", "d")}, "carol").ok());
  EXPECT_EQ(JobOf("c").owner_name, JobOf("d").owner_name);
  EXPECT_EQ(JobOf("d").owner(), "carol");
}

TEST_F(SchedulerTest, DependentJobRunsWithItsDependencysResult) {
  WorkerId w = Connect("n", 2);
  v1::JobSpec second = Spec("f", "second");
  *second.add_args() = Ref("first");
  *second.add_args() = Int(5);
  ASSERT_TRUE(scheduler_.Submit({Spec("f", "first"), second}).ok());
  EXPECT_THAT(listener_.AssignedIds(w), ElementsAre("first"));
  std::vector<std::string> waiting = scheduler_.WaitingFor(JobOf("second"));
  EXPECT_THAT(waiting, ElementsAre("first"));
  scheduler_.ReportResult(w, Success("first", 42));
  ASSERT_THAT(listener_.AssignedIds(w), ElementsAre("first", "second"));
  const v1::Assignment& assignment = listener_.assigned.back().second;
  ASSERT_EQ(assignment.args_size(), 2);
  EXPECT_EQ(assignment.args(0).int_value(), 42);
  EXPECT_EQ(assignment.args(1).int_value(), 5);
  // The job keeps its arguments as submitted.
  EXPECT_EQ(JobOf("second").DecodeSpec().args(0).job_ref(), "first");
}

TEST_F(SchedulerTest, DependencyOnAFinishedJobIsResolvedAtOnce) {
  WorkerId w = Connect("n", 1);
  ASSERT_TRUE(scheduler_.Submit({Spec("f", "first")}).ok());
  scheduler_.ReportResult(w, Success("first", 7));
  v1::JobSpec second = Spec("f", "second");
  v1::Value list;
  *list.mutable_list_value()->add_items() = Ref("first");
  *second.add_args() = list;
  ASSERT_TRUE(scheduler_.Submit({second}).ok());
  scheduler_.AddCredits(w, 1);
  EXPECT_EQ(listener_.assigned.back().second.args(0).list_value().items(0).int_value(), 7);
}

TEST_F(SchedulerTest, FailedDependencyFailsTheChainOfDependents) {
  WorkerId w = Connect("n", 1);
  v1::JobSpec b = Spec("f", "b");
  *b.add_args() = Ref("a");
  v1::JobSpec c = Spec("f", "c");
  *c.add_args() = Ref("b");
  ASSERT_TRUE(scheduler_.Submit({Spec("f", "a"), b, c}).ok());
  scheduler_.ReportResult(w, Failure("a", "bad input"));
  EXPECT_EQ(JobOf("b").state, v1::FAILED);
  EXPECT_EQ(JobOf("b").result().error().message(), "dependency a failed: bad input");
  EXPECT_EQ(JobOf("c").state, v1::FAILED);
  EXPECT_THAT(JobOf("c").result().error().message(), ::testing::StartsWith("dependency b failed: "));
  EXPECT_THAT(listener_.finished, SizeIs(3));
  EXPECT_EQ(scheduler_.Stats().pending, 0);
  EXPECT_EQ(scheduler_.Stats().failed, 3);

  // Depending on a job that already failed fails at once.
  v1::JobSpec d = Spec("f", "d");
  *d.add_args() = Ref("a");
  ASSERT_TRUE(scheduler_.Submit({d}).ok());
  EXPECT_EQ(JobOf("d").state, v1::FAILED);
}

TEST_F(SchedulerTest, CancelledDependencyFailsItsDependent) {
  v1::JobSpec b = Spec("f", "b");
  *b.add_args() = Ref("a");
  ASSERT_TRUE(scheduler_.Submit({Spec("f", "a"), b}).ok());
  ASSERT_TRUE(scheduler_.Cancel("a").ok());
  EXPECT_EQ(JobOf("b").state, v1::FAILED);
  EXPECT_EQ(JobOf("b").result().error().message(), "dependency a was cancelled: cancelled");
}

// A node of protocol `version` with one slot for "f".
WorkerId ConnectOfProtocol(Scheduler& scheduler, std::string name, uint32_t version) {
  WorkerId id = scheduler.AddWorker(
      {.name = std::move(name), .slots = 1, .functions = {"f"}, .protocol_version = version});
  scheduler.AddCredits(id, 1);
  return id;
}

TEST_F(SchedulerTest, APackedChunkGoesToACurrentNodeAsItCame) {
  WorkerId w = ConnectOfProtocol(scheduler_, "new", kFirstVersionWithPackedChunks);
  v1::JobSpec spec = Spec("f", "packed");
  spec.set_packed_chunk(PackChunk({{1}, {2}}));
  ASSERT_TRUE(scheduler_.Submit({spec}).ok());
  ASSERT_THAT(listener_.AssignedIds(w), ElementsAre("packed"));
  const v1::Assignment& assignment = listener_.assigned.back().second;
  EXPECT_EQ(assignment.packed_chunk(), spec.packed_chunk());
  EXPECT_EQ(assignment.chunk_size(), 0);
}

// An old node ignores packed_chunk: it would run the function once, with no
// arguments, and report that as the chunk's result.
TEST_F(SchedulerTest, AnOldNodeGetsAPackedChunkUnpacked) {
  WorkerId w = ConnectOfProtocol(scheduler_, "old", kFirstVersionWithPackedChunks - 1);
  v1::JobSpec spec = Spec("f", "packed");
  spec.set_packed_chunk(PackChunk({{1}, {2}}));
  ASSERT_TRUE(scheduler_.Submit({spec, Spec("f", "garbage")}).ok());
  ASSERT_THAT(listener_.AssignedIds(w), ElementsAre("packed"));
  const v1::Assignment& assignment = listener_.assigned.back().second;
  EXPECT_TRUE(assignment.packed_chunk().empty());
  ASSERT_EQ(assignment.chunk_size(), 2);
  EXPECT_EQ(assignment.chunk(1).items(0).int_value(), 2);
  // The job keeps its chunk packed, for a current node after a retry.
  EXPECT_EQ(JobOf("packed").DecodeSpec().packed_chunk(), spec.packed_chunk());
}

TEST_F(SchedulerTest, APackedChunkThatDoesNotParseFailsOnlyItsJobOnAnOldNode) {
  WorkerId w = ConnectOfProtocol(scheduler_, "old", kFirstVersionWithPackedChunks - 1);
  v1::JobSpec garbage = Spec("f", "garbage");
  garbage.set_packed_chunk("\xff\xff\xff");
  ASSERT_TRUE(scheduler_.Submit({garbage, Spec("f", "next")}).ok());
  EXPECT_EQ(JobOf("garbage").state, v1::FAILED);
  EXPECT_EQ(JobOf("garbage").result().error().code(),
            static_cast<int>(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(listener_.AssignedIds(w), ElementsAre("next"));
}

TEST_F(SchedulerTest, ADependencyOnAPackedResultGetsTheValueItHolds) {
  WorkerId w = ConnectOfProtocol(scheduler_, "n", kWorkerProtocolVersion);
  v1::JobSpec chunk = Spec("f", "chunk");
  chunk.set_packed_chunk(PackChunk({{1}}));
  v1::JobSpec after = Spec("f", "after");
  *after.add_args() = Ref("chunk");
  v1::JobSpec after_garbage = Spec("f", "after-garbage");
  *after_garbage.add_args() = Ref("garbage");
  ASSERT_TRUE(
      scheduler_.Submit({chunk, Spec("f", "garbage"), after, after_garbage}).ok());
  v1::JobResult packed = Success("chunk", 0);
  packed.clear_value();
  packed.set_packed_value(Int(42).SerializeAsString());
  scheduler_.ReportResult(w, packed);
  v1::JobResult unreadable = Success("garbage", 0);
  unreadable.clear_value();
  unreadable.set_packed_value("\xff\xff\xff");
  scheduler_.AddCredits(w, 1);
  scheduler_.ReportResult(w, unreadable);
  scheduler_.AddCredits(w, 1);
  ASSERT_THAT(listener_.AssignedIds(w), ElementsAre("chunk", "garbage", "after"));
  EXPECT_EQ(listener_.assigned.back().second.args(0).int_value(), 42);
  scheduler_.ReportResult(w, Success("after", 1));
  scheduler_.AddCredits(w, 1);
  EXPECT_THAT(listener_.AssignedIds(w), ElementsAre("chunk", "garbage", "after"));
  EXPECT_EQ(JobOf("after-garbage").state, v1::FAILED);
  EXPECT_EQ(JobOf("after-garbage").result().error().code(),
            static_cast<int>(absl::StatusCode::kFailedPrecondition));
}

TEST_F(SchedulerTest, BadJobRefsAreRejected) {
  v1::JobSpec unknown = Spec("f", "x");
  *unknown.add_args() = Ref("nobody");
  EXPECT_EQ(scheduler_.Submit({unknown}).status().code(), absl::StatusCode::kNotFound);
  v1::JobSpec self = Spec("f", "self");
  *self.add_args() = Ref("self");
  EXPECT_EQ(scheduler_.Submit({self}).status().code(), absl::StatusCode::kInvalidArgument);
  // A job can refer only to jobs submitted before it (no cycles).
  v1::JobSpec early = Spec("f", "early");
  *early.add_args() = Ref("late");
  EXPECT_EQ(scheduler_.Submit({early, Spec("f", "late")}).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_FALSE(Held(scheduler_, "late"));
}

TEST_F(SchedulerTest, DrainingWorkerGetsNoMoreJobs) {
  WorkerId w = Connect("n", 2);
  ASSERT_TRUE(scheduler_.Submit({Spec("f", "a")}).ok());
  scheduler_.SetDraining(w);
  ASSERT_TRUE(scheduler_.Submit({Spec("f", "b")}).ok());
  scheduler_.ReportResult(w, Success("a", 1));
  scheduler_.AddCredits(w, 2);
  EXPECT_THAT(listener_.AssignedIds(w), ElementsAre("a"));
  EXPECT_EQ(JobOf("b").state, v1::PENDING);
}

TEST_F(SchedulerTest, ReconnectingNodeKeepsTheJobsItHolds) {
  WorkerId first = Connect("n", 2);
  ASSERT_TRUE(scheduler_.Submit({Spec("f", "a"), Spec("f", "b"), Spec("f", "c")}).ok());
  scheduler_.ReportResult(first, Success("a", 1));
  scheduler_.RemoveWorker(first);  // stream cut; b went back to the queue
  std::vector<std::string> drop;
  WorkerId second = scheduler_.AddWorker(
      {.name = "n", .slots = 2, .functions = {"f"}, .held_job_ids = {"a", "b", "zzz"}}, &drop);
  EXPECT_THAT(drop, ElementsAre("a", "zzz"));
  EXPECT_EQ(JobOf("b").state, v1::RUNNING);
  EXPECT_EQ(JobOf("b").attempt, 1);
  scheduler_.AddCredits(second, 2);
  EXPECT_THAT(listener_.AssignedIds(second), ElementsAre("c"));
  scheduler_.ReportResult(second, Success("b", 2));
  EXPECT_EQ(JobOf("b").state, v1::SUCCEEDED);
}

TEST_F(SchedulerTest, ReconnectingLabelledNodeTakesBackItsRequeuedLabelledJob) {
  const JobQueue::Labels gpu = {{"gpu", "1"}};
  WorkerId first = Connect("n", 1, {"f"}, gpu);
  v1::JobSpec spec = LabelledSpec("f", "a", gpu);
  spec.set_max_attempts(5);
  ASSERT_TRUE(scheduler_.Submit({spec}).ok());
  scheduler_.RemoveWorker(first);  // stream cut; "a" went back to the queue
  WorkerId second = scheduler_.AddWorker(
      {.name = "n", .slots = 1, .functions = {"f"}, .labels = gpu, .held_job_ids = {"a"}});
  EXPECT_EQ(JobOf("a").state, v1::RUNNING);
  EXPECT_EQ(JobOf("a").worker, second);
  // Taken out of the queue: no other node runs it a second time.
  WorkerId other = Connect("other", 1, {"f"}, gpu);
  EXPECT_THAT(listener_.AssignedIds(other), IsEmpty());
}

TEST_F(SchedulerTest, NodeBackOnANewStreamTakesItsJobsAndTheOldStreamGetsNoMore) {
  WorkerId old_stream = Connect("n", 2);
  ASSERT_TRUE(scheduler_.Submit({Spec("f", "a")}).ok());
  std::vector<std::string> drop;
  WorkerId new_stream = scheduler_.AddWorker(
      {.name = "n", .slots = 2, .functions = {"f"}, .held_job_ids = {"a"}}, &drop);
  EXPECT_THAT(drop, IsEmpty());
  EXPECT_EQ(JobOf("a").worker, new_stream);
  ASSERT_TRUE(scheduler_.Submit({Spec("f", "b")}).ok());
  scheduler_.AddCredits(new_stream, 2);
  EXPECT_THAT(listener_.AssignedIds(old_stream), ElementsAre("a"));
  EXPECT_THAT(listener_.AssignedIds(new_stream), ElementsAre("b"));
  scheduler_.RemoveWorker(old_stream);  // noticed gone at last: "a" is not touched
  EXPECT_EQ(JobOf("a").state, v1::RUNNING);
  EXPECT_EQ(JobOf("a").attempt, 1);
}

TEST_F(SchedulerTest, NodeHoldingAJobThatRanElsewhereSinceStartsANewAttempt) {
  WorkerId a = Connect("a", 1);
  ASSERT_TRUE(scheduler_.Submit({Spec("f", "j")}).ok());
  scheduler_.RemoveWorker(a);
  WorkerId b = Connect("b", 1);
  scheduler_.RemoveWorker(b);  // attempt 2 of 2 lost too... and it fails
  ASSERT_EQ(JobOf("j").state, v1::FAILED);
  // With attempts left, the job waits in the queue and "a" comes back holding it.
  v1::JobSpec spec = Spec("f", "k");
  spec.set_max_attempts(5);
  ASSERT_TRUE(scheduler_.Submit({spec}).ok());
  WorkerId a2 = Connect("a", 1);
  scheduler_.RemoveWorker(a2);
  WorkerId b2 = Connect("b", 1);
  scheduler_.RemoveWorker(b2);
  ASSERT_EQ(JobOf("k").attempt, 2);
  WorkerId a3 =
      scheduler_.AddWorker({.name = "a", .slots = 1, .functions = {"f"}, .held_job_ids = {"k"}});
  EXPECT_EQ(JobOf("k").worker, a3);
  EXPECT_EQ(JobOf("k").attempt, 3);
  ASSERT_THAT(JobOf("k").attempts, SizeIs(3));
  EXPECT_EQ(JobOf("k").attempts[1].worker, "b");
  EXPECT_THAT(JobOf("k").attempts[1].error.message(), ::testing::HasSubstr("was lost"));
  EXPECT_EQ(JobOf("k").attempts[2].worker, "a");
}

TEST_F(SchedulerTest, FetchedResultsAreErasedAfterTheirRetention) {
  WorkerId w = Connect("n", 2);
  ASSERT_TRUE(scheduler_.Submit({Spec("f", "fetched"), Spec("f", "unfetched")}).ok());
  scheduler_.ReportResult(w, Success("fetched", 1));
  scheduler_.ReportResult(w, Success("unfetched", 2));
  scheduler_.MarkFetched("fetched");
  clock_.Advance(absl::Minutes(59));
  scheduler_.Tick();
  EXPECT_TRUE(Held(scheduler_, "fetched"));
  clock_.Advance(absl::Minutes(2));
  scheduler_.Tick();
  EXPECT_FALSE(Held(scheduler_, "fetched"));
  EXPECT_TRUE(Held(scheduler_, "unfetched"));
  EXPECT_EQ(scheduler_.Stats().succeeded, 1);  // counts are of the jobs held
}

// After a restart, the scheduler is rebuilt from the store it left behind.
TEST_F(SchedulerTest, RecoversQueuedRunningAndFinishedJobsFromTheStore) {
  WorkerId w = Connect("n", 1);
  v1::JobSpec dependent = Spec("f", "dependent");
  *dependent.add_args() = Ref("running");
  ASSERT_TRUE(scheduler_.Submit({Spec("f", "done")}).ok());
  scheduler_.ReportResult(w, Success("done", 1));
  scheduler_.AddCredits(w, 1);
  ASSERT_TRUE(scheduler_.Submit({Spec("f", "running"), Spec("f", "queued"), dependent}).ok());
  ASSERT_EQ(JobOf("running").state, v1::RUNNING);

  RecordingListener listener;
  Scheduler restarted(&clock_, &store_, &listener, options_);
  restarted.Recover();
  EXPECT_EQ(restarted.Stats().succeeded, 1);
  EXPECT_EQ(restarted.Stats().running, 1);
  EXPECT_EQ(restarted.Stats().pending, 2);
  EXPECT_THAT(restarted.WaitingFor(Found(restarted, "dependent")), ElementsAre("running"));

  // The node comes back holding "running": it keeps it, and its result counts.
  std::vector<std::string> drop;
  WorkerId back = restarted.AddWorker(
      {.name = "n", .slots = 2, .functions = {"f"}, .held_job_ids = {"running"}}, &drop);
  EXPECT_THAT(drop, IsEmpty());
  restarted.AddCredits(back, 2);
  EXPECT_THAT(listener.AssignedIds(back), ElementsAre("queued"));
  restarted.ReportResult(back, Success("running", 5));
  EXPECT_EQ(Found(restarted, "running").state, v1::SUCCEEDED);
  restarted.AddCredits(back, 1);
  EXPECT_THAT(listener.AssignedIds(back), ElementsAre("queued", "dependent"));
  EXPECT_EQ(listener.assigned.back().second.args(0).int_value(), 5);
  // New jobs do not reuse sequence numbers.
  ASSERT_TRUE(restarted.Submit({Spec("f", "new")}).ok());
  EXPECT_GT(Found(restarted, "new").sequence, Found(restarted, "dependent").sequence);
}

TEST_F(SchedulerTest, RunningJobWhoseNodeNeverComesBackIsRequeued) {
  Connect("n", 1);
  ASSERT_TRUE(scheduler_.Submit({Spec("f", "a")}).ok());
  RecordingListener listener;
  Scheduler restarted(&clock_, &store_, &listener, options_);
  restarted.Recover();
  WorkerId other = restarted.AddWorker({.name = "other", .slots = 1, .functions = {"f"}});
  restarted.AddCredits(other, 1);
  EXPECT_THAT(listener.AssignedIds(other), IsEmpty());  // "a" waits for its node
  clock_.Advance(absl::Seconds(16));
  restarted.Heartbeat(other);
  restarted.Tick();
  // Requeued, and handed out by the same Tick to the node that has room.
  EXPECT_THAT(listener.AssignedIds(other), ElementsAre("a"));
  EXPECT_EQ(Found(restarted, "a").attempt, 2);
  EXPECT_THAT(Found(restarted, "a").attempts[0].error.message(),
              ::testing::HasSubstr("did not come back (after a scheduler restart"));
}

}  // namespace
}  // namespace netpool

namespace netpool {
namespace {

using ::netpool::testing::IsOk;
using ::netpool::testing::StatusIs;
using ::testing::HasSubstr;

// Jobs belong to the identity that submitted them.
class SchedulerOwnershipTest : public SchedulerTest {};

TEST_F(SchedulerOwnershipTest, JobsRecordTheirOwnerAndListByIt) {
  ASSERT_THAT(scheduler_.Submit({Spec("f", "a1"), Spec("f", "a2")}, "alice"), IsOk());
  ASSERT_THAT(scheduler_.Submit({Spec("f", "b1")}, "bob"), IsOk());
  EXPECT_EQ(JobOf("a1").owner(), "alice");
  EXPECT_EQ(JobOf("b1").owner(), "bob");
  const std::string alice = "alice";
  EXPECT_THAT(scheduler_.ListJobs(v1::JOB_STATE_UNSPECIFIED, 10, &alice), SizeIs(2));
  EXPECT_THAT(scheduler_.ListJobs(v1::JOB_STATE_UNSPECIFIED, 10), SizeIs(3));
}

TEST_F(SchedulerOwnershipTest, AnotherOwnersJobIdIsTaken) {
  ASSERT_THAT(scheduler_.Submit({Spec("f", "a")}, "alice"), IsOk());
  // Even the very same spec: resending is only for its owner.
  EXPECT_THAT(scheduler_.Submit({Spec("f", "a")}, "bob"),
              StatusIs(absl::StatusCode::kAlreadyExists, HasSubstr("already taken")));
  EXPECT_THAT(scheduler_.Submit({Spec("f", "a")}, "alice"), IsOk());
}

TEST_F(SchedulerOwnershipTest, AnotherOwnersIdempotencyKeyIsRefused) {
  v1::JobSpec spec = Spec("f", "");
  spec.set_idempotency_key("nightly");
  ASSERT_THAT(scheduler_.Submit({spec}, "alice"), IsOk());
  EXPECT_THAT(scheduler_.Submit({spec}, "bob"),
              StatusIs(absl::StatusCode::kAlreadyExists, HasSubstr("another identity")));
}

TEST_F(SchedulerOwnershipTest, AJobCannotTakeAnotherOwnersResultAsArgument) {
  ASSERT_THAT(scheduler_.Submit({Spec("f", "secret")}, "alice"), IsOk());
  v1::JobSpec thief = Spec("f", "thief");
  *thief.add_args() = Ref("secret");
  EXPECT_THAT(scheduler_.Submit({thief}, "bob"),
              StatusIs(absl::StatusCode::kPermissionDenied, HasSubstr("another identity")));
  EXPECT_FALSE(Held(scheduler_, "thief"));
  EXPECT_THAT(scheduler_.Submit({thief}, "alice"), IsOk());
}

TEST_F(SchedulerOwnershipTest, UnfinishedJobsPerOwnerAreLimited) {
  SchedulerOptions options = options_;
  options.max_unfinished_per_owner = 2;
  Scheduler scheduler(&clock_, &store_, &listener_, options);
  WorkerId w = scheduler.AddWorker({.name = "n", .slots = 1, .functions = {"f"}});
  ASSERT_THAT(scheduler.Submit({Spec("f", "a1"), Spec("f", "a2")}, "alice"), IsOk());
  EXPECT_THAT(scheduler.Submit({Spec("f", "a3")}, "alice"),
              StatusIs(absl::StatusCode::kResourceExhausted,
                       AllOf(HasSubstr("alice"), HasSubstr("--max-pending-per-client"))));
  EXPECT_FALSE(Held(scheduler, "a3"));
  // Nothing accepted is lost, and other owners are not held back.
  EXPECT_EQ(Found(scheduler, "a1").state, v1::PENDING);
  EXPECT_THAT(scheduler.Submit({Spec("f", "b1")}, "bob"), IsOk());
  // A resent job is no new job.
  EXPECT_THAT(scheduler.Submit({Spec("f", "a1")}, "alice"), IsOk());
  scheduler.AddCredits(w, 1);
  scheduler.ReportResult(w, Success("a1", 1));
  EXPECT_THAT(scheduler.Submit({Spec("f", "a3")}, "alice"), IsOk());
}

TEST_F(SchedulerOwnershipTest, ASecondProcessCannotTakeALiveNodesName) {
  WorkerInfo real{.name = "n", .slots = 1, .functions = {"f"}, .instance = "real"};
  ASSERT_THAT(scheduler_.CheckNewWorker(real), IsOk());
  WorkerId first = scheduler_.AddWorker(real);
  scheduler_.AddCredits(first, 1);
  ASSERT_THAT(scheduler_.Submit({Spec("f", "a")}), IsOk());
  EXPECT_THAT(listener_.AssignedIds(first), ElementsAre("a"));

  WorkerInfo impostor{.name = "n", .slots = 4, .functions = {"f"}, .held_job_ids = {"a"},
                      .instance = "other"};
  EXPECT_THAT(scheduler_.CheckNewWorker(impostor),
              StatusIs(absl::StatusCode::kAlreadyExists, HasSubstr("already connected")));
  WorkerInfo no_instance{.name = "n", .slots = 1, .functions = {"f"}};
  EXPECT_THAT(scheduler_.CheckNewWorker(no_instance),
              StatusIs(absl::StatusCode::kAlreadyExists, HasSubstr("already connected")));
  // The same process reconnecting takes its old stream's place.
  EXPECT_THAT(scheduler_.CheckNewWorker(real), IsOk());
  // Once the first is gone, the name is free again.
  scheduler_.RemoveWorker(first);
  EXPECT_THAT(scheduler_.CheckNewWorker(impostor), IsOk());
}

TEST_F(SchedulerOwnershipTest, ANodeCannotAdoptAJobThatNeverRanOnIt) {
  WorkerId a = Connect("a", 1);
  v1::JobSpec spec = Spec("f", "j");
  spec.set_max_attempts(5);
  ASSERT_THAT(scheduler_.Submit({spec}), IsOk());
  scheduler_.RemoveWorker(a);  // j back in the queue, last ran on "a"
  std::vector<std::string> drop;
  scheduler_.AddWorker({.name = "rogue", .slots = 1, .functions = {}, .held_job_ids = {"j"}},
                       &drop);
  EXPECT_THAT(drop, ElementsAre("j"));
  EXPECT_EQ(JobOf("j").state, v1::PENDING);
  // Nor a running one after a restart, waiting for its own node.
  RecordingListener listener;
  WorkerId b = Connect("b", 1);
  ASSERT_EQ(JobOf("j").worker, b);
  Scheduler restarted(&clock_, &store_, &listener, options_);
  restarted.Recover();
  drop.clear();
  restarted.AddWorker({.name = "rogue", .slots = 1, .functions = {}, .held_job_ids = {"j"}},
                      &drop);
  EXPECT_THAT(drop, ElementsAre("j"));
  restarted.AddWorker({.name = "b", .slots = 1, .functions = {"f"}, .held_job_ids = {"j"}}, &drop);
  EXPECT_EQ(Found(restarted, "j").worker_name(), "b");
  EXPECT_NE(Found(restarted, "j").worker, kNoWorker);
}

}  // namespace
}  // namespace netpool

namespace netpool {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

// Leases, heartbeats and backoff are measured on the monotonic clock, and a
// lease runs only while the scheduler listens.
class SchedulerTimeTest : public SchedulerTest {
 protected:
  // Time passes with the scheduler awake, ticking as SchedulerRuntime does.
  void Listen(absl::Duration d) {
    for (absl::Duration step = absl::Milliseconds(500); d > absl::ZeroDuration(); d -= step) {
      clock_.Advance(std::min(step, d));
      scheduler_.Tick();
    }
  }
};

TEST_F(SchedulerTimeTest, WallClockStepsExpireNoNode) {
  WorkerId w = Connect("n", 1);
  ASSERT_THAT(scheduler_.Submit({Spec("f", "a")}), IsOk());
  scheduler_.Tick();
  // Used to drop every node: their last heartbeat looked 40 s old.
  clock_.StepWallClock(absl::Seconds(40));
  scheduler_.Tick();
  clock_.StepWallClock(-absl::Hours(2));
  scheduler_.Tick();
  EXPECT_THAT(listener_.lost, IsEmpty());
  EXPECT_EQ(JobOf("a").state, v1::RUNNING);
  EXPECT_EQ(JobOf("a").worker, w);
}

TEST_F(SchedulerTimeTest, ANodesConnectTimeIsWallTimeForPeople) {
  clock_.StepWallClock(absl::Hours(5));
  Connect("n", 1);
  ASSERT_THAT(scheduler_.ListWorkers(), ::testing::SizeIs(1));
  EXPECT_EQ(scheduler_.ListWorkers()[0].connected, clock_.Now());
}

TEST_F(SchedulerTimeTest, RetryBackoffIgnoresAWallClockStepBack) {
  WorkerId w = Connect("n", 1);
  ASSERT_THAT(scheduler_.Submit({Spec("f", "a")}), IsOk());
  scheduler_.ReportResult(w, Failure("a", "process died", /*worker_failure=*/true));
  scheduler_.AddCredits(w, 1);
  clock_.StepWallClock(-absl::Hours(1));
  Listen(absl::Seconds(3));  // past the 1 s backoff and its jitter
  EXPECT_THAT(listener_.AssignedIds(w), ElementsAre("a", "a"));
}

TEST_F(SchedulerTimeTest, AStalledSchedulerExpiresNoNodeBeforeListeningAgain) {
  WorkerId w = Connect("n", 1);
  ASSERT_THAT(scheduler_.Submit({Spec("f", "a")}), IsOk());
  scheduler_.Tick();
  // SIGSTOP for 30 s: the node's heartbeats wait unread meanwhile.
  clock_.Advance(absl::Seconds(30));
  scheduler_.Tick();
  EXPECT_THAT(listener_.lost, IsEmpty());
  scheduler_.Heartbeat(w);  // read after the stall
  Listen(absl::Seconds(14));
  EXPECT_THAT(listener_.lost, IsEmpty());
  EXPECT_EQ(JobOf("a").worker, w);
}

TEST_F(SchedulerTimeTest, ANodeSilentAfterAStallIsLostOneLeaseLater) {
  WorkerId w = Connect("n", 1);
  ASSERT_THAT(scheduler_.Submit({Spec("f", "a")}), IsOk());
  scheduler_.Tick();
  clock_.Advance(absl::Seconds(30));
  scheduler_.Tick();
  Listen(absl::Seconds(14));
  EXPECT_THAT(listener_.lost, IsEmpty());
  Listen(absl::Seconds(2));
  EXPECT_THAT(listener_.lost, ElementsAre(w));
  EXPECT_EQ(JobOf("a").worker, kNoWorker);  // waiting for its node (no other is heard)
}

TEST_F(SchedulerTimeTest, OrphansWaitALeaseOfListeningAfterAStall) {
  Connect("n", 1);
  ASSERT_THAT(scheduler_.Submit({Spec("f", "a")}), IsOk());
  RecordingListener listener;
  Scheduler restarted(&clock_, &store_, &listener, options_);
  restarted.Recover();
  restarted.Tick();
  clock_.Advance(absl::Seconds(20));  // past the orphan's lease, but stalled
  restarted.Tick();
  EXPECT_EQ(Found(restarted, "a").state, v1::RUNNING);
  std::vector<std::string> drop;
  WorkerId back = restarted.AddWorker(
      {.name = "n", .slots = 1, .functions = {"f"}, .held_job_ids = {"a"}}, &drop);
  EXPECT_THAT(drop, IsEmpty());
  restarted.ReportResult(back, Success("a", 1));
  EXPECT_EQ(Found(restarted, "a").state, v1::SUCCEEDED);
  EXPECT_EQ(Found(restarted, "a").attempt, 1);
}

// What lets a node that ran a job, and holds its result, keep it: no job
// that finished runs a second time.
class SchedulerRunOnceTest : public SchedulerTimeTest {};

// A network cut between the scheduler and every node used to requeue their
// jobs, and the first node back took the others' jobs: all of those that
// finished during the cut ran twice.
TEST_F(SchedulerRunOnceTest, JobsOfNodesThatAllFellSilentWaitForTheirNodes) {
  WorkerId a = Connect("a", 1);
  WorkerId b = Connect("b", 1);
  ASSERT_THAT(scheduler_.Submit({Spec("f", "on-a"), Spec("f", "on-b")}), IsOk());
  ASSERT_EQ(JobOf("on-a").worker, a);
  ASSERT_EQ(JobOf("on-b").worker, b);
  Listen(absl::Seconds(16));
  EXPECT_THAT(listener_.lost, ::testing::UnorderedElementsAre(a, b));
  EXPECT_EQ(JobOf("on-a").state, v1::RUNNING);
  EXPECT_EQ(JobOf("on-b").state, v1::RUNNING);

  // b is back first, and does not get a's job; a comes back holding it.
  std::vector<std::string> drop;
  WorkerId b2 = scheduler_.AddWorker(
      {.name = "b", .slots = 1, .functions = {"f"}, .held_job_ids = {"on-b"}}, &drop);
  scheduler_.AddCredits(b2, 1);
  EXPECT_THAT(listener_.AssignedIds(b2), IsEmpty());
  Listen(absl::Seconds(5));
  WorkerId a2 = scheduler_.AddWorker(
      {.name = "a", .slots = 1, .functions = {"f"}, .held_job_ids = {"on-a"}}, &drop);
  EXPECT_THAT(drop, IsEmpty());
  scheduler_.ReportResult(a2, Success("on-a", 1));
  scheduler_.ReportResult(b2, Success("on-b", 2));
  EXPECT_EQ(JobOf("on-a").state, v1::SUCCEEDED);
  EXPECT_EQ(JobOf("on-b").state, v1::SUCCEEDED);
  EXPECT_EQ(JobOf("on-a").attempt, 1);
  EXPECT_EQ(JobOf("on-b").attempt, 1);
}

// The leases of nodes cut off together end moments apart: the first one's
// jobs used to go to the second, which ran them too once the network came
// back.
TEST_F(SchedulerRunOnceTest, ANodeNotHeardForHalfALeaseDoesNotTakeALostNodesJobs) {
  WorkerId a = Connect("a", 1);
  WorkerId b = Connect("b", 2);
  ASSERT_THAT(scheduler_.Submit({Spec("f", "on-a"), Spec("f", "on-b")}), IsOk());
  ASSERT_EQ(JobOf("on-a").worker, a);
  Listen(absl::Milliseconds(500));
  scheduler_.Heartbeat(b);  // b's lease ends half a second after a's
  Listen(absl::Seconds(15));
  EXPECT_THAT(listener_.lost, ElementsAre(a));
  EXPECT_THAT(listener_.AssignedIds(b), ElementsAre("on-b"));
  EXPECT_EQ(JobOf("on-a").worker, kNoWorker);
  EXPECT_EQ(JobOf("on-a").state, v1::RUNNING);
}

TEST_F(SchedulerRunOnceTest, ASilentNodesJobsGoElsewhereOnceAnotherNodeWasBackForALease) {
  WorkerId a = Connect("a", 1);
  ASSERT_THAT(scheduler_.Submit({Spec("f", "on-a")}), IsOk());
  ASSERT_EQ(JobOf("on-a").worker, a);
  Listen(absl::Seconds(16));
  EXPECT_THAT(listener_.lost, ElementsAre(a));
  WorkerId b = Connect("b", 1);
  Listen(absl::Seconds(14));
  EXPECT_THAT(listener_.AssignedIds(b), IsEmpty());
  scheduler_.Heartbeat(b);
  Listen(absl::Seconds(2));
  scheduler_.Heartbeat(b);
  Listen(absl::Seconds(1));
  EXPECT_THAT(listener_.AssignedIds(b), ElementsAre("on-a"));
  EXPECT_EQ(JobOf("on-a").attempt, 2);
}

TEST_F(SchedulerRunOnceTest, ASilentNodesJobsGoToANodeStillHeardAtOnce) {
  WorkerId silent = Connect("silent", 1);
  WorkerId alive = Connect("alive", 1);
  ASSERT_THAT(scheduler_.Submit({Spec("f", "a"), Spec("f", "b")}), IsOk());
  for (int i = 0; i < 4; ++i) {
    Listen(absl::Seconds(4));
    scheduler_.Heartbeat(alive);
  }
  EXPECT_THAT(listener_.lost, ElementsAre(silent));
  scheduler_.ReportResult(alive, Success("b", 1));
  scheduler_.AddCredits(alive, 1);
  EXPECT_THAT(listener_.AssignedIds(alive), ElementsAre("b", "a"));
}

// The scheduler crashed after it handed a job out and before the store had
// that: the job comes back PENDING with no attempt on the node, which
// reconnects holding its result. It used to be dropped and run again.
TEST_F(SchedulerRunOnceTest, AHeldJobTheStoreStillHasAsPendingIsAdopted) {
  ASSERT_THAT(scheduler_.Submit({Spec("f", "a")}), IsOk());
  std::vector<std::string> drop;
  WorkerId w = scheduler_.AddWorker(
      {.name = "n", .slots = 1, .functions = {"f"}, .held_job_ids = {"a"}}, &drop);
  EXPECT_THAT(drop, IsEmpty());
  EXPECT_EQ(JobOf("a").state, v1::RUNNING);
  scheduler_.ReportResult(w, Success("a", 4));
  EXPECT_EQ(JobOf("a").state, v1::SUCCEEDED);
  EXPECT_EQ(JobOf("a").attempt, 1);
}

// The scheduler crashed with a job just handed out to node a; node b comes
// back first. It used to take the job and run it a second time.
TEST_F(SchedulerRunOnceTest, AfterARestartTheFirstNodeBackWaitsForTheOthers) {
  ASSERT_THAT(scheduler_.Submit({Spec("f", "a"), Spec("f", "b")}), IsOk());
  SchedulerOptions options = options_;
  options.restart_grace = absl::Seconds(5);
  RecordingListener listener;
  Scheduler restarted(&clock_, &store_, &listener, options);
  restarted.Recover();
  WorkerId b = restarted.AddWorker({.name = "b", .slots = 2, .functions = {"f"}});
  restarted.AddCredits(b, 2);
  clock_.Advance(absl::Seconds(2));
  restarted.Tick();
  EXPECT_THAT(listener.AssignedIds(b), IsEmpty());
  std::vector<std::string> drop;
  WorkerId a = restarted.AddWorker(
      {.name = "a", .slots = 1, .functions = {"f"}, .held_job_ids = {"a"}}, &drop);
  EXPECT_THAT(drop, IsEmpty());
  EXPECT_EQ(Found(restarted, "a").worker, a);
  EXPECT_EQ(restarted.NextTick(), clock_.Monotonic() + absl::Seconds(3));
  clock_.Advance(absl::Seconds(3));
  restarted.Tick();
  EXPECT_THAT(listener.AssignedIds(b), ElementsAre("b"));
}

TEST_F(SchedulerRunOnceTest, AHeldJobTheNodeCouldNotHaveRunIsDropped) {
  v1::JobSpec gpu = Spec("f", "gpu");
  (*gpu.mutable_labels())["gpu"] = "1";
  ASSERT_THAT(scheduler_.Submit({Spec("g", "other-function"), gpu}), IsOk());
  std::vector<std::string> drop;
  scheduler_.AddWorker(
      {.name = "n", .slots = 1, .functions = {"f"}, .held_job_ids = {"other-function", "gpu"}},
      &drop);
  EXPECT_THAT(drop, ElementsAre("other-function", "gpu"));
  EXPECT_EQ(JobOf("gpu").state, v1::PENDING);
}

TEST_F(SchedulerTest, AStartTheStoreCouldNotRecordIsNotSent) {
  ASSERT_TRUE(scheduler_.Submit({Spec("f", "a"), Spec("f", "b")}).ok());
  store_.FailWrites();
  WorkerId w = Connect("node1", 2);
  EXPECT_THAT(listener_.assigned, IsEmpty());
  EXPECT_EQ(JobOf("a").state, v1::PENDING);
  EXPECT_EQ(JobOf("a").attempt, 0);
  EXPECT_THAT(JobOf("a").attempts, IsEmpty());
  EXPECT_EQ(scheduler_.Stats().pending, 2);
  EXPECT_EQ(scheduler_.Stats().running, 0);

  // Both wait in their places for the store, and for no credit spent.
  store_.Heal();
  scheduler_.Tick();
  EXPECT_THAT(listener_.AssignedIds(w), ElementsAre("a", "b"));
  EXPECT_EQ(JobOf("a").attempt, 1);
}

TEST_F(SchedulerTest, ASubmitWhileTheStoreCannotWriteIsRefusedSayingWhetherThatPasses) {
  Connect("node1", 1);
  store_.FailWrites();
  ASSERT_THAT(scheduler_.Submit({Spec("f", "a")}),
              StatusIs(absl::StatusCode::kResourceExhausted, HasSubstr("disk full")));
  EXPECT_THAT(scheduler_.Submit({Spec("f", "b")}),
              StatusIs(absl::StatusCode::kUnavailable,
                       ::testing::AllOf(HasSubstr("disk full"),
                                        HasSubstr("accepts jobs again once it can"))));

  store_.Heal();
  store_.FailWrites(absl::DataLossError("job x: lost; restart netpoold"));
  ASSERT_THAT(scheduler_.Submit({Spec("f", "c")}),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("lost")));
  EXPECT_THAT(scheduler_.Submit({Spec("f", "d")}),
              StatusIs(absl::StatusCode::kUnavailable,
                       ::testing::AllOf(HasSubstr("restart netpoold"),
                                        ::testing::Not(HasSubstr("again")))));
}

TEST_F(SchedulerTest, AFinishTheStoreCouldNotRecordIsNotAnnounced) {
  WorkerId w = Connect("node1", 1);
  ASSERT_TRUE(scheduler_.Submit({Spec("f", "a")}).ok());
  store_.FailWrites();
  scheduler_.ReportResult(w, Success("a", 7));
  EXPECT_THAT(listener_.finished, IsEmpty());
  // Finished here all the same: this process does not run it again.
  EXPECT_EQ(JobOf("a").state, v1::SUCCEEDED);
  store_.Heal();
  scheduler_.AddCredits(w, 1);
  EXPECT_THAT(listener_.AssignedIds(w), ElementsAre("a"));
}

}  // namespace
}  // namespace netpool
