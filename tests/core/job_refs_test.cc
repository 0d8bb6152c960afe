#include "server/core/job_refs.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "netpool/v1/worker.pb.h"

namespace netpool {
namespace {

using ::testing::ElementsAre;

v1::Value Ref(const std::string& id) {
  v1::Value value;
  value.set_job_ref(id);
  return value;
}

TEST(JobRefs, CollectsDistinctRefsFromArgsChunksListsAndMaps) {
  v1::JobSpec spec;
  *spec.add_args() = Ref("a");
  v1::Value list;
  *list.mutable_list_value()->add_items() = Ref("b");
  *list.mutable_list_value()->add_items() = Ref("a");
  *spec.add_args() = list;
  v1::Value map;
  v1::ValueMapEntry* entry = map.mutable_map_value()->add_entries();
  entry->set_key("k");
  *entry->mutable_value() = Ref("c");
  *spec.add_chunk()->add_items() = map;
  EXPECT_THAT(CollectJobRefs(spec), ElementsAre("a", "b", "c"));
}

TEST(JobRefs, SubstitutesResultsEverywhere) {
  v1::Assignment assignment;
  *assignment.add_args() = Ref("a");
  v1::Value list;
  *list.mutable_list_value()->add_items() = Ref("b");
  *assignment.add_chunk()->add_items() = list;
  absl::Status s = SubstituteJobRefs(
      [](const std::string& id) -> absl::StatusOr<v1::Value> {
        v1::Value v;
        v.set_string_value("result of " + id);
        return v;
      },
      assignment);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(assignment.args(0).string_value(), "result of a");
  EXPECT_EQ(assignment.chunk(0).items(0).list_value().items(0).string_value(), "result of b");
}

TEST(JobRefs, SubstitutionStopsAtTheFirstError) {
  v1::Assignment assignment;
  *assignment.add_args() = Ref("gone");
  absl::Status s = SubstituteJobRefs(
      [](const std::string& id) -> absl::StatusOr<v1::Value> {
        return absl::FailedPreconditionError("dependency " + id + " is no longer kept");
      },
      assignment);
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace netpool
