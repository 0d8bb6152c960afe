// netpool dashboard: prints the address of netpoold's dashboard (its --http
// side) with this command line's token in the address's fragment, which the
// page keeps and which browsers never send to a server; --open hands it to
// xdg-open.
#include <errno.h>
#include <spawn.h>
#include <sys/wait.h>

#include <memory>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "client/cli/command.h"
#include "common/host_address.h"
#include "common/transport.h"

extern char** environ;

namespace netpool {
namespace cli {
namespace {

// netpoold's --http default port, beside its gRPC port (kDefaultScheduler).
constexpr int kDefaultHttpPort = 7341;

struct DashboardOptions {
  std::string http;  // HOST:PORT; empty: the scheduler's host, port kDefaultHttpPort
  bool open = false;
};

// `text` with everything but URL-safe characters as %XX.
std::string PercentEncoded(const std::string& text) {
  std::string out;
  for (const unsigned char c : text) {
    if (absl::ascii_isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      absl::StrAppendFormat(&out, "%%%02X", c);
    }
  }
  return out;
}

// Runs xdg-open on `url` and waits for it (it returns once a browser has
// the address); false, saying why on the error stream, when it cannot.
bool OpenInBrowser(const Context& context, const std::string& url) {
  char program[] = "xdg-open";
  std::string argument = url;
  char* argv[] = {program, argument.data(), nullptr};
  pid_t pid = 0;
  if (::posix_spawnp(&pid, program, nullptr, nullptr, argv, environ) != 0) {
    context.Error("cannot run xdg-open; open the address above in a browser");
    return false;
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    context.Error("xdg-open failed; open the address above in a browser");
    return false;
  }
  return true;
}

int RunDashboard(const Context& context, const DashboardOptions& options) {
  std::string address = options.http;
  if (address.empty()) {
    std::string host;
    int port = 0;
    if (!SplitHostPort(context.scheduler, &host, &port)) {
      context.Error(absl::StrCat("--scheduler must be HOST:PORT, got ", context.scheduler));
      return kExitUsage;
    }
    address = absl::StrCat(host.find(':') == std::string::npos ? host : "[" + host + "]", ":",
                           kDefaultHttpPort);
  }
  // The token the other commands would present to this scheduler, resolved
  // the same way (--token-file, the environment, the local token).
  absl::StatusOr<ClientTransport> transport =
      ClientTransport::Create(context.scheduler, context.security);
  if (!transport.ok()) {
    context.Error(std::string(transport.status().message()));
    return kExitNoPermission;
  }
  std::string url = absl::StrCat(transport->tls() ? "https://" : "http://", address, "/");
  if (transport->has_token()) {
    absl::StrAppend(&url, "#token=", PercentEncoded(transport->token()));
  } else {
    context.Error("no token found (--token-file, NETPOOL_TOKEN); the page will ask for one");
  }
  *context.out << url << '\n' << std::flush;
  if (options.open && !OpenInBrowser(context, url)) return kExitFailed;
  return kExitOk;
}

}  // namespace

void AddDashboardCommand(CLI::App& app, Command* run) {
  auto options = std::make_shared<DashboardOptions>();
  CLI::App* command = app.add_subcommand(
      "dashboard",
      "Print the address of netpoold's dashboard with this user's token (keep it private)");
  command->add_option("--http", options->http,
                      "netpoold's --http address HOST:PORT (default: the scheduler's host, "
                      "port 7341)");
  command->add_flag("--open", options->open,
                    "Also open it with xdg-open (whose command line, token included, other "
                    "local users can see while it runs)");
  command->callback([options, run] {
    *run = [options](const Context& context) { return RunDashboard(context, *options); };
  });
}

}  // namespace cli
}  // namespace netpool
