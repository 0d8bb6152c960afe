#include "client/cli/arguments.h"

#include <algorithm>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"

namespace netpool {
namespace cli {
namespace {

constexpr std::string_view kItemPlaceholder = "{}";

// Calls `take(line_number, line)` for every line of `in` that is not blank.
template <typename Take>
absl::Status ForEachLine(std::istream& in, Take take) {
  std::string line;
  for (size_t number = 1; std::getline(in, line); ++number) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (absl::StripAsciiWhitespace(line).empty()) continue;
    if (absl::Status status = take(number, line); !status.ok()) return status;
  }
  return absl::OkStatus();
}

absl::Status LineError(size_t number, absl::string_view message) {
  return absl::InvalidArgumentError(absl::StrCat("line ", number, ": ", message));
}

}  // namespace

Value ParseWord(const std::string& word) {
  absl::StatusOr<Value> json = Value::FromJson(word);
  return json.ok() ? *std::move(json) : Value(word);
}

absl::StatusOr<std::vector<Value>> ReadJsonLines(std::istream& in) {
  std::vector<Value> values;
  absl::Status status = ForEachLine(in, [&](size_t number, const std::string& line) {
    absl::StatusOr<Value> value = Value::FromJson(line);
    if (!value.ok()) return LineError(number, value.status().message());
    values.push_back(*std::move(value));
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return values;
}

absl::StatusOr<std::vector<ValueList>> ReadJsonArrayLines(std::istream& in) {
  std::vector<ValueList> lists;
  absl::Status status = ForEachLine(in, [&](size_t number, const std::string& line) {
    absl::StatusOr<Value> value = Value::FromJson(line);
    if (!value.ok()) return LineError(number, value.status().message());
    if (!value->is_list()) {
      return LineError(number, absl::StrCat("expected a JSON array of arguments, got ",
                                            std::string(KindName(value->kind()))));
    }
    lists.push_back(std::move(value->MutableList()));
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return lists;
}

bool IsCommandForm(const std::vector<std::string>& args, size_t positionals) {
  auto dashes = std::find(args.begin(), args.end(), "--");
  if (dashes == args.end()) return false;
  return static_cast<size_t>(args.end() - dashes - 1) == positionals;
}

absl::StatusOr<MapWords> SplitMapWords(std::vector<std::string> words, bool command_form) {
  MapWords split;
  auto separator = std::find(words.begin(), words.end(), kItemSeparator);
  if (command_form) {
    if (separator == words.end()) {
      return absl::InvalidArgumentError("map -- CMD needs its items after :::");
    }
    if (separator == words.begin()) {
      return absl::InvalidArgumentError("map -- needs a command before :::");
    }
    split.command.assign(std::make_move_iterator(words.begin()),
                         std::make_move_iterator(separator));
    split.items.emplace(std::make_move_iterator(separator + 1),
                        std::make_move_iterator(words.end()));
    return split;
  }
  if (words.empty() || separator == words.begin()) {
    return absl::InvalidArgumentError("map needs a function name");
  }
  if (separator != words.end() && separator != words.begin() + 1) {
    return absl::InvalidArgumentError(
        "map FN ::: ITEMS takes no words between the function and :::");
  }
  split.function = std::move(words.front());
  auto first_item = separator != words.end() ? separator + 1 : words.begin() + 1;
  if (separator != words.end() || first_item != words.end()) {
    split.items.emplace(std::make_move_iterator(first_item),
                        std::make_move_iterator(words.end()));
  }
  return split;
}

std::vector<std::string> BuildCommand(const std::vector<std::string>& command,
                                      const std::string& item) {
  std::vector<std::string> argv;
  argv.reserve(command.size() + 1);
  bool placed = false;
  for (const std::string& word : command) {
    if (word.find(kItemPlaceholder) != std::string::npos) {
      argv.push_back(absl::StrReplaceAll(word, {{"{}", item}}));
      placed = true;
    } else {
      argv.push_back(word);
    }
  }
  if (!placed) argv.push_back(item);
  return argv;
}

absl::StatusOr<v1::JobState> ParseJobState(const std::string& name) {
  v1::JobState state;
  if (!v1::JobState_Parse(absl::AsciiStrToUpper(name), &state) ||
      state == v1::JOB_STATE_UNSPECIFIED) {
    return absl::InvalidArgumentError(absl::StrCat(
        "unknown job state \"", name, "\" (PENDING RUNNING SUCCEEDED FAILED CANCELLED)"));
  }
  return state;
}

}  // namespace cli
}  // namespace netpool
