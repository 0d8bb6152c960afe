// How a `netpool` command prints what it reports: as text for people (the
// default), or as JSON for scripts, in the schema the README's "Output for
// scripts" section documents.
//
//   OutputFormat format = OutputFormat::kText;
//   AddOutputOption(jobs, &format);  // -o text|table|json|jsonl
//   PrintRecords(*context.out, format, {JobValue(a), JobValue(b)});
#ifndef NETPOOL_CLIENT_CLI_OUTPUT_FORMAT_H_
#define NETPOOL_CLIENT_CLI_OUTPUT_FORMAT_H_

#include <ostream>
#include <string>

#include "CLI/App.hpp"
#include "netpool/value.h"

namespace netpool {
namespace cli {

enum class OutputFormat {
  kText,       // -o table (or text): as the command always printed it
  kJson,       // -o json: one JSON document
  kJsonLines,  // -o jsonl: one JSON object per line
};

// Adds -o,--output FORMAT to `command`. Any other word is a usage error
// (exit 64) that names the formats.
void AddOutputOption(CLI::App* command, OutputFormat* format);

// RecordFramer turns records into the text of a JSON or JSON-lines output
// one at a time, so that a stream of them (map) and a list (jobs) read alike:
// kJson frames them as one array, kJsonLines puts one on each line.
// REQUIRES: the format is not kText.
class RecordFramer {
 public:
  explicit RecordFramer(OutputFormat format) : format_(format) {}

  // The text that prints `record` after those before it.
  std::string Next(const Value& record);
  // The text that ends the output (for kJson, the array's end, or "[]" when
  // there were no records).
  std::string End();

 private:
  const OutputFormat format_;
  bool any_ = false;
};

// Prints `records` as `format` frames them. REQUIRES: the format is not kText.
void PrintRecords(std::ostream& out, OutputFormat format, const ValueList& records);

// Prints one JSON object on one line: what both json and jsonl are for a
// command that reports a single thing (stats, get).
void PrintRecord(std::ostream& out, const Value& record);

}  // namespace cli
}  // namespace netpool

#endif  // NETPOOL_CLIENT_CLI_OUTPUT_FORMAT_H_
