// netpool-worker: the stock worker node, serving the built-in functions,
// with its HTTP side (--http).
#include "netpool/worker.h"
#include "worker/http/node_http.h"

int main(int argc, char** argv) {
  netpool::Init(argc, argv);
  netpool::EnableNodeHttp();
  return netpool::WorkerApp().Main(argc, argv);
}
