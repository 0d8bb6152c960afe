// Pool, AsyncResult, MapResult and IMapIterator: the public face of
// internal::PoolClient and the map states.
#include "netpool/pool.h"

#include <algorithm>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "client/chunk_plan.h"
#include "client/imap_state.h"
#include "client/map_result_state.h"
#include "client/pool_client.h"
#include "client/result_state.h"
#include "common/value_proto.h"

namespace netpool {
namespace {

absl::Status NoJob() { return absl::FailedPreconditionError("AsyncResult has no job"); }
absl::Status NoMap() { return absl::FailedPreconditionError("MapResult has no map"); }

// Specs of this many bytes go to the submitter together: a chunk of a big
// map leaves as soon as it is packed, so the workers start on it while the
// rest are still being packed, and chunks of one call each still go in
// batches.
constexpr size_t kSubmitGroupBytes = 64 << 10;

// The jobs of one map call: one per chunk of `plan`, each reporting its
// outcome to `sink` (a MapResultState or an IMapState) as chunk i. `Call` is
// a ValueList (Starmap's argument lists) or a Value (Map's one argument).
// A Close() from another thread while the chunks are being queued fails the
// map, and the chunks queued before it run, as tasks submitted before
// Python's close() do.
template <typename Sink, typename Call>
absl::StatusOr<std::shared_ptr<const internal::JobHandles>> SubmitChunks(
    internal::PoolClient& client, std::string_view fn, std::vector<Call> calls,
    const ChunkPlan& plan, const CallOptions& call, const std::shared_ptr<Sink>& sink) {
  CallOptions job = call;
  job.callback = nullptr;
  job.error_callback = nullptr;
  internal::JobHandles handles;
  handles.reserve(plan.chunks().size());
  std::vector<v1::JobSpec> specs;
  std::vector<internal::PoolClient::ResultSink> sinks;
  size_t group_bytes = 0;
  for (size_t i = 0; i < plan.chunks().size(); ++i) {
    specs.push_back(plan.MakeJob(fn, &calls, plan.chunks()[i]));
    group_bytes += specs.back().packed_chunk().size();
    // The sink holds no handle on the client, so this does not keep it alive.
    sinks.push_back([sink, i](absl::StatusOr<Value> result) {
      sink->ChunkDone(i, std::move(result));
    });
    if (group_bytes < kSubmitGroupBytes && i + 1 < plan.chunks().size()) continue;
    const std::vector<CallOptions> options(specs.size(), job);
    absl::StatusOr<internal::JobHandles> group =
        client.SubmitAll(std::move(specs), options, std::move(sinks));
    if (!group.ok()) return group.status();
    handles.insert(handles.end(), group->begin(), group->end());
    specs.clear();
    sinks.clear();
    group_bytes = 0;
  }
  return std::make_shared<const internal::JobHandles>(std::move(handles));
}

// Why a map call cannot start (checked before anything is submitted, so that
// an empty map on a closed pool fails too, as in Python), or OK.
absl::Status CheckMapCall(const internal::PoolClient& client, const MapOptions& options) {
  if (absl::Status open = client.CheckOpen(); !open.ok()) return open;
  if (options.chunksize < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("chunksize must be 1 or more (0: the default), not ", options.chunksize));
  }
  return absl::OkStatus();
}

absl::StatusOr<int> SlotsOf(internal::PoolClient& client) {
  absl::StatusOr<v1::GetStatsResponse> stats = client.scheduler().GetStats();
  if (!stats.ok()) return stats.status();
  return stats->slots();
}

// A MapAsync or StarmapAsync call under way: what its MapResult holds.
struct StartedMap {
  std::shared_ptr<internal::MapResultState> state;
  std::shared_ptr<const internal::JobHandles> jobs;
};

template <typename Call>
StartedMap StartMap(internal::PoolClient& client, std::string_view fn, std::vector<Call> items,
                    const MapOptions& options) {
  auto failed = [](absl::Status error) {
    return StartedMap{std::make_shared<internal::MapResultState>(std::move(error)), nullptr};
  };
  if (absl::Status usable = CheckMapCall(client, options); !usable.ok()) return failed(usable);
  size_t chunksize = static_cast<size_t>(options.chunksize);
  if (chunksize == 0 && !items.empty()) {
    absl::StatusOr<int> slots = SlotsOf(client);
    if (!slots.ok()) return failed(slots.status());
    chunksize = DefaultChunkSize(items.size(), *slots);
  }
  const ChunkPlan plan(items.size(), std::max<size_t>(chunksize, 1));
  auto state = std::make_shared<internal::MapResultState>(
      plan, internal::MapResultState::Callbacks{options.call.callback,
                                                options.call.error_callback});
  absl::StatusOr<std::shared_ptr<const internal::JobHandles>> jobs =
      SubmitChunks(client, fn, std::move(items), plan, options.call, state);
  if (!jobs.ok()) return failed(jobs.status());
  return StartedMap{std::move(state), *std::move(jobs)};
}

// Map's and Starmap's answer. No handle on the map leaves them, so its
// results move out instead of being copied as MapResult::Get must.
absl::StatusOr<std::vector<Value>> Wait(StartedMap map) {
  map.state->WaitUntil(absl::InfiniteFuture());
  return map.state->TakeResult();
}

// IMap and IMapUnordered, which differ only in the order results come out.
IMapIterator StartIMap(internal::PoolClient& client, internal::IMapState::Order order,
                       std::string_view fn, std::vector<Value> items, MapOptions options) {
  auto failed = [](absl::Status error) {
    return IMapIterator(std::make_shared<internal::IMapState>(std::move(error)), nullptr);
  };
  if (absl::Status usable = CheckMapCall(client, options); !usable.ok()) return failed(usable);
  if (options.call.callback || options.call.error_callback) {
    return failed(absl::InvalidArgumentError(
        "IMap and IMapUnordered take no callbacks (as Python's imap): the iterator hands "
        "over each result; use MapAsync for callbacks"));
  }
  const ChunkPlan plan(items.size(), static_cast<size_t>(std::max(options.chunksize, 1)));
  auto state = std::make_shared<internal::IMapState>(plan, order);
  absl::StatusOr<std::shared_ptr<const internal::JobHandles>> jobs =
      SubmitChunks(client, fn, std::move(items), plan, options.call, state);
  if (!jobs.ok()) return failed(jobs.status());
  return IMapIterator(std::move(state), *std::move(jobs));
}

}  // namespace

