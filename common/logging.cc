#include "common/logging.h"

#include <errno.h>  // program_invocation_short_name

#include <cstdlib>
#include <memory>
#include <string>

#include "absl/strings/ascii.h"
#include "nlohmann/json.hpp"
#include "spdlog/pattern_formatter.h"
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

// The message as a JSON string, quotes included. A message may carry bytes
// from a client or a job (a function name, a path): they are escaped, and
// bytes that are not UTF-8 become U+FFFD, so every line stays valid JSON.
class JsonMessageFlag final : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&,
              spdlog::memory_buf_t& dest) override {
    const std::string quoted = nlohmann::json(std::string(msg.payload.data(), msg.payload.size()))
                                   .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    dest.append(quoted.data(), quoted.data() + quoted.size());
  }
  std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<JsonMessageFlag>();
  }
};

std::string Choice(std::string_view given, const char* env_name) {
  if (!given.empty()) return std::string(given);
  const char* env = std::getenv(env_name);
  return env == nullptr ? std::string() : std::string(env);
}

}  // namespace

void InitLogging(std::string_view level, std::string_view format) {
  const std::string level_name = Choice(level, "NETPOOL_LOG");
  const bool json = absl::AsciiStrToLower(Choice(format, "NETPOOL_LOG_FORMAT")) == "json";

  // The logger is named after the program, so that lines from netpoold and
  // its workers stay apart when they share a terminal or a journal.
  auto logger = std::make_shared<spdlog::logger>(
      program_invocation_short_name, std::make_shared<spdlog::sinks::stderr_color_sink_mt>());
  if (json) {
    // No colour codes: a collector reads these lines, not a person.
    auto formatter = std::make_unique<spdlog::pattern_formatter>(spdlog::pattern_time_type::utc);
    formatter->add_flag<JsonMessageFlag>('*').set_pattern(
        R"({"time":"%Y-%m-%dT%H:%M:%S.%eZ","level":"%l","program":"%n","pid":%P,"message":%*})");
    logger->set_formatter(std::move(formatter));
  } else {
    logger->set_pattern("%Y-%m-%d %H:%M:%S.%e %^%l%$ %n[%P]: %v");
  }
  logger->set_level(ParseLevel(level_name));
  logger->flush_on(spdlog::level::warn);
  spdlog::set_default_logger(std::move(logger));
}

}  // namespace netpool
