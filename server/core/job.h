// Job is the scheduler's record of one submitted job: what to run, where it
// is in its life (PENDING -> RUNNING -> SUCCEEDED | FAILED | CANCELLED), the
// history of its attempts and, once finished, its result.
//
// A scheduler holds many pending jobs, so a Job is kept small: its spec is
// the serialized v1::JobSpec as the client sent it, in one allocation with
// its id (JobSpecBytes), beside only the few fields scheduling reads
// (function, priority, labels, retry policy). What is read rarely (the args,
// for a status or a dispatch) is decoded on demand with DecodeSpec().
//
//   absl::StatusOr<Job> job = Job::FromSpec(spec);  // spec.job_id() set
//   v1::JobSpec again = job->DecodeSpec();
#ifndef NETPOOL_SERVER_CORE_JOB_H_
#define NETPOOL_SERVER_CORE_JOB_H_

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "netpool/v1/netpool.pb.h"

namespace netpool {

using WorkerId = uint64_t;
inline constexpr WorkerId kNoWorker = 0;

// A job's placement labels, or the labels a worker node announces.
using JobLabels = std::map<std::string, std::string>;

// JobSpecBytes is a job's id, function, idempotency key and serialized
// v1::JobSpec in one immutable allocation, shared by the copies of a Job
// (copying one is a reference count, thread-safe). The id and key are kept
// beside the bytes so that maps can be keyed by views of them.
class JobSpecBytes {
 public:
  JobSpecBytes() = default;
  JobSpecBytes(absl::string_view id, absl::string_view function, absl::string_view idempotency_key,
               absl::string_view serialized_spec);
  JobSpecBytes(const JobSpecBytes& other) noexcept;
  JobSpecBytes(JobSpecBytes&& other) noexcept;
  JobSpecBytes& operator=(JobSpecBytes other) noexcept;
  ~JobSpecBytes();

  absl::string_view id() const { return Field(0, rep_ ? rep_->id_size : 0); }
  absl::string_view function() const;
  absl::string_view idempotency_key() const;
  absl::string_view serialized_spec() const;

 private:
  struct Rep {
    std::atomic<uint32_t> refs;
    uint32_t id_size;
    uint32_t function_size;
    uint32_t key_size;
    uint32_t spec_size;
  };
  absl::string_view Field(size_t offset, size_t size) const;

  Rep* rep_ = nullptr;
};

// An optional T on the heap that copies deeply: a part of a Job that most
// records (the pending jobs') do not have, so that it costs them a pointer.
template <typename T>
class LazyPart {
 public:
  LazyPart() = default;
  LazyPart(const LazyPart& other)
      : part_(other.part_ != nullptr ? std::make_unique<T>(*other.part_) : nullptr) {}
  LazyPart(LazyPart&& other) noexcept = default;
  LazyPart& operator=(const LazyPart& other) {
    if (this != &other) {
      part_ = other.part_ != nullptr ? std::make_unique<T>(*other.part_) : nullptr;
    }
    return *this;
  }
  LazyPart& operator=(LazyPart&& other) noexcept = default;

  // nullptr while there is none.
  const T* get() const { return part_.get(); }
  // Makes an empty one if there is none.
  T* Mutable() {
    if (part_ == nullptr) part_ = std::make_unique<T>();
    return part_.get();
  }

 private:
  std::unique_ptr<T> part_;
};

// One run of a job on a worker node.
struct Attempt {
  int number = 0;
  std::string worker;  // node name
  absl::Time started = absl::InfinitePast();
  absl::Time finished = absl::InfinitePast();  // InfinitePast while running
  v1::JobError error;                          // code 0 = none
};

struct Job {
  // The job of `spec`, whose job_id() must be set.
  static Job FromSpec(const v1::JobSpec& spec);
  // The job of a serialized spec as JobSpecBytes::serialized_spec() holds
  // it; kDataLoss if the bytes do not parse.
  static absl::StatusOr<Job> FromSerializedSpec(absl::string_view serialized_spec);

  // The bytes a job keeps of `spec`: the same for equal specs (map entries
  // in key order).
  static std::string Serialize(const v1::JobSpec& spec);
  // Replaces the spec (and the fields decoded from it); job_id() must be set.
  void SetSpec(const v1::JobSpec& spec);
  // The spec, parsed from its bytes (a copy: cost it as one).
  v1::JobSpec DecodeSpec() const;

  absl::string_view id() const { return spec.id(); }
  absl::string_view function() const { return spec.function(); }
  absl::string_view idempotency_key() const { return spec.idempotency_key(); }
  const JobLabels& labels() const;
  bool finished_state() const { return IsFinal(state); }
  static bool IsFinal(v1::JobState s) {
    return s == v1::SUCCEEDED || s == v1::FAILED || s == v1::CANCELLED;
  }

  JobSpecBytes spec;
  // Decoded from the spec, for scheduling.
  int32_t priority = 0;
  int32_t max_attempts = 0;  // 0 = the scheduler's default
  double retry_backoff_seconds = 0;  // 0 = the scheduler's default
  std::shared_ptr<const JobLabels> label_set;  // nullptr: no labels
  bool retry_on_error = false;

  bool fetched = false;  // result handed to a client
  v1::JobState state = v1::PENDING;
  // Submission order; FIFO within a priority follows it.
  uint64_t sequence = 0;
  // Times the job has been handed to a worker.
  int attempt = 0;
  // Running on (kNoWorker: not running, or running on a node that has not
  // come back since a scheduler restart).
  WorkerId worker = kNoWorker;
  // The node it runs or last ran on; jobs of one node share the string.
  const std::string& worker_name() const { return NameOr(node_name); }
  void set_worker_name(std::shared_ptr<const std::string> name) { node_name = std::move(name); }
  void set_worker_name(const std::string& name) { node_name = SharedName(name); }
  std::shared_ptr<const std::string> node_name;
  absl::Time submitted = absl::InfinitePast();
  absl::Time started = absl::InfinitePast();
  absl::Time finished = absl::InfinitePast();
  // A pending job waiting out its retry backoff runs no earlier than this.
  absl::Time not_before = absl::InfinitePast();
  std::vector<Attempt> attempts;  // oldest first
  // Set when the job is finished; a default (empty) result until then.
  const v1::JobResult& result() const;
  v1::JobResult* mutable_result() { return result_part.Mutable(); }
  LazyPart<v1::JobResult> result_part;
  // The identity that submitted the job; only it (and an admin) may see,
  // wait on or cancel the job. Jobs of one owner share the string.
  std::shared_ptr<const std::string> owner_name;

  const std::string& owner() const { return NameOr(owner_name); }
  void set_owner(std::shared_ptr<const std::string> owner) { owner_name = std::move(owner); }
  void set_owner(const std::string& owner) { owner_name = SharedName(owner); }

  // A name to share between jobs; nullptr for the empty name.
  static std::shared_ptr<const std::string> SharedName(const std::string& name);
  // The shared name, or "" for nullptr.
  static const std::string& NameOr(const std::shared_ptr<const std::string>& name);
};

}  // namespace netpool

#endif  // NETPOOL_SERVER_CORE_JOB_H_
