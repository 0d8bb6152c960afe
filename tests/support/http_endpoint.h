// The HTTP side (--http) of a netpoold or netpool-worker that a test
// started: the port the program printed, the same-user token of its
// scheduler, a GET with that token, as an operator's scraper sends it, and
// the samples of the /metrics page it answers.
//
//   absl::StatusOr<int> port = ReadHttpPort(cluster->scheduler(), absl::Seconds(10));
//   absl::StatusOr<std::string> token = LocalTokenFor(cluster->address());
//   httplib::Result metrics = HttpGet(*port, "/metrics", *token);
#ifndef NETPOOL_TESTS_SUPPORT_HTTP_ENDPOINT_H_
#define NETPOOL_TESTS_SUPPORT_HTTP_ENDPOINT_H_

#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "httplib.h"
#include "tests/support/subprocess.h"

namespace netpool::testing {

// The port of the "http on HOST:PORT" line that `program`, started with
// --http and a piped stdout, prints first. REQUIRES: pipe_stdout.
absl::StatusOr<int> ReadHttpPort(Subprocess& program, absl::Duration timeout);

// The admin token that the loopback scheduler at `scheduler_address`
// (HOST:PORT) left for its own user (common/local_token.h).
absl::StatusOr<std::string> LocalTokenFor(const std::string& scheduler_address);

// The value of the sample `series` (name and labels as printed) in `text`,
// a /metrics page in the Prometheus text format.
std::optional<double> MetricSample(const std::string& text, const std::string& series);

// GET `path` from 127.0.0.1:`port`, with `token` as the bearer token unless
// it is empty.
httplib::Result HttpGet(int port, const std::string& path, const std::string& token);

}  // namespace netpool::testing

#endif  // NETPOOL_TESTS_SUPPORT_HTTP_ENDPOINT_H_
