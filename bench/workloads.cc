#include "bench/workloads.h"

#include <unistd.h>

#include <fstream>
#include <iterator>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "client/scheduler_client.h"

namespace netpool::bench {
namespace {

// The no-op: echo returns its arguments.
constexpr char kNoop[] = "echo";

// Jobs per Submit RPC when filling a queue: far below the request size limit.
constexpr int64_t kFillBatch = 5000;

double PerSecond(int64_t count, absl::Time start) {
  return static_cast<double>(count) / absl::ToDoubleSeconds(absl::Now() - start);
}

// The number in field `name` of /proc/PID/status (a unit after it, such
// as "kB", is left off).
absl::StatusOr<int64_t> StatusField(pid_t pid, absl::string_view name) {
  std::ifstream status(absl::StrCat("/proc/", pid, "/status"));
  const std::string prefix = absl::StrCat(name, ":");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind(prefix, 0) != 0) continue;
    std::vector<absl::string_view> words =
        absl::StrSplit(absl::string_view(line).substr(prefix.size()), absl::ByAnyChar(" \t"),
                       absl::SkipWhitespace());
    int64_t number = 0;
    if (words.empty() || !absl::SimpleAtoi(words[0], &number)) break;
    return number;
  }
  return absl::NotFoundError(absl::StrCat("no ", name, " for pid ", pid));
}

// Map of `function` over `inputs`; items/s.
absl::StatusOr<double> MapInputsRate(Pool& pool, const std::string& function,
                                     std::vector<Value> inputs, int chunksize) {
  const size_t items = inputs.size();
  MapOptions options;
  options.chunksize = chunksize;
  const absl::Time start = absl::Now();
  absl::StatusOr<std::vector<Value>> results = pool.Map(function, std::move(inputs), options);
  if (!results.ok()) return results.status();
  if (results->size() != items) {
    return absl::InternalError(absl::StrCat("Map returned ", results->size(), " of ", items));
  }
  return PerSecond(static_cast<int64_t>(items), start);
}

}  // namespace

absl::StatusOr<double> ApplyAsyncRate(Pool& pool, int tasks) {
  const absl::Time start = absl::Now();
  std::vector<AsyncResult> results;
  results.reserve(tasks);
  for (int i = 0; i < tasks; ++i) results.push_back(pool.ApplyAsync(kNoop, {i}));
  for (const AsyncResult& result : results) {
    if (absl::StatusOr<Value> value = result.Get(); !value.ok()) return value.status();
  }
  return PerSecond(tasks, start);
}

absl::StatusOr<double> MapRate(Pool& pool, int items, int chunksize) {
  std::vector<Value> inputs;
  inputs.reserve(items);
  for (int i = 0; i < items; ++i) inputs.emplace_back(i);
  return MapInputsRate(pool, kNoop, std::move(inputs), chunksize);
}

absl::StatusOr<ColdAndWarm> DefaultMapRates(Pool& pool, int items) {
  ColdAndWarm rates;
  absl::StatusOr<double> cold = MapRate(pool, items, 0);
  if (!cold.ok()) return cold.status();
  rates.cold = *cold;
  for (int i = 0; i < 2; ++i) {
    if (absl::StatusOr<double> untimed = MapRate(pool, items, 0); !untimed.ok()) {
      return untimed.status();
    }
  }
  absl::StatusOr<double> warm = MapRate(pool, items, 0);
  if (!warm.ok()) return warm.status();
  rates.warm = *warm;
  return rates;
}

absl::StatusOr<double> MapSleepRate(Pool& pool, int items, double seconds, int chunksize) {
  return MapInputsRate(pool, "sleep", std::vector<Value>(items, Value(seconds)), chunksize);
}

absl::StatusOr<std::vector<double>> RoundTripMicros(Pool& pool, int calls) {
  std::vector<double> micros;
  micros.reserve(calls);
  for (int i = 0; i < calls; ++i) {
    const absl::Time start = absl::Now();
    if (absl::StatusOr<Value> value = pool.Apply(kNoop, {i}); !value.ok()) return value.status();
    micros.push_back(absl::ToDoubleMicroseconds(absl::Now() - start));
  }
  return micros;
}

absl::StatusOr<std::vector<double>> RpcRoundTripMicros(const std::string& address, int calls) {
  SchedulerClient client(address);
  std::vector<double> micros;
  micros.reserve(calls);
  for (int i = 0; i < calls; ++i) {
    const absl::Time start = absl::Now();
    if (absl::StatusOr<v1::GetStatsResponse> stats = client.GetStats(); !stats.ok()) {
      return stats.status();
    }
    micros.push_back(absl::ToDoubleMicroseconds(absl::Now() - start));
  }
  return micros;
}

absl::StatusOr<double> SleepMakespan(Pool& pool, int tasks, double seconds) {
  const absl::Time start = absl::Now();
  std::vector<AsyncResult> results;
  for (int i = 0; i < tasks; ++i) results.push_back(pool.ApplyAsync("sleep", {seconds}));
  for (const AsyncResult& result : results) {
    if (absl::StatusOr<Value> value = result.Get(); !value.ok()) return value.status();
  }
  return absl::ToDoubleSeconds(absl::Now() - start);
}

absl::Status FillQueue(const std::string& address, int64_t jobs,
                       const std::map<std::string, std::string>& labels) {
  SchedulerClient client(address);
  for (int64_t first = 0; first < jobs; first += kFillBatch) {
    v1::SubmitRequest request;
    for (int64_t i = first; i < std::min(jobs, first + kFillBatch); ++i) {
      v1::JobSpec* spec = request.add_jobs();
      spec->set_function(kNoop);
      spec->add_args()->set_int_value(i);
      spec->mutable_labels()->insert(labels.begin(), labels.end());
    }
    if (absl::StatusOr<v1::SubmitResponse> response = client.Submit(request); !response.ok()) {
      return response.status();
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<int64_t> ResidentBytes(pid_t pid) {
  absl::StatusOr<int64_t> kib = StatusField(pid, "VmRSS");
  if (!kib.ok()) return kib.status();
  return *kib * 1024;
}

absl::StatusOr<int64_t> ThreadCount(pid_t pid) { return StatusField(pid, "Threads"); }

double CpuSeconds(pid_t pid) {
  std::ifstream stat(absl::StrCat("/proc/", pid, "/stat"));
  std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  // Fields after the command name, which is in parentheses and may hold spaces.
  const size_t end_of_name = text.rfind(')');
  if (end_of_name == std::string::npos) return 0;
  std::vector<std::string> fields = absl::StrSplit(text.substr(end_of_name + 2), ' ');
  // utime and stime are fields 14 and 15 of stat(5), the 12th and 13th here.
  int64_t user = 0, system = 0;
  if (fields.size() < 13 || !absl::SimpleAtoi(fields[11], &user) ||
      !absl::SimpleAtoi(fields[12], &system)) {
    return 0;
  }
  return static_cast<double>(user + system) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

}  // namespace netpool::bench
