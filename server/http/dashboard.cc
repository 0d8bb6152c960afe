#include "server/http/dashboard.h"

#include "httplib.h"

namespace netpool {

void ServeDashboard(httplib::Server& server) {
  for (int i = 0; i < kDashboardFileCount; ++i) {
    const DashboardFile& file = kDashboardFiles[i];
    server.Get(file.path, [&file](const httplib::Request&, httplib::Response& response) {
      // Only this server's own script and style, and API calls to it; no
      // framing by another site, and no address (with its fragment) in
      // a Referer header.
      response.set_header("Content-Security-Policy",
                          "default-src 'none'; script-src 'self'; style-src 'self'; "
                          "connect-src 'self'; img-src 'self'; form-action 'none'; "
                          "frame-ancestors 'none'; base-uri 'none'");
      response.set_header("X-Content-Type-Options", "nosniff");
      response.set_header("Referrer-Policy", "no-referrer");
      response.set_header("Cache-Control", "no-cache");
      response.set_content(file.body, file.content_type);
    });
  }
}

}  // namespace netpool
