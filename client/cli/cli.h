// The `netpool` command line as a function, so that main() only hands argv
// over and tests can run commands in-process with their own streams.
//
//   int code = netpool::cli::RunCli({"--scheduler", addr, "submit", "echo", "1"},
//                                   std::cin, std::cout, std::cerr);
#ifndef NETPOOL_CLIENT_CLI_CLI_H_
#define NETPOOL_CLIENT_CLI_CLI_H_

#include <istream>
#include <ostream>
#include <string>
#include <vector>

namespace netpool {
namespace cli {

// Runs one command line (`args` without the program name) and returns the
// process exit code: 0 ok, 1 a job failed or was not found, 2 timeout,
// 64 usage error, 69 scheduler unavailable. `interactive`: `out` and `err`
// are both a terminal (map then shows a progress line). Never throws.
int RunCli(const std::vector<std::string>& args, std::istream& in, std::ostream& out,
           std::ostream& err, bool interactive = false);

}  // namespace cli
}  // namespace netpool

#endif  // NETPOOL_CLIENT_CLI_CLI_H_
