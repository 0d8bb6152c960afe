// Pool and AsyncResult: the public face of internal::PoolClient.
#include "netpool/pool.h"

#include <algorithm>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "client/chunk_plan.h"
#include "client/pool_client.h"
#include "client/result_state.h"
#include "common/value_proto.h"

namespace netpool {
namespace {

absl::Status NoJob() { return absl::FailedPreconditionError("AsyncResult has no job"); }

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

absl::StatusOr<std::vector<Value>> Pool::Map(std::string_view fn, std::vector<Value> items,
                                             MapOptions options) {
  std::vector<ValueList> arg_lists;
  arg_lists.reserve(items.size());
  for (Value& item : items) arg_lists.push_back(ValueList{std::move(item)});
  return Starmap(fn, std::move(arg_lists), std::move(options));
}

absl::StatusOr<std::vector<Value>> Pool::Starmap(std::string_view fn,
                                                 std::vector<std::vector<Value>> items,
                                                 MapOptions options) {
  if (items.empty()) return std::vector<Value>();
  size_t chunksize = static_cast<size_t>(std::max(options.chunksize, 0));
  if (chunksize == 0) {
    absl::StatusOr<int> slots = Slots();
    if (!slots.ok()) return slots.status();
    chunksize = DefaultChunkSize(items.size(), *slots);
  }
  // The callbacks are for the whole map, as in Python's map_async.
  CallOptions job_options = options.call;
  job_options.callback = nullptr;
  job_options.error_callback = nullptr;

  const ChunkPlan plan(items.size(), chunksize);
  std::vector<std::shared_ptr<internal::ResultState>> jobs;
  jobs.reserve(plan.chunks().size());
  for (const ChunkPlan::Chunk& chunk : plan.chunks()) {
    jobs.push_back(client_->Submit(plan.MakeJob(fn, &items, chunk), job_options));
  }

  std::vector<Value> results;
  results.reserve(items.size());
  absl::Status first_error;
  for (size_t i = 0; i < jobs.size(); ++i) {
    jobs[i]->WaitUntil(absl::InfiniteFuture());
    absl::StatusOr<std::vector<Value>> chunk_results =
        plan.ItemResults(jobs[i]->outcome().value, plan.chunks()[i]);
    if (!chunk_results.ok()) {
      if (first_error.ok()) first_error = chunk_results.status();
      continue;
    }
    for (Value& result : *chunk_results) results.push_back(std::move(result));
  }
  if (!first_error.ok()) {
    if (options.call.error_callback) options.call.error_callback(first_error);
    return first_error;
  }
  if (options.call.callback) options.call.callback(Value(results));
  return results;
}

absl::StatusOr<int> Pool::Slots() {
  absl::StatusOr<v1::GetStatsResponse> stats = client_->scheduler().GetStats();
  if (!stats.ok()) return stats.status();
  return stats->slots();
}

const std::string& Pool::address() const { return client_->address(); }

}  // namespace netpool
