#include "tests/support/http_endpoint.h"

#include <optional>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "common/host_address.h"
#include "common/local_token.h"

namespace netpool::testing {

absl::StatusOr<int> ReadHttpPort(Subprocess& program, absl::Duration timeout) {
  absl::StatusOr<std::string> line = program.ReadLine(timeout);
  if (!line.ok()) return line.status();
  absl::string_view address = *line;
  std::string host;
  int port = 0;
  if (!absl::ConsumePrefix(&address, "http on ") ||
      !SplitHostPort(std::string(address), &host, &port)) {
    return absl::InternalError(absl::StrCat("printed \"", *line, "\", not its http address"));
  }
  return port;
}

absl::StatusOr<std::string> LocalTokenFor(const std::string& scheduler_address) {
  std::string host;
  int port = 0;
  if (!SplitHostPort(scheduler_address, &host, &port)) {
    return absl::InvalidArgumentError(absl::StrCat("not HOST:PORT: ", scheduler_address));
  }
  std::optional<std::string> token = ReadLocalToken(port);
  if (!token) return absl::NotFoundError(absl::StrCat("no local token for port ", port));
  return *std::move(token);
}

std::optional<double> MetricSample(const std::string& text, const std::string& series) {
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (!absl::ConsumePrefix(&line, series + " ")) continue;
    double value = 0;
    if (absl::SimpleAtod(line, &value)) return value;
  }
  return std::nullopt;
}

httplib::Result HttpGet(int port, const std::string& path, const std::string& token) {
  httplib::Client client("127.0.0.1", port);
  httplib::Headers headers;
  if (!token.empty()) headers.emplace("Authorization", absl::StrCat("Bearer ", token));
  return client.Get(path, headers);
}

}  // namespace netpool::testing
