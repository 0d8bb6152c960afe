#include "client/cli/cli.h"

#include <exception>
#include <limits>
#include <utility>

#include "CLI/CLI.hpp"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_replace.h"
#include "client/cli/arguments.h"
#include "client/cli/command.h"

namespace netpool {
namespace cli {
namespace {

// Prefixed to a word so that CLI11 does not take it for its array syntax.
constexpr char kShield = '\x01';

bool LooksLikeCli11Array(const std::string& word) {
  return word.size() >= 2 && word.front() == '[' && word.back() == ']';
}

// A bound as people write it: 1000000, not 1e+06.
std::string BoundText(double bound) { return absl::StrFormat("%.15g", bound); }

}  // namespace

CLI::Option* KeepWordsWhole(CLI::Option* option) {
  return option->transform(
      [](std::string word) {
        if (!word.empty() && word.front() == kShield) word.erase(0, 1);
        return word;
      },
      "", "");
}

CLI::Validator NumberIn(double min, double max) {
  const std::string range = max == std::numeric_limits<double>::max()
                                ? absl::StrCat(BoundText(min), " or more")
                                : absl::StrCat("from ", BoundText(min), " to ", BoundText(max));
  return CLI::Validator(
      [min, max, range](std::string& word) -> std::string {
        double number = 0;
        if (absl::SimpleAtod(word, &number) && number >= min && number <= max) return "";
        return absl::StrCat("must be ", range, ", got ", word);
      },
      range);
}

void Context::Error(std::string_view message) const {
  *err << "netpool: " << message << '\n';
}

int ExitCodeOf(const absl::Status& rpc_status) {
  switch (rpc_status.code()) {
    case absl::StatusCode::kUnavailable:
      return kExitUnavailable;
    case absl::StatusCode::kInvalidArgument:
      return kExitUsage;
    case absl::StatusCode::kUnauthenticated:
    case absl::StatusCode::kPermissionDenied:
      return kExitNoPermission;
    default:
      return kExitFailed;
  }
}

int Context::RpcFailed(const absl::Status& status) const {
  Error(std::string(status.message()));
  return ExitCodeOf(status);
}

SchedulerClient::Options Context::ClientOptions() const {
  SchedulerClient::Options options;
  options.security = security;
  return options;
}

Reconnector::Options Context::Reconnecting(
    absl::Duration retry_for, std::function<void(const std::string& line)> say) const {
  Reconnector::Options options;
  options.retry_for = retry_for;
  if (!interactive) return options;
  if (!say) say = [this](const std::string& line) { *err << line << std::flush; };
  options.on_outage = [say = std::move(say),
                       line = absl::StrCat("netpool: scheduler at ", scheduler,
                                           " is unreachable; reconnecting for up to ",
                                           absl::FormatDuration(retry_for), "\n")](
                          const absl::Status&) { say(line); };
  return options;
}

absl::StatusOr<std::shared_ptr<internal::PoolClient>> Context::ConnectPool(
    absl::Duration retry_for, std::function<void(const std::string& line)> say) const {
  // Each try fails fast, so that a refused connection is told (and retried)
  // at once rather than after a long connect timeout.
  Reconnector connecting(Reconnecting(retry_for));
  return connecting.Retry([&] {
    return internal::PoolClient::Connect(scheduler, ConnectOptions().connect_timeout,
                                         ClientOptions(), SchedulerClient::ConnectMode::kFailFast,
                                         Reconnecting(retry_for, say));
  });
}

CLI::Option* AddDurationOption(CLI::App* command, const std::string& flag,
                               std::function<void(absl::Duration)> set, const std::string& help) {
  return command
      ->add_option_function<std::string>(
          flag,
          [flag, set = std::move(set)](const std::string& word) {
            absl::StatusOr<absl::Duration> parsed = ParseDurationWord(word);
            if (!parsed.ok()) throw CLI::ValidationError(flag, std::string(parsed.status().message()));
            set(*parsed);
          },
          help)
      ->type_name("DURATION");
}

void AddRetryFor(CLI::App* command, absl::Duration* retry_for) {
  AddDurationOption(
      command, "--retry-for", [retry_for](absl::Duration duration) { *retry_for = duration; },
      "While the scheduler is unreachable, keep reconnecting this long before exiting 69 "
      "(e.g. 30s, 5m; 0 = at once)")
      ->default_str(absl::FormatDuration(*retry_for));
}

int RunCli(const std::vector<std::string>& args, std::istream& in, std::ostream& out,
           std::ostream& err, bool interactive) {
  Context context;
  context.args = args;
  context.in = &in;
  context.out = &out;
  context.err = &err;
  context.interactive = interactive;

  CLI::App app("Runs jobs on a netpool cluster.", "netpool");
  app.require_subcommand(1);
  AddProgramFlags(app, "netpool", &context.program);
  app.add_option("--scheduler", context.scheduler, "Scheduler address HOST:PORT")
      ->envname("NETPOOL_SCHEDULER")
      ->capture_default_str();
  app.add_option("--tls-ca", context.security.tls_ca_file,
                 "use TLS, trusting this CA certificate (PEM; env NETPOOL_TLS_CA)");
  app.add_option("--token-file", context.security.token_file,
                 "file holding the token (mode 0600; else env NETPOOL_TOKEN, or on loopback the "
                 "token netpoold left for its own user)");
  Command run;
  AddJobCommands(app, &run);
  AddExecCommand(app, &run);
  AddMapCommands(app, &run);
  AddInfoCommands(app, &run);
  AddDashboardCommand(app, &run);
  AddTopCommand(app, &run);

  try {
    std::vector<std::string> reversed(args.rbegin(), args.rend());  // as CLI11 wants them
    for (std::string& word : reversed) {
      if (LooksLikeCli11Array(word)) word.insert(word.begin(), kShield);
    }
    app.parse(reversed);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e, out, err);  // --help
    context.Error(absl::StrReplaceAll(UsageErrorText(e), {{"\n", " "}}) + " (see --help)");
    return kExitUsage;
  }

  SetUpProgram(context.program);
  try {
    return run(context);
  } catch (const std::exception& e) {
    context.Error(e.what());
    return kExitFailed;
  } catch (...) {
    context.Error("unexpected error");
    return kExitFailed;
  }
}

}  // namespace cli
}  // namespace netpool
