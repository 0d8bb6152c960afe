// netpoold's JSON API under /api/v1/: the records of the CLI's -o json
// (common/records.h, the README's "Output for scripts"), for dashboards and
// scripts that speak HTTP rather than gRPC.
//   GET /api/v1/overview         the stats record plus {version} and
//                                {history}: jobs finished per interval of
//                                the last minutes (FinishedHistory)
//   GET /api/v1/workers          worker records (admins only, as ListWorkers)
//   GET /api/v1/jobs?state=&function=&label=K=V&limit=&order=&before=
//                                job records, the caller's own unless it is
//                                an admin (as ListJobs); order=newest lists
//                                the newest first, and before=ID (with it)
//                                those submitted before job ID: the next page
//   GET /api/v1/jobs/ID          one job record plus its result, when it is
//                                finished, as {value} or {error}
// Every call needs a client or admin token; a refused or failed call answers
// with {code, message} (ErrorValue) and its HTTP status.
#ifndef NETPOOL_SERVER_HTTP_API_V1_H_
#define NETPOOL_SERVER_HTTP_API_V1_H_

namespace httplib {
class Server;
}  // namespace httplib

namespace netpool {

class Authenticator;
class FinishedHistory;
class SchedulerRuntime;

// Adds the routes to `server`. REQUIRES: the pointers outlive `server`.
void ServeApiV1(httplib::Server& server, SchedulerRuntime* runtime,
                const FinishedHistory* history, const Authenticator* authenticator);

}  // namespace netpool

#endif  // NETPOOL_SERVER_HTTP_API_V1_H_
