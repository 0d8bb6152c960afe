// The HTTP side of a worker node (netpool-worker --http): /healthz, which
// answers while the node runs, and /metrics (NodeMetrics), which needs the
// node's own token, the one it presents to the scheduler, given as
// "Authorization: Bearer TOKEN". It serves as common/http_server.h says;
// beyond loopback only over HTTPS with the node's certificate (WorkerApp
// checks).
//
//   int main(int argc, char** argv) {
//     netpool::Init(argc, argv);
//     netpool::EnableNodeHttp();
//     return netpool::WorkerApp().Main(argc, argv);
//   }
#ifndef NETPOOL_WORKER_HTTP_NODE_HTTP_H_
#define NETPOOL_WORKER_HTTP_NODE_HTTP_H_

namespace netpool {

// Lets WorkerApp::Main serve --http (worker/node_http_hook.h).
void EnableNodeHttp();

}  // namespace netpool

#endif  // NETPOOL_WORKER_HTTP_NODE_HTTP_H_