// ---------------------------------------------------------------- AsyncResult

AsyncResult::AsyncResult(std::shared_ptr<internal::ResultState> state)
    : state_(std::move(state)) {}

absl::StatusOr<Value> AsyncResult::Get(absl::Duration timeout) const {
  if (state_ == nullptr) return NoJob();
  if (!state_->WaitUntil(absl::Now() + timeout)) {
    return absl::DeadlineExceededError(absl::StrCat(
        "job ", state_->job_id, " did not finish within ", absl::FormatDuration(timeout)));
  }
  return state_->outcome().value;
}

bool AsyncResult::Wait(absl::Duration timeout) const {
  return state_ != nullptr && state_->WaitUntil(absl::Now() + timeout);
}

bool AsyncResult::Ready() const { return state_ != nullptr && state_->Ready(); }

absl::StatusOr<bool> AsyncResult::Successful() const {
  if (state_ == nullptr) return NoJob();
  if (!state_->Ready()) {
    return absl::FailedPreconditionError(
        absl::StrCat("job ", state_->job_id, " has not finished"));
  }
  return state_->outcome().value.ok();
}

absl::Status AsyncResult::Cancel() const {
  if (state_ == nullptr) return NoJob();
  std::shared_ptr<internal::PoolClient> client = state_->client.lock();
  if (client == nullptr) return absl::FailedPreconditionError("the job's pool is gone");
  return client->Cancel(*state_);
}

const std::string& AsyncResult::id() const {
  static const std::string* const kNoId = new std::string();
  return state_ != nullptr ? state_->job_id : *kNoId;
}

AsyncResult::operator Value() const { return JobRef{id()}; }

// ---------------------------------------------------------------- MapResult

MapResult::MapResult(std::shared_ptr<internal::MapResultState> state,
                     std::shared_ptr<const internal::JobHandles> jobs)
    : state_(std::move(state)), jobs_(std::move(jobs)) {}

absl::StatusOr<std::vector<Value>> MapResult::Get(absl::Duration timeout) const {
  if (state_ == nullptr) return NoMap();
  if (!state_->WaitUntil(absl::Now() + timeout)) {
    return absl::DeadlineExceededError(
        absl::StrCat("map did not finish within ", absl::FormatDuration(timeout)));
  }
  return state_->result();
}

bool MapResult::Wait(absl::Duration timeout) const {
  return state_ != nullptr && state_->WaitUntil(absl::Now() + timeout);
}

