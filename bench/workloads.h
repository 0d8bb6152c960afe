// The workloads netpool_bench measures, each against a real deployment: a
// netpoold process and netpool-worker nodes on 127.0.0.1 (TestCluster), used
// through the public Pool API as a user would. Each returns one sample.
#ifndef NETPOOL_BENCH_WORKLOADS_H_
#define NETPOOL_BENCH_WORKLOADS_H_

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "netpool/pool.h"

namespace netpool::bench {

// A: `tasks` ApplyAsync calls of a no-op, then a Get of each; tasks/s.
absl::StatusOr<double> ApplyAsyncRate(Pool& pool, int tasks);

// B: Map of a no-op over `items` items (chunksize 0: the default); items/s.
absl::StatusOr<double> MapRate(Pool& pool, int items, int chunksize);

// The rates of the first map of `items` (default chunksize) on `pool` and of
// one after two more, untimed, maps. The first pays for every process's first
// touch of the memory it maps with, and glibc's malloc has settled its
// thresholds by the fourth; run_peers.py times multiprocessing.Pool's map in
// a pool that has already worked, which the warm rate compares with.
struct ColdAndWarm {
  double cold = 0;
  double warm = 0;
};
absl::StatusOr<ColdAndWarm> DefaultMapRates(Pool& pool, int items);

// B across a delay: Map of `sleep` over `items` items of `seconds` each, so
// that a job's run time is known; items/s.
absl::StatusOr<double> MapSleepRate(Pool& pool, int items, double seconds, int chunksize);

// C: `calls` sequential Apply round trips; each one's latency in µs.
absl::StatusOr<std::vector<double>> RoundTripMicros(Pool& pool, int calls);

// The transport's floor under C: `calls` sequential GetStats RPCs, the
// lightest call netpoold answers; each one's latency in µs.
absl::StatusOr<std::vector<double>> RpcRoundTripMicros(const std::string& address, int calls);

// D: `tasks` jobs sleeping `seconds` each, all submitted at once; the
// seconds until the last one finished.
absl::StatusOr<double> SleepMakespan(Pool& pool, int tasks, double seconds);

// Submits `jobs` no-op jobs straight through the Submit RPC in large
// batches, each carrying `labels`; returns once all are acknowledged.
absl::Status FillQueue(const std::string& address, int64_t jobs,
                       const std::map<std::string, std::string>& labels);

// Resident memory of process `pid` in bytes (VmRSS), or an error.
absl::StatusOr<int64_t> ResidentBytes(pid_t pid);

// Threads of process `pid` (Threads in /proc/PID/status), or an error.
absl::StatusOr<int64_t> ThreadCount(pid_t pid);

// CPU time (user + system, all threads) process `pid` has used so far, in
// seconds; 0 when it cannot be read (the process is gone).
double CpuSeconds(pid_t pid);

}  // namespace netpool::bench

#endif  // NETPOOL_BENCH_WORKLOADS_H_
