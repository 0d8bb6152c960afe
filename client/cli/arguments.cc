#include "client/cli/arguments.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <optional>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace netpool {
namespace cli {
namespace {

bool IsBlank(absl::string_view line) { return absl::StripAsciiWhitespace(line).empty(); }

absl::Status LineError(size_t number, absl::string_view message) {
  return absl::InvalidArgumentError(absl::StrCat("line ", number, ": ", message));
}

}  // namespace

absl::StatusOr<Value> ParseWord(const std::string& word) {
  absl::StatusOr<Value> json = Value::FromJson(word);
  if (json.ok()) return json;
  if (!word.empty() && (word.front() == '{' || word.front() == '[' || word.front() == '"')) {
    return absl::InvalidArgumentError(
        absl::StrCat("'", word, "' starts like JSON but is not: ", json.status().message()));
  }
  return Value(word);
}

ItemReader::ItemReader(ItemFormat format, std::vector<std::string> words, std::istream* in)
    : format_(format), words_(std::move(words)), in_(in) {}

ItemReader ItemReader::FromWords(std::vector<std::string> words, ItemFormat format) {
  return ItemReader(format, std::move(words), nullptr);
}

ItemReader ItemReader::FromLines(std::istream* in, ItemFormat format) {
  return ItemReader(format, {}, in);
}

absl::StatusOr<std::optional<ValueList>> ItemReader::Next() {
  if (in_ == nullptr) {
    if (next_word_ == words_.size()) return std::nullopt;
    std::string& word = words_[next_word_++];
    if (format_ == ItemFormat::kText) return ValueList{Value(std::move(word))};
    absl::StatusOr<Value> value = ParseWord(word);
    if (!value.ok()) {
      next_word_ = words_.size();
      return value.status();
    }
    return ValueList{*std::move(value)};
  }
  std::string line;
  while (std::getline(*in_, line)) {
    ++line_number_;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (IsBlank(line)) continue;
    if (format_ == ItemFormat::kText) return ValueList{Value(std::move(line))};
    absl::StatusOr<Value> value = Value::FromJson(line);
    if (!value.ok()) {
      in_->setstate(std::ios::eofbit);
      return LineError(line_number_, value.status().message());
    }
    if (format_ == ItemFormat::kValue) return ValueList{*std::move(value)};
    if (!value->is_list()) {
      in_->setstate(std::ios::eofbit);
      return LineError(line_number_, absl::StrCat("expected a JSON array of arguments, got ",
                                                  std::string(KindName(value->kind()))));
    }
    return std::move(value->MutableList());
  }
  return std::nullopt;
}

absl::StatusOr<size_t> CountItemLines(const std::string& path) {
  std::ifstream file(path);
  if (!file) return absl::NotFoundError(absl::StrCat("cannot read ", path));
  size_t count = 0;
  std::string line;
  while (std::getline(file, line)) {
    if (!IsBlank(line)) ++count;
  }
  return count;
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
    if (separator == words.begin()) {
      return absl::InvalidArgumentError("map -- needs a command before :::");
    }
    split.command.assign(std::make_move_iterator(words.begin()),
                         std::make_move_iterator(separator));
    if (separator != words.end()) {
      split.items.emplace(std::make_move_iterator(separator + 1),
                          std::make_move_iterator(words.end()));
    }
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

namespace {

// GNU parallel's {/}: what follows the last '/' (s:.*/::).
std::string Basename(const std::string& path) {
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

// GNU parallel's {.}: without the last extension, which holds neither '/'
// nor '.' (s:\.[^/.]*$::), so a dot in a directory name is left alone.
std::string WithoutExtension(const std::string& path) {
  const size_t dot = path.rfind('.');
  if (dot == std::string::npos || path.find('/', dot) != std::string::npos) return path;
  return path.substr(0, dot);
}

// GNU parallel's {//}: Perl's File::Basename::dirname, which it calls: "." for
// a name without '/', and a trailing '/' does not make a directory part.
std::string Dirname(const std::string& path) {
  // fileparse: up to and including the last '/', or "./"; then trailing
  // slashes go, but never the first character.
  auto directory_part = [](const std::string& name, std::string* base) {
    const size_t slash = name.rfind('/');
    std::string directory = slash == std::string::npos ? "./" : name.substr(0, slash + 1);
    *base = slash == std::string::npos ? name : name.substr(slash + 1);
    while (directory.size() > 1 && directory.back() == '/') directory.pop_back();
    return directory;
  };
  std::string base;
  std::string directory = directory_part(path, &base);
  if (base.empty()) directory = directory_part(directory, &base);
  return directory;
}

// What replacement string `word` holds at `at`, if any, and its length.
std::optional<std::pair<std::string, size_t>> Replacement(const std::string& word, size_t at,
                                                          const std::string& item,
                                                          size_t sequence) {
  auto starts = [&](absl::string_view token) {
    return absl::string_view(word).substr(at, token.size()) == token;
  };
  if (starts("{}")) return std::make_pair(item, size_t{2});
  if (starts("{.}")) return std::make_pair(WithoutExtension(item), size_t{3});
  if (starts("{/}")) return std::make_pair(Basename(item), size_t{3});
  if (starts("{//}")) return std::make_pair(Dirname(item), size_t{4});
  if (starts("{/.}")) return std::make_pair(WithoutExtension(Basename(item)), size_t{4});
  if (starts("{#}")) return std::make_pair(absl::StrCat(sequence), size_t{3});
  return std::nullopt;
}

}  // namespace

std::vector<std::string> BuildCommand(const std::vector<std::string>& command,
                                      const std::string& item, size_t sequence) {
  std::vector<std::string> argv;
  argv.reserve(command.size() + 1);
  bool placed = false;
  for (const std::string& word : command) {
    std::string built;
    size_t copied = 0;
    for (size_t brace = word.find('{'); brace != std::string::npos;
         brace = word.find('{', brace + 1)) {
      if (brace < copied) continue;
      std::optional<std::pair<std::string, size_t>> replacement =
          Replacement(word, brace, item, sequence);
      if (!replacement.has_value()) continue;
      absl::StrAppend(&built, absl::string_view(word).substr(copied, brace - copied),
                      replacement->first);
      copied = brace + replacement->second;
      placed = true;
    }
    absl::StrAppend(&built, absl::string_view(word).substr(copied));
    argv.push_back(std::move(built));
  }
  if (!placed) argv.push_back(item);
  return argv;
}

absl::StatusOr<absl::Duration> ParseDurationWord(const std::string& word) {
  absl::Duration duration;
  double seconds = 0;
  if (absl::SimpleAtod(word, &seconds) && std::isfinite(seconds)) {
    duration = absl::Seconds(seconds);
  } else if (!absl::ParseDuration(word, &duration)) {
    return absl::InvalidArgumentError(
        absl::StrCat("\"", word, "\" is not a duration (e.g. 30s, 5m, 0)"));
  }
  if (duration < absl::ZeroDuration()) {
    return absl::InvalidArgumentError(absl::StrCat("\"", word, "\" is negative"));
  }
  return duration;
}

absl::StatusOr<std::pair<std::string, std::string>> ParseLabel(const std::string& word) {
  const size_t equals = word.find('=');
  if (equals == std::string::npos || equals == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("\"", word, "\" is not KEY=VALUE (e.g. gpu=a100)"));
  }
  return std::make_pair(word.substr(0, equals), word.substr(equals + 1));
}

}  // namespace cli
}  // namespace netpool
