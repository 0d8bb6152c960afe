// How the `netpool` command line turns its words, its standard input and its
// jobs files into job arguments: kept apart from the commands so it is tested
// without a scheduler.
#ifndef NETPOOL_CLIENT_CLI_ARGUMENTS_H_
#define NETPOOL_CLIENT_CLI_ARGUMENTS_H_

#include <cstddef>
#include <istream>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "netpool/v1/netpool.pb.h"
#include "netpool/value.h"

namespace netpool {
namespace cli {

// A word from the command line as a job argument: its JSON value when it is
// JSON, otherwise the word itself as a string (`hello` -> "hello"). A word
// that starts as JSON does ({, [ or ") was meant as JSON: when it is not,
// error kInvalidArgument naming it, rather than a string the job never meant.
absl::StatusOr<Value> ParseWord(const std::string& word);

// How one item of map or starmap becomes a call's argument list.
enum class ItemFormat {
  kValue,         // map FN: the item is the one argument, as JSON
  kArgumentList,  // starmap FN: the item is a JSON array of the arguments
  kText,          // map -- CMD: the item is a string, taken as it is
};

// ItemReader hands out the items of map and starmap one at a time, from the
// command line's words or from the lines of a stream, so that an input of
// any length is never all in memory. A word is read as ParseWord reads it;
// a line must be JSON (except kText, where it is the item). Blank lines are
// skipped; "\r\n" line ends are accepted.
//
//   ItemReader items = ItemReader::FromLines(&std::cin, ItemFormat::kValue);
//   while (absl::StatusOr<std::optional<ValueList>> next = items.Next(); ...)
class ItemReader {
 public:
  static ItemReader FromWords(std::vector<std::string> words, ItemFormat format);
  // `in` must outlive the reader.
  static ItemReader FromLines(std::istream* in, ItemFormat format);

  // The next item's argument list; nullopt at the end of the input. Error
  // kInvalidArgument naming the (1-based) line or the word that does not
  // parse, after which the reader is at its end.
  absl::StatusOr<std::optional<ValueList>> Next();

 private:
  ItemReader(ItemFormat format, std::vector<std::string> words, std::istream* in);

  ItemFormat format_;
  std::vector<std::string> words_;
  size_t next_word_ = 0;
  std::istream* in_;  // null when reading words
  size_t line_number_ = 0;
};

// The number of items in a file of lines (those that are not blank); for a
// progress line, so a miscount does no harm. kNotFound if it cannot be read.
absl::StatusOr<size_t> CountItemLines(const std::string& path);

// The GNU-parallel separator between a command or function and its items.
inline constexpr std::string_view kItemSeparator = ":::";

// The positional words of `map`, sorted out. Exactly one of `function` and
// `command` is set.
struct MapWords {
  std::string function;              // map FN ...
  std::vector<std::string> command;  // map -- CMD ...
  // The items' words; nullopt when the items come from input lines
  // (standard input or --jobs-file).
  std::optional<std::vector<std::string>> items;
};

// Whether `map` was given a command (`map [options] -- CMD ...`) rather than a
// function: true when a "--" in `args` (the whole command line) comes before
// every one of the `positionals` words the parser gave to map. Everything
// after "--" is positional, so that is the case when the positional count
// equals the number of words after it.
bool IsCommandForm(const std::vector<std::string>& args, size_t positionals);

// Splits map's positional words: FN [ARG...], FN ::: ITEM..., FN alone (items
// from input lines), or CMD... [::: ITEM...] in the command form (without
// :::, items from input lines as in GNU parallel). Error kInvalidArgument for
// what fits none of those.
absl::StatusOr<MapWords> SplitMapWords(std::vector<std::string> words, bool command_form);

// The command line for one item of `map -- CMD`, job number `sequence`
// (from 1), with GNU parallel's replacement strings: {} the item, {.} without
// its extension, {/} its basename, {//} its directory, {/.} its basename
// without extension, {#} the sequence number. Without any of them, the item
// is appended as a last word.
std::vector<std::string> BuildCommand(const std::vector<std::string>& command,
                                      const std::string& item, size_t sequence);

// A duration as a user writes it: "30s", "1m30s", "250ms", "inf", or a bare
// number of seconds ("0", "2.5"). Error kInvalidArgument for anything else,
// and for a negative one.
absl::StatusOr<absl::Duration> ParseDurationWord(const std::string& word);

// A --label word KEY=VALUE as its key and value (the value may be empty and
// may hold '='). Error kInvalidArgument without '=' or with an empty key.
absl::StatusOr<std::pair<std::string, std::string>> ParseLabel(const std::string& word);

}  // namespace cli
}  // namespace netpool

#endif  // NETPOOL_CLIENT_CLI_ARGUMENTS_H_