bool MapResult::Ready() const { return state_ != nullptr && state_->Ready(); }

absl::StatusOr<bool> MapResult::Successful() const {
  if (state_ == nullptr) return NoMap();
  if (!state_->Ready()) return absl::FailedPreconditionError("map has not finished");
  return state_->result().ok();
}

absl::Status MapResult::Cancel() const {
  if (state_ == nullptr) return NoMap();
  if (jobs_ == nullptr || jobs_->empty()) return absl::OkStatus();
  std::shared_ptr<internal::PoolClient> client = jobs_->front()->client.lock();
  return client->Cancel(*jobs_);
}

// ---------------------------------------------------------------- IMapIterator

IMapIterator::IMapIterator(std::shared_ptr<internal::IMapState> state,
                           std::shared_ptr<const internal::JobHandles> jobs)
    : state_(std::move(state)), jobs_(std::move(jobs)) {}
IMapIterator::IMapIterator(IMapIterator&&) noexcept = default;
IMapIterator& IMapIterator::operator=(IMapIterator&&) noexcept = default;
IMapIterator::~IMapIterator() = default;

absl::StatusOr<Value> IMapIterator::Next(absl::Duration timeout) {
  if (state_ == nullptr) return absl::OutOfRangeError("the iterator has no results");
  return state_->Next(absl::Now() + timeout);
}

// ---------------------------------------------------------------- Pool

absl::StatusOr<Pool> Pool::Connect(std::string address, ConnectOptions options) {
  absl::StatusOr<std::shared_ptr<internal::PoolClient>> client =
      internal::PoolClient::Connect(std::move(address), options);
  if (!client.ok()) return client.status();
  return Pool(*std::move(client));
}

Pool::Pool(std::shared_ptr<internal::PoolClient> client) : client_(std::move(client)) {}
Pool::Pool(Pool&&) noexcept = default;
Pool& Pool::operator=(Pool&&) noexcept = default;
Pool::~Pool() = default;

AsyncResult Pool::ApplyAsync(std::string_view fn, std::vector<Value> args, CallOptions options) {
  v1::JobSpec spec;
  spec.set_function(std::string(fn));
  spec.mutable_args()->Reserve(static_cast<int>(args.size()));
  for (const Value& arg : args) ToProto(arg, spec.add_args());
  return AsyncResult(client_->Submit(std::move(spec), options));
}

absl::StatusOr<Value> Pool::Apply(std::string_view fn, std::vector<Value> args,
                                  CallOptions options) {
  return ApplyAsync(fn, std::move(args), std::move(options)).Get();
}

MapResult Pool::MapAsync(std::string_view fn, std::vector<Value> items, MapOptions options) {
  StartedMap map = StartMap(*client_, fn, std::move(items), options);
  return MapResult(std::move(map.state), std::move(map.jobs));
}

MapResult Pool::StarmapAsync(std::string_view fn, std::vector<std::vector<Value>> items,
                             MapOptions options) {
  StartedMap map = StartMap(*client_, fn, std::move(items), options);
  return MapResult(std::move(map.state), std::move(map.jobs));
}

absl::StatusOr<std::vector<Value>> Pool::Map(std::string_view fn, std::vector<Value> items,
                                             MapOptions options) {
  return Wait(StartMap(*client_, fn, std::move(items), options));
}

absl::StatusOr<std::vector<Value>> Pool::Starmap(std::string_view fn,
                                                 std::vector<std::vector<Value>> items,
                                                 MapOptions options) {
  return Wait(StartMap(*client_, fn, std::move(items), options));
}

IMapIterator Pool::IMap(std::string_view fn, std::vector<Value> items, MapOptions options) {
  return StartIMap(*client_, internal::IMapState::Order::kInput, fn, std::move(items),
                   std::move(options));
}

IMapIterator Pool::IMapUnordered(std::string_view fn, std::vector<Value> items,
                                 MapOptions options) {
  return StartIMap(*client_, internal::IMapState::Order::kCompletion, fn, std::move(items),
                   std::move(options));
}

void Pool::Close() { client_->Close(); }

absl::Status Pool::Join() { return client_->Join(); }

void Pool::Terminate() { client_->Terminate(); }

absl::StatusOr<int> Pool::Slots() { return SlotsOf(*client_); }

const std::string& Pool::address() const { return client_->address(); }

namespace internal {
PoolClient& ClientOf(const Pool& pool) { return *pool.client_; }
}  // namespace internal

}  // namespace netpool
