// netpool-worker: the stock worker node, serving the built-in functions.
#include "netpool/worker.h"

int main(int argc, char** argv) {
  netpool::Init(argc, argv);
  return netpool::WorkerApp().Main(argc, argv);
}
