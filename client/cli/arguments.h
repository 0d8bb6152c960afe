// How the `netpool` command line turns its words and its standard input into
// job arguments: kept apart from the commands so it is tested without a
// scheduler.
#ifndef NETPOOL_CLIENT_CLI_ARGUMENTS_H_
#define NETPOOL_CLIENT_CLI_ARGUMENTS_H_

#include <cstddef>
#include <istream>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "netpool/v1/netpool.pb.h"
#include "netpool/value.h"

namespace netpool {
namespace cli {

// A word from the command line as a job argument: its JSON value when it is
// JSON, otherwise the word itself as a string (`hello` -> "hello").
Value ParseWord(const std::string& word);

// One JSON value per line; blank lines are skipped. Error kInvalidArgument
// naming the (1-based) line of the first line that is not JSON.
absl::StatusOr<std::vector<Value>> ReadJsonLines(std::istream& in);

// As ReadJsonLines, but every line must be a JSON array (an argument list).
absl::StatusOr<std::vector<ValueList>> ReadJsonArrayLines(std::istream& in);

// The GNU-parallel separator between a command or function and its items.
inline constexpr std::string_view kItemSeparator = ":::";

// The positional words of `map`, sorted out. Exactly one of `function` and
// `command` is set.
struct MapWords {
  std::string function;              // map FN ...
  std::vector<std::string> command;  // map -- CMD ...
  // The items' words; nullopt when the items come from standard input.
  std::optional<std::vector<std::string>> items;
};

// Whether `map` was given a command (`map [options] -- CMD ...`) rather than a
// function: true when a "--" in `args` (the whole command line) comes before
// every one of the `positionals` words the parser gave to map. Everything
// after "--" is positional, so that is the case when the positional count
// equals the number of words after it.
bool IsCommandForm(const std::vector<std::string>& args, size_t positionals);

// Splits map's positional words: FN [ARG...], FN ::: ITEM..., FN alone (items
// on stdin), or CMD... ::: ITEM... in the command form. Error
// kInvalidArgument for what fits none of those.
absl::StatusOr<MapWords> SplitMapWords(std::vector<std::string> words, bool command_form);

// The command line for one item of `map -- CMD`: every "{}" in a word is
// replaced by the item; without any "{}" the item is appended as a last word.
std::vector<std::string> BuildCommand(const std::vector<std::string>& command,
                                      const std::string& item);

// A job state from its name (PENDING, running, ...). Error kInvalidArgument.
absl::StatusOr<v1::JobState> ParseJobState(const std::string& name);

}  // namespace cli
}  // namespace netpool

#endif  // NETPOOL_CLIENT_CLI_ARGUMENTS_H_
