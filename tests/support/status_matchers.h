// Matchers for absl::Status and absl::StatusOr, in the style of Abseil's own
// (which Debian's Abseil 20220623 does not ship):
//
//   EXPECT_THAT(table.status(), IsOk());
//   EXPECT_THAT(Submit(...), StatusIs(absl::StatusCode::kPermissionDenied,
//                                     HasSubstr("another identity")));
#ifndef NETPOOL_TESTS_SUPPORT_STATUS_MATCHERS_H_
#define NETPOOL_TESTS_SUPPORT_STATUS_MATCHERS_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "gmock/gmock.h"

namespace netpool::testing {

inline const absl::Status& GetStatus(const absl::Status& status) { return status; }
template <typename T>
const absl::Status& GetStatus(const absl::StatusOr<T>& status_or) {
  return status_or.status();
}

MATCHER(IsOk, "is OK") {
  const absl::Status& status = GetStatus(arg);
  if (!status.ok()) *result_listener << "which is " << status;
  return status.ok();
}

MATCHER_P2(StatusIs, code, message_matcher,
           "has code " + absl::StatusCodeToString(code) + " and a message that " +
               ::testing::DescribeMatcher<std::string>(message_matcher)) {
  const absl::Status& status = GetStatus(arg);
  *result_listener << "which is " << status;
  return status.code() == code &&
         ::testing::Matches(message_matcher)(std::string(status.message()));
}

}  // namespace netpool::testing

#endif  // NETPOOL_TESTS_SUPPORT_STATUS_MATCHERS_H_
