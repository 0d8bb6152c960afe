// How WorkerApp reaches the node's HTTP side (netpool-worker --http: the
// probe /healthz and Prometheus /metrics), which lives in a library of its
// own, netpool_node_http (worker/http/node_http.h), so that the client
// library, which embeds node agents (Pool::Local), never depends on an HTTP
// or metrics library. A program that links it turns it on with
// EnableNodeHttp() before WorkerApp::Main; in one that does not, --http
// other than off is a usage error.
#ifndef NETPOOL_WORKER_NODE_HTTP_HOOK_H_
#define NETPOOL_WORKER_NODE_HTTP_HOOK_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "common/transport.h"
#include "worker/pool_observer.h"

namespace netpool {

// NodeHttpSide counts what the node's processes do and serves it.
class NodeHttpSide {
 public:
  virtual ~NodeHttpSide() = default;
  // For NodeAgent::Options::observer.
  virtual PoolObserver* observer() = 0;
  // Binds HOST:PORT (port 0: the system picks one) and serves; returns the
  // port. kUnavailable when the address cannot be bound.
  virtual absl::StatusOr<int> Start(const std::string& host, int port) = 0;
};

// Makes the HTTP side: HTTPS with `tls` when enabled, and /metrics open to
// callers that present `token` (none when it is empty). kInvalidArgument for
// a certificate or key HTTPS cannot use.
using NodeHttpFactory = absl::StatusOr<std::unique_ptr<NodeHttpSide>> (*)(const ServerTls& tls,
                                                                         std::string token);

// Set by EnableNodeHttp(); null until then.
void SetNodeHttpFactory(NodeHttpFactory factory);
NodeHttpFactory GetNodeHttpFactory();

}  // namespace netpool

#endif  // NETPOOL_WORKER_NODE_HTTP_HOOK_H_
