// The flags that netpoold, netpool-worker and netpool take alike, so that
// they read the same in all three: --config FILE (TOML: any of the
// program's long flags, one `name = value` per line), --log-level,
// --log-format and --version.
#ifndef NETPOOL_COMMON_PROGRAM_FLAGS_H_
#define NETPOOL_COMMON_PROGRAM_FLAGS_H_

#include <string>

namespace CLI {
class App;
class ParseError;
}  // namespace CLI

namespace netpool {

struct ProgramFlags {
  std::string log_level;  // empty: $NETPOOL_LOG, else warn
  std::string log_format;  // text or json; empty: $NETPOOL_LOG_FORMAT, else text
};

// Adds the flags to `app`, named `program` in its usage line and --version.
// Flags given on the command line win over the --config file; a key in the
// file that is no flag of the program is a usage error, like a misspelt
// flag.
void AddProgramFlags(CLI::App& app, const std::string& program, ProgramFlags* flags);

// What to tell the user about a command line or --config file that did not
// parse: CLI11's text, naming --config for the file's problems.
std::string UsageErrorText(const CLI::ParseError& error);

// SetUpProcess with the flags' logging choices.
void SetUpProgram(const ProgramFlags& flags);

}  // namespace netpool

#endif  // NETPOOL_COMMON_PROGRAM_FLAGS_H_
