#include "client/cli/output_format.h"

#include "CLI/CLI.hpp"
#include "absl/strings/str_cat.h"

namespace netpool {
namespace cli {

void AddOutputOption(CLI::App* command, OutputFormat* format) {
  command
      ->add_option_function<std::string>(
          "-o,--output",
          [format](const std::string& word) {
            if (word == "table" || word == "text") {
              *format = OutputFormat::kText;
            } else if (word == "json") {
              *format = OutputFormat::kJson;
            } else if (word == "jsonl") {
              *format = OutputFormat::kJsonLines;
            } else {
              throw CLI::ValidationError(
                  "--output", absl::StrCat("must be table, json or jsonl, got \"", word, "\""));
            }
          },
          "table (default; or text), json (one JSON document) or jsonl (one JSON object per "
          "line); the README documents the fields")
      ->type_name("FORMAT");
}

std::string RecordFramer::Next(const Value& record) {
  std::string text;
  if (format_ == OutputFormat::kJson) text = any_ ? ",\n" : "[";
  any_ = true;
  absl::StrAppend(&text, record.ToJson());
  if (format_ == OutputFormat::kJsonLines) text += '\n';
  return text;
}

std::string RecordFramer::End() {
  if (format_ != OutputFormat::kJson) return "";
  return any_ ? "]\n" : "[]\n";
}

void PrintRecords(std::ostream& out, OutputFormat format, const ValueList& records) {
  RecordFramer framer(format);
  for (const Value& record : records) out << framer.Next(record);
  out << framer.End();
}

void PrintRecord(std::ostream& out, const Value& record) { out << record.ToJson() << '\n'; }

}  // namespace cli
}  // namespace netpool
