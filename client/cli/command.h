// What the `netpool` subcommands share: the exit codes, the Context a command
// runs with, and the functions that register each group of subcommands.
#ifndef NETPOOL_CLIENT_CLI_COMMAND_H_
#define NETPOOL_CLIENT_CLI_COMMAND_H_

#include <functional>
#include <istream>
#include <limits>
#include <memory>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "CLI/App.hpp"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "client/pool_client.h"
#include "client/reconnector.h"
#include "common/program_flags.h"

namespace netpool {
namespace cli {

enum ExitCode : int {
  kExitOk = 0,
  kExitFailed = 1,  // a job failed, or an id is unknown
  kExitTimeout = 2,
  kExitUsage = 64,        // EX_USAGE
  kExitUnavailable = 69,  // EX_UNAVAILABLE
  kExitNoPermission = 77,  // EX_NOPERM
};

// The exit code for a failed scheduler call: 69 when the scheduler is
// unreachable, 64 when it refused the request as malformed, 77 when it
// refused the caller's token or role (or the token file is unusable), else 1.
int ExitCodeOf(const absl::Status& rpc_status);

// The default scheduler address of every netpool program.
inline constexpr char kDefaultScheduler[] = "127.0.0.1:7340";

// What a running command has: the global options and its streams.
struct Context {
  std::string scheduler = kDefaultScheduler;
  ClientSecurity security;  // --tls-ca, --token-file
  ProgramFlags program;  // --config, --log-level, --log-format
  // The whole command line, without the program name.
  std::vector<std::string> args;
  std::istream* in = nullptr;
  std::ostream* out = nullptr;
  std::ostream* err = nullptr;
  // Standard output and standard error are both a terminal: map and starmap
  // show a progress line.
  bool interactive = false;

  // Prints "netpool: <message>" as a line on the error stream.
  void Error(std::string_view message) const;
  // Prints the error of a failed scheduler call; returns its exit code.
  int RpcFailed(const absl::Status& status) const;
  // Options for a SchedulerClient of this command line's scheduler.
  SchedulerClient::Options ClientOptions() const;
  // How get, wait and map ride through an unreachable scheduler: for up to
  // `retry_for` (--retry-for), and, when interactive, saying once per outage
  // that they are reconnecting, through `say` (default: on the error stream,
  // at once).
  Reconnector::Options Reconnecting(absl::Duration retry_for,
                                    std::function<void(const std::string& line)> say = {}) const;
  // A PoolClient for commands that submit and wait, connected (while the
  // scheduler refuses the connection, again) within `retry_for`, and riding
  // through later outages as Reconnecting(retry_for, say) says.
  absl::StatusOr<std::shared_ptr<internal::PoolClient>> ConnectPool(
      absl::Duration retry_for, std::function<void(const std::string& line)> say) const;
};

// Adds `flag` DURATION (30s, 5m, 1m30s; a bare number is seconds) to
// `command`; a word that is no duration is a usage error naming the flag.
CLI::Option* AddDurationOption(CLI::App* command, const std::string& flag,
                               std::function<void(absl::Duration)> set, const std::string& help);

// Adds --retry-for DURATION (30s, 5m, 0 = fail at once; a bare number is
// seconds) to `command`, storing it in `*retry_for`.
void AddRetryFor(CLI::App* command, absl::Duration* retry_for);

// CLI11 reads a word such as [1,2] as a list of words (its array syntax),
// which would tear apart JSON arrays and commands like `jq '[.a]'`. RunCli
// shields every such word before parsing; positional options that take free
// words must be passed through KeepWordsWhole, which removes the shield.
CLI::Option* KeepWordsWhole(CLI::Option* option);

// The check of a numeric option: a number from `min` to `max`. Its error
// reads "--limit: must be 0 or more, got -1" rather than CLI11's own, which
// spells out the largest double in full.
CLI::Validator NumberIn(double min, double max = std::numeric_limits<double>::max());

// A parsed subcommand, ready to run.
using Command = std::function<int(const Context& context)>;

// Each adds its subcommands to `app`; the one the command line selects
// stores itself in `*run` while the command line is parsed.
void AddJobCommands(CLI::App& app, Command* run);   // submit get wait status cancel
void AddExecCommand(CLI::App& app, Command* run);   // exec
void AddMapCommands(CLI::App& app, Command* run);   // map starmap
void AddInfoCommands(CLI::App& app, Command* run);  // jobs workers stats
void AddDashboardCommand(CLI::App& app, Command* run);  // dashboard
void AddTopCommand(CLI::App& app, Command* run);    // top

}  // namespace cli
}  // namespace netpool

#endif  // NETPOOL_CLIENT_CLI_COMMAND_H_
