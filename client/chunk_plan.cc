#include "client/chunk_plan.h"

#include <algorithm>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/types/span.h"
#include "common/packed_chunk.h"
#include "common/value_proto.h"

namespace netpool {
namespace {

// Whether `value` is, or holds, another job's result, which the scheduler
// must substitute and so must be able to see.
bool HoldsJobRef(const Value& value) {
  switch (value.kind()) {
    case Value::Kind::kJobRef:
      return true;
    case Value::Kind::kList:
      return std::any_of(value.AsList().begin(), value.AsList().end(), HoldsJobRef);
    case Value::Kind::kMap:
      return std::any_of(value.AsMap().begin(), value.AsMap().end(),
                         [](const auto& entry) { return HoldsJobRef(entry.second); });
    default:
      return false;
  }
}

bool CallHoldsJobRef(const ValueList& args) {
  return std::any_of(args.begin(), args.end(), HoldsJobRef);
}
bool CallHoldsJobRef(const Value& argument) { return HoldsJobRef(argument); }

std::string Pack(absl::Span<const ValueList> arg_lists) { return PackChunk(arg_lists); }
std::string Pack(absl::Span<const Value> arguments) { return PackOneArgumentCalls(arguments); }

ValueList TakeArgs(ValueList* args) { return std::move(*args); }
ValueList TakeArgs(Value* argument) { return ValueList{std::move(*argument)}; }

}  // namespace

size_t DefaultChunkSize(size_t items, int slots) {
  const size_t jobs = 4 * static_cast<size_t>(std::max(slots, 1));
  return std::max<size_t>(1, (items + jobs - 1) / jobs);
}

ChunkPlan::ChunkPlan(size_t items, size_t chunksize)
    : items_(items), chunksize_(chunksize) {
  for (size_t first = 0; first < items; first += chunksize_) {
    chunks_.push_back(Chunk{first, std::min(chunksize_, items - first)});
  }
}

template <typename Call>
v1::JobSpec ChunkPlan::MakeJobOf(std::string_view function, std::vector<Call>* calls,
                                 const Chunk& chunk) const {
  v1::JobSpec spec;
  spec.set_function(std::string(function));
  const absl::Span<const Call> chunk_calls(calls->data() + chunk.first, chunk.count);
  if (chunked() && std::none_of(chunk_calls.begin(), chunk_calls.end(),
                                [](const Call& call) { return CallHoldsJobRef(call); })) {
    spec.set_packed_chunk(Pack(chunk_calls));
    return spec;
  }
  for (size_t i = chunk.first; i < chunk.first + chunk.count; ++i) {
    const ValueList args = TakeArgs(&(*calls)[i]);
    auto* out = chunked() ? spec.add_chunk()->mutable_items() : spec.mutable_args();
    out->Reserve(static_cast<int>(args.size()));
    for (const Value& arg : args) ToProto(arg, out->Add());
  }
  return spec;
}

v1::JobSpec ChunkPlan::MakeJob(std::string_view function, std::vector<ValueList>* arg_lists,
                               const Chunk& chunk) const {
  return MakeJobOf(function, arg_lists, chunk);
}

v1::JobSpec ChunkPlan::MakeJob(std::string_view function, std::vector<Value>* arguments,
                               const Chunk& chunk) const {
  return MakeJobOf(function, arguments, chunk);
}

absl::StatusOr<std::vector<Value>> ChunkPlan::ItemResults(absl::StatusOr<Value> job_result,
                                                          const Chunk& chunk) const {
  if (!job_result.ok()) return job_result.status();
  if (!chunked()) return std::vector<Value>{*std::move(job_result)};
  if (!job_result->is_list()) {
    return absl::InternalError(absl::StrCat("a chunk of ", chunk.count, " calls returned a ",
                                            std::string(KindName(job_result->kind())),
                                            ", not a list"));
  }
  if (job_result->AsList().size() != chunk.count) {
    return absl::InternalError(absl::StrCat("a chunk of ", chunk.count, " calls returned ",
                                            job_result->AsList().size(), " results"));
  }
  return std::move(job_result->MutableList());
}

}  // namespace netpool
