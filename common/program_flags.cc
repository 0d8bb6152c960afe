#include "common/program_flags.h"

#include "CLI/CLI.hpp"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "common/process_setup.h"
#include "common/version.h"

namespace netpool {

void AddProgramFlags(CLI::App& app, const std::string& program, ProgramFlags* flags) {
  // Usage lines and man pages name the program, not the path it ran from.
  app.name(program);
  app.set_version_flag("--version", VersionLine(program));
  app.set_config("--config", "",
                 "read flags from this TOML file (name = value per line, long flag names "
                 "without --); flags given here win")
      ->type_name("FILE");
  app.allow_config_extras(CLI::config_extras_mode::error);
  app.add_option("--log-level", flags->log_level,
                 "trace, debug, info, warn, error or off (default: $NETPOOL_LOG, else warn)")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "off"},
                            CLI::ignore_case));
  app.add_option("--log-format", flags->log_format,
                 "text, or json: one JSON object per line with time, level, program, pid and "
                 "message (default: $NETPOOL_LOG_FORMAT, else text)")
      ->check(CLI::IsMember({"text", "json"}));
}

std::string UsageErrorText(const CLI::ParseError& error) {
  // CLI11 reports --config's problems without naming the flag, and calls
  // every config file "INI".
  absl::string_view text = error.what();
  if (error.get_name() == "ConfigError" && absl::ConsumePrefix(&text, "INI was not able to parse ")) {
    return absl::StrCat("--config: \"", text, "\" is not a flag of this program");
  }
  if (error.get_name() == "ConfigError" || error.get_name() == "FileError") {
    return absl::StrCat("--config: ", text);
  }
  return std::string(text);
}

void SetUpProgram(const ProgramFlags& flags) { SetUpProcess(flags.log_level, flags.log_format); }

}  // namespace netpool
