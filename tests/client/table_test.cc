#include "client/cli/table.h"

#include "gtest/gtest.h"

namespace netpool {
namespace cli {
namespace {

TEST(FormatTable, AlignsColumnsWithoutTrailingBlanks) {
  EXPECT_EQ(FormatTable({{"ID", "STATE", "WORKER"},
                         {"j-1", "RUNNING", "node-a"},
                         {"j-22", "PENDING", ""}}),
            "ID    STATE    WORKER\n"
            "j-1   RUNNING  node-a\n"
            "j-22  PENDING\n");
}

TEST(FormatTable, HeaderAloneIsOneLine) {
  EXPECT_EQ(FormatTable({{"NAME", "ID"}}), "NAME  ID\n");
  EXPECT_EQ(FormatTable({}), "");
}

}  // namespace
}  // namespace cli
}  // namespace netpool
