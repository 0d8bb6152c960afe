// The dashboard at netpoold's "/": a page, its style and its script
// (server/http/dashboard/, built into the binary by dashboard/embed.cmake),
// which read the JSON API (api_v1.h) in the browser. The files hold no data,
// so they are served without a token; the page sends the token it was given
// in its address's fragment (#token=..., never sent to the server) with each
// API call.
#ifndef NETPOOL_SERVER_HTTP_DASHBOARD_H_
#define NETPOOL_SERVER_HTTP_DASHBOARD_H_

namespace httplib {
class Server;
}  // namespace httplib

namespace netpool {

struct DashboardFile {
  const char* path;  // as requested: "/", "/dashboard.js"
  const char* content_type;
  const char* body;
};
// Generated from server/http/dashboard/.
extern const DashboardFile kDashboardFiles[];
extern const int kDashboardFileCount;

// Adds a route for each of the files to `server`.
void ServeDashboard(httplib::Server& server);

}  // namespace netpool

#endif  // NETPOOL_SERVER_HTTP_DASHBOARD_H_
