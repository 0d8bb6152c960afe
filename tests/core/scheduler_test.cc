#include "server/core/scheduler.h"

#include <memory>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/store/memory_store.h"

namespace netpool {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::SizeIs;

// Records what the scheduler tells the outside world.
class RecordingListener : public SchedulerListener {
 public:
  void OnAssign(WorkerId worker, const v1::Assignment& assignment) override {
    assigned.push_back({worker, assignment});
  }
  void OnCancelRunning(WorkerId worker, const std::string& job_id) override {
    kill_requests.push_back({worker, job_id});
  }
  void OnFinished(const Job& job) override { finished.push_back(job.result); }

  std::vector<std::string> AssignedIds(WorkerId worker) const {
    std::vector<std::string> ids;
    for (const auto& [w, a] : assigned) {
      if (w == worker) ids.push_back(a.job_id());
    }
    return ids;
  }

  std::vector<std::pair<WorkerId, v1::Assignment>> assigned;
  std::vector<std::pair<WorkerId, std::string>> kill_requests;
  std::vector<v1::JobResult> finished;
};

v1::JobSpec Spec(std::string fn, std::string id) {
  v1::JobSpec spec;
  spec.set_function(std::move(fn));
  spec.set_job_id(std::move(id));
  return spec;
}

v1::JobResult Success(const std::string& id, int64_t value) {
  v1::JobResult result;
  result.set_job_id(id);
  result.set_state(v1::SUCCEEDED);
  result.mutable_value()->set_int_value(value);
  return result;
}

class SchedulerTest : public ::testing::Test {
 protected:
  WorkerId Connect(std::string name, int slots, std::vector<std::string> functions = {"f"}) {
    WorkerId id = scheduler_.AddWorker({std::move(name), slots, std::move(functions), {}});
    scheduler_.AddCredits(id, slots);
    return id;
  }
  const Job& JobOf(const std::string& id) { return *scheduler_.FindJob(id); }

  FakeClock clock_;
  MemoryStore store_;
  RecordingListener listener_;
  Scheduler scheduler_{&clock_, &store_, &listener_, SchedulerOptions{.default_max_attempts = 2}};
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
  EXPECT_EQ(JobOf("a").result.value().int_value(), 7);
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

TEST_F(SchedulerTest, SpreadsJobsOverWorkers) {
  WorkerId w1 = Connect("n1", 2);
  WorkerId w2 = Connect("n2", 2);
  ASSERT_TRUE(scheduler_.Submit({Spec("f", "a"), Spec("f", "b"), Spec("f", "c"), Spec("f", "d")}).ok());
  EXPECT_THAT(listener_.AssignedIds(w1), SizeIs(2));
  EXPECT_THAT(listener_.AssignedIds(w2), SizeIs(2));
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
  EXPECT_EQ(scheduler_.FindJob("a"), nullptr);
}

TEST_F(SchedulerTest, AnyFunctionIsAcceptedWhileNoWorkerIsConnected) {
  EXPECT_TRUE(scheduler_.Submit({Spec("later", "a")}).ok());
}

TEST_F(SchedulerTest, SubmitIsAllOrNothing) {
  ASSERT_TRUE(scheduler_.Submit({Spec("f", "a")}).ok());
  absl::StatusOr<std::vector<std::string>> ids = scheduler_.Submit({Spec("f", "b"), Spec("f", "a")});
  EXPECT_EQ(ids.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(scheduler_.FindJob("b"), nullptr);
  ids = scheduler_.Submit({Spec("f", "c"), Spec("", "d")});
  EXPECT_EQ(ids.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(ids.status().message()), ::testing::StartsWith("job 1: "));
  EXPECT_EQ(scheduler_.FindJob("c"), nullptr);
  EXPECT_EQ(scheduler_.Stats().pending, 1);
}

TEST_F(SchedulerTest, GivesIdsToJobsWithoutOne) {
  absl::StatusOr<std::vector<std::string>> ids = scheduler_.Submit({Spec("f", ""), Spec("f", "")});
  ASSERT_TRUE(ids.ok());
  ASSERT_THAT(*ids, SizeIs(2));
  EXPECT_NE((*ids)[0], (*ids)[1]);
  EXPECT_NE(scheduler_.FindJob((*ids)[0]), nullptr);
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
  EXPECT_EQ(JobOf("a").worker_name, "rescuer");
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
  EXPECT_EQ(JobOf("a").result.value().int_value(), 2);
}

TEST_F(SchedulerTest, CreditsNeverExceedFreeSlots) {
  WorkerId w = Connect("n", 1);
  scheduler_.AddCredits(w, 50);  // a confused node
  ASSERT_TRUE(scheduler_.Submit({Spec("f", "a"), Spec("f", "b")}).ok());
  EXPECT_THAT(listener_.AssignedIds(w), ElementsAre("a"));
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

}  // namespace
}  // namespace netpool
