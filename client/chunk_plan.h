// ChunkPlan is how Map and Starmap (and the CLI's map) cut a list of calls
// into jobs: with a chunksize of 1 each call is a plain job; otherwise each
// run of `chunksize` calls travels as one job whose JobSpec.packed_chunk
// holds the calls' argument lists (JobSpec.chunk when one refers to another
// job) and whose result is the list of their results.
//
//   ChunkPlan plan(arg_lists.size(), DefaultChunkSize(arg_lists.size(), slots));
//   for (const ChunkPlan::Chunk& chunk : plan.chunks())
//     Submit(plan.MakeJob("square", &arg_lists, chunk));
//   ... plan.ItemResults(job_result, chunk) gives the chunk's per-call results.
#ifndef NETPOOL_CLIENT_CHUNK_PLAN_H_
#define NETPOOL_CLIENT_CHUNK_PLAN_H_

#include <cstddef>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "netpool/v1/netpool.pb.h"
#include "netpool/value.h"

namespace netpool {

// Items per job when the caller leaves it to us, as Python's Pool.map does:
// ceil(items / (4 * slots)), at least 1; `slots` below 1 counts as 1.
size_t DefaultChunkSize(size_t items, int slots);

class ChunkPlan {
 public:
  // Consecutive calls [first, first + count) that go in one job.
  struct Chunk {
    size_t first = 0;
    size_t count = 0;
  };

  // REQUIRES: chunksize >= 1.
  ChunkPlan(size_t items, size_t chunksize);

  const std::vector<Chunk>& chunks() const { return chunks_; }
  // The number of calls across all chunks.
  size_t items() const { return items_; }

  // The job for `chunk`, moving (or, for a packed chunk, copying) its
  // argument lists out of `arg_lists`.
  v1::JobSpec MakeJob(std::string_view function, std::vector<ValueList>* arg_lists,
                      const Chunk& chunk) const;
  // The same for calls of one argument each (Map's): arguments[i] is call
  // i's, and no list is made for each.
  v1::JobSpec MakeJob(std::string_view function, std::vector<Value>* arguments,
                      const Chunk& chunk) const;

  // The chunk's per-call results, moved out of its job's outcome: the job's
  // error for a failed job, kInternal when a chunk's result is not a list of
  // one result per call.
  absl::StatusOr<std::vector<Value>> ItemResults(absl::StatusOr<Value> job_result,
                                                 const Chunk& chunk) const;

 private:
  bool chunked() const { return chunksize_ > 1; }
  template <typename Call>
  v1::JobSpec MakeJobOf(std::string_view function, std::vector<Call>* calls,
                        const Chunk& chunk) const;

  const size_t items_;
  const size_t chunksize_;
  std::vector<Chunk> chunks_;
};

}  // namespace netpool

#endif  // NETPOOL_CLIENT_CHUNK_PLAN_H_
