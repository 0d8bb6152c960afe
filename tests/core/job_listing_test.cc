#include "server/core/job_listing.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/store/memory_store.h"
#include "tests/store/store_test_support.h"
#include "tests/support/status_matchers.h"

namespace netpool {
namespace {

using ::netpool::testing::IsOk;
using ::netpool::testing::PendingJob;
using ::testing::ElementsAre;

class JobListingTest : public ::testing::Test {
 protected:
  // Jobs 1..10; the even ones run "other" and carry zone=even.
  void SetUp() override {
    std::vector<Job> jobs;
    for (uint64_t sequence = 1; sequence <= 10; ++sequence) {
      Job job = PendingJob("j" + std::to_string(sequence), sequence);
      if (sequence % 2 == 0) {
        testing::EditSpec(job, [](v1::JobSpec& spec) {
          spec.set_function("other");
          (*spec.mutable_labels())["zone"] = "even";
        });
      }
      jobs.push_back(std::move(job));
    }
    ASSERT_THAT(store_.Insert(std::move(jobs)).status(), IsOk());
  }

  static std::vector<std::string> Ids(const JobPage& page) {
    std::vector<std::string> ids;
    for (const Job& job : page.jobs) ids.emplace_back(job.id());
    return ids;
  }

  MemoryStore store_;
};

TEST_F(JobListingTest, APageIsTheNewestJobsAndSaysWhereTheNextStarts) {
  JobListing listing;
  listing.limit = 3;
  JobPage page = ListJobPage(store_, listing);
  EXPECT_THAT(Ids(page), ElementsAre("j10", "j9", "j8"));
  EXPECT_EQ(page.next_before_job_id, "j8");
  listing.before_sequence = page.next_before_sequence;
  EXPECT_THAT(Ids(ListJobPage(store_, listing)), ElementsAre("j7", "j6", "j5"));
}

TEST_F(JobListingTest, TheLastPageSaysNoOlderJobIsLeft) {
  JobListing listing;
  listing.limit = 3;
  listing.before_sequence = 3;
  JobPage page = ListJobPage(store_, listing);
  EXPECT_THAT(Ids(page), ElementsAre("j2", "j1"));
  EXPECT_EQ(page.next_before_sequence, 0u);
  EXPECT_EQ(page.next_before_job_id, "");
}

TEST_F(JobListingTest, FiltersByFunctionAndLabel) {
  JobListing listing;
  listing.limit = 10;
  listing.function = "other";
  EXPECT_THAT(Ids(ListJobPage(store_, listing)), ElementsAre("j10", "j8", "j6", "j4", "j2"));
  listing.function.clear();
  listing.labels = {{"zone", "even"}};
  listing.before_sequence = 6;
  EXPECT_THAT(Ids(ListJobPage(store_, listing)), ElementsAre("j4", "j2"));
  listing.labels = {{"zone", "odd"}};
  EXPECT_THAT(Ids(ListJobPage(store_, listing)), ElementsAre());
}

// A filter that skips most jobs reads no more than max_visited of them, and
// the page, short of its limit, says where to go on.
TEST_F(JobListingTest, ReadsAtMostMaxVisitedJobsAndSaysWhereToGoOn) {
  JobListing listing;
  listing.limit = 10;
  listing.function = "other";
  listing.max_visited = 4;
  JobPage page = ListJobPage(store_, listing);
  EXPECT_THAT(Ids(page), ElementsAre("j10", "j8"));
  EXPECT_EQ(page.next_before_job_id, "j7");
  listing.before_sequence = page.next_before_sequence;
  EXPECT_THAT(Ids(ListJobPage(store_, listing)), ElementsAre("j6", "j4"));
}

}  // namespace
}  // namespace netpool
