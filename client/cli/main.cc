// netpool: the command line client of a netpool cluster. With `map --local`
// it is also its own worker: the worker processes it spawns are copies of
// this program, which netpool::Init turns into worker processes.
#include <unistd.h>

#include <iostream>
#include <string>
#include <vector>

#include "client/cli/cli.h"
#include "netpool/worker.h"

int main(int argc, char** argv) {
  netpool::Init(argc, argv);
  std::ios::sync_with_stdio(false);
  const bool interactive = ::isatty(STDOUT_FILENO) == 1 && ::isatty(STDERR_FILENO) == 1;
  return netpool::cli::RunCli(std::vector<std::string>(argv + 1, argv + argc), std::cin,
                              std::cout, std::cerr, interactive);
}
