// How -o json and -o jsonl frame a command's records.
#include "client/cli/output_format.h"

#include <sstream>

#include "gtest/gtest.h"

namespace netpool {
namespace cli {
namespace {

TEST(RecordFramer, JsonIsOneArrayAndJsonLinesOneObjectPerLine) {
  const ValueList records = {ValueMap{{"a", 1}}, ValueMap{{"b", "x"}}};
  std::ostringstream json;
  PrintRecords(json, OutputFormat::kJson, records);
  EXPECT_EQ(json.str(), "[{\"a\":1},\n{\"b\":\"x\"}]\n");
  std::ostringstream lines;
  PrintRecords(lines, OutputFormat::kJsonLines, records);
  EXPECT_EQ(lines.str(), "{\"a\":1}\n{\"b\":\"x\"}\n");
  std::ostringstream none;
  PrintRecords(none, OutputFormat::kJson, {});
  EXPECT_EQ(none.str(), "[]\n");
  std::ostringstream no_lines;
  PrintRecords(no_lines, OutputFormat::kJsonLines, {});
  EXPECT_EQ(no_lines.str(), "");
}

}  // namespace
}  // namespace cli
}  // namespace netpool
