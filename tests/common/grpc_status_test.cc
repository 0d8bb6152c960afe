#include "common/grpc_status.h"

#include "gtest/gtest.h"

namespace netpool {
namespace {

TEST(GrpcStatus, OkStaysOk) {
  EXPECT_TRUE(ToGrpcStatus(absl::OkStatus()).ok());
  EXPECT_TRUE(FromGrpcStatus(grpc::Status::OK).ok());
}

TEST(GrpcStatus, EveryCodeAndMessageRoundTrip) {
  for (int code = 1; code <= 16; ++code) {
    const absl::Status original(static_cast<absl::StatusCode>(code), "what happened");
    const grpc::Status g = ToGrpcStatus(original);
    EXPECT_EQ(static_cast<int>(g.error_code()), code);
    EXPECT_EQ(g.error_message(), "what happened");
    EXPECT_EQ(FromGrpcStatus(g), original);
  }
}

TEST(GrpcStatus, NamedCodesMatch) {
  EXPECT_EQ(ToGrpcStatus(absl::NotFoundError("x")).error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(FromGrpcStatus(grpc::Status(grpc::StatusCode::UNAVAILABLE, "down")),
            absl::UnavailableError("down"));
}

TEST(GrpcStatus, OutOfRangeCodesBecomeUnknown) {
  // 20: unknown, yet within what grpc::StatusCode can hold.
  EXPECT_EQ(FromGrpcStatus(grpc::Status(static_cast<grpc::StatusCode>(20), "odd")),
            absl::UnknownError("odd"));
  EXPECT_EQ(ToGrpcStatus(absl::Status(static_cast<absl::StatusCode>(99), "odd")).error_code(),
            grpc::StatusCode::UNKNOWN);
}

}  // namespace
}  // namespace netpool
