// netpool: the command line client of a netpool cluster.
#include <iostream>
#include <string>
#include <vector>

#include "client/cli/cli.h"

int main(int argc, char** argv) {
  std::ios::sync_with_stdio(false);
  return netpool::cli::RunCli(std::vector<std::string>(argv + 1, argv + argc), std::cin,
                              std::cout, std::cerr);
}
