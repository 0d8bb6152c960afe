#include "common/logging.h"

#include <errno.h>  // program_invocation_short_name

#include <cstdlib>
#include <memory>
#include <string>

#include "absl/strings/ascii.h"
#include "spdlog/sinks/stdout_color_sinks.h"
#include "spdlog/spdlog.h"

namespace netpool {
namespace {

// Unknown names fall back to warn rather than to spdlog's "off": a typo in
// NETPOOL_LOG should not silence the warnings that would explain it.
spdlog::level::level_enum ParseLevel(std::string_view name) {
  const std::string lower = absl::AsciiStrToLower(std::string(name));
  if (lower == "trace") return spdlog::level::trace;
  if (lower == "debug") return spdlog::level::debug;
  if (lower == "info") return spdlog::level::info;
  if (lower == "warn" || lower == "warning") return spdlog::level::warn;
  if (lower == "error") return spdlog::level::err;
  if (lower == "critical") return spdlog::level::critical;
  if (lower == "off") return spdlog::level::off;
  return spdlog::level::warn;
}

}  // namespace

void InitLogging(std::string_view level) {
  std::string name(level);
  if (name.empty()) {
    const char* env = std::getenv("NETPOOL_LOG");
    if (env != nullptr) name = env;
  }
  // The logger is named after the program, so that lines from netpoold and
  // its workers stay apart when they share a terminal or a journal.
  auto logger = std::make_shared<spdlog::logger>(
      program_invocation_short_name, std::make_shared<spdlog::sinks::stderr_color_sink_mt>());
  logger->set_pattern("%Y-%m-%d %H:%M:%S.%e %^%l%$ %n[%P]: %v");
  logger->set_level(ParseLevel(name));
  logger->flush_on(spdlog::level::warn);
  spdlog::set_default_logger(std::move(logger));
}

}  // namespace netpool
