// Pool::Local in ten lines: the squares are computed in worker processes
// spawned from this very program, with no daemon to start. Replace Local()
// with Connect("HOST:PORT") and the same program runs on a cluster whose
// workers serve "square" (a worker binary with the same Register line).
#include <iostream>
#include <netpool/netpool.h>

absl::StatusOr<netpool::Value> Square(const std::vector<netpool::Value>& args,
                                      netpool::TaskContext&) {
  return args.at(0).AsInt() * args.at(0).AsInt();
}
static const bool kRegistered = netpool::Register("square", Square);

int main(int argc, char** argv) {
  netpool::Init(argc, argv);  // in a spawned copy of this program, the worker loop runs here
  absl::StatusOr<netpool::Pool> pool = netpool::Pool::Local();  // one worker process per core
  if (!pool.ok()) { std::cerr << pool.status() << "\n"; return 1; }
  absl::StatusOr<std::vector<netpool::Value>> squares = pool->Map("square", {1, 2, 3, 4, 5});
  if (!squares.ok()) { std::cerr << squares.status() << "\n"; return 1; }
  for (const netpool::Value& square : *squares) std::cout << square.ToJson() << "\n";
}
