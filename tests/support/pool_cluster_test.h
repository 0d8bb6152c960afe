// PoolClusterTest is the fixture of integration tests that drive a real
// deployment through the Pool API: each test gets a fresh netpoold with one
// node of two worker processes (cluster_) and a Pool connected to it (pool_).
#ifndef NETPOOL_TESTS_SUPPORT_POOL_CLUSTER_TEST_H_
#define NETPOOL_TESTS_SUPPORT_POOL_CLUSTER_TEST_H_

#include <memory>

#include "gtest/gtest.h"
#include "netpool/pool.h"
#include "tests/support/test_cluster.h"

namespace netpool::testing {

class PoolClusterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<TestCluster>> cluster =
        TestCluster::Start({.workers = 1, .processes = 2});
    ASSERT_TRUE(cluster.ok()) << cluster.status();
    cluster_ = *std::move(cluster);
    absl::StatusOr<Pool> pool = Pool::Connect(cluster_->address());
    ASSERT_TRUE(pool.ok()) << pool.status();
    pool_ = std::make_unique<Pool>(*std::move(pool));
  }

  std::unique_ptr<TestCluster> cluster_;
  std::unique_ptr<Pool> pool_;
};

}  // namespace netpool::testing

#endif  // NETPOOL_TESTS_SUPPORT_POOL_CLUSTER_TEST_H_
