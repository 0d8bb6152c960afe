#include "server/core/job.h"

#include <cstring>
#include <new>
#include <utility>

#include "absl/status/status.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"

namespace netpool {

JobSpecBytes::JobSpecBytes(absl::string_view id, absl::string_view function,
                           absl::string_view idempotency_key, absl::string_view serialized_spec) {
  const size_t size =
      id.size() + function.size() + idempotency_key.size() + serialized_spec.size();
  void* memory = ::operator new(sizeof(Rep) + size);
  rep_ = new (memory) Rep;
  rep_->refs.store(1, std::memory_order_relaxed);
  rep_->id_size = static_cast<uint32_t>(id.size());
  rep_->function_size = static_cast<uint32_t>(function.size());
  rep_->key_size = static_cast<uint32_t>(idempotency_key.size());
  rep_->spec_size = static_cast<uint32_t>(serialized_spec.size());
  char* data = reinterpret_cast<char*>(rep_ + 1);
  for (absl::string_view part : {id, function, idempotency_key, serialized_spec}) {
    if (!part.empty()) std::memcpy(data, part.data(), part.size());
    data += part.size();
  }
}

JobSpecBytes::JobSpecBytes(const JobSpecBytes& other) noexcept : rep_(other.rep_) {
  if (rep_ != nullptr) rep_->refs.fetch_add(1, std::memory_order_relaxed);
}

JobSpecBytes::JobSpecBytes(JobSpecBytes&& other) noexcept
    : rep_(std::exchange(other.rep_, nullptr)) {}

JobSpecBytes& JobSpecBytes::operator=(JobSpecBytes other) noexcept {
  std::swap(rep_, other.rep_);
  return *this;
}

JobSpecBytes::~JobSpecBytes() {
  if (rep_ != nullptr && rep_->refs.fetch_sub(1, std::memory_order_acq_rel) == 1) {
    rep_->~Rep();
    ::operator delete(rep_);
  }
}

absl::string_view JobSpecBytes::Field(size_t offset, size_t size) const {
  if (rep_ == nullptr) return absl::string_view();
  return absl::string_view(reinterpret_cast<const char*>(rep_ + 1) + offset, size);
}

absl::string_view JobSpecBytes::function() const {
  if (rep_ == nullptr) return absl::string_view();
  return Field(rep_->id_size, rep_->function_size);
}

absl::string_view JobSpecBytes::idempotency_key() const {
  if (rep_ == nullptr) return absl::string_view();
  return Field(size_t{rep_->id_size} + rep_->function_size, rep_->key_size);
}

absl::string_view JobSpecBytes::serialized_spec() const {
  if (rep_ == nullptr) return absl::string_view();
  return Field(size_t{rep_->id_size} + rep_->function_size + rep_->key_size, rep_->spec_size);
}

namespace {

// Fills the fields a Job decodes from its spec.
void DecodeScheduling(const v1::JobSpec& spec, Job& job) {
  job.priority = spec.priority();
  job.max_attempts = spec.max_attempts();
  job.retry_on_error = spec.retry_on_error();
  job.retry_backoff_seconds = spec.retry_backoff_seconds();
  job.label_set = spec.labels().empty() ? nullptr
                                        : std::make_shared<const JobLabels>(spec.labels().begin(),
                                                                            spec.labels().end());
}

}  // namespace

std::string Job::Serialize(const v1::JobSpec& spec) {
  std::string bytes;
  {
    google::protobuf::io::StringOutputStream stream(&bytes);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    spec.SerializeToCodedStream(&coded);
  }
  return bytes;
}

Job Job::FromSpec(const v1::JobSpec& spec) {
  Job job;
  job.SetSpec(spec);
  return job;
}

void Job::SetSpec(const v1::JobSpec& new_spec) {
  spec = JobSpecBytes(new_spec.job_id(), new_spec.function(), new_spec.idempotency_key(),
                      Serialize(new_spec));
  DecodeScheduling(new_spec, *this);
}

absl::StatusOr<Job> Job::FromSerializedSpec(absl::string_view serialized_spec) {
  v1::JobSpec spec;
  if (!spec.ParseFromArray(serialized_spec.data(), static_cast<int>(serialized_spec.size()))) {
    return absl::DataLossError("a job spec does not parse");
  }
  Job job;
  job.spec = JobSpecBytes(spec.job_id(), spec.function(), spec.idempotency_key(), serialized_spec);
  DecodeScheduling(spec, job);
  return job;
}

v1::JobSpec Job::DecodeSpec() const {
  v1::JobSpec decoded;
  const absl::string_view bytes = spec.serialized_spec();
  // The bytes were serialized from (or parsed as) a JobSpec.
  decoded.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()));
  return decoded;
}

const JobLabels& Job::labels() const {
  static const JobLabels* const kNone = new JobLabels();
  return label_set != nullptr ? *label_set : *kNone;
}

const v1::JobResult& Job::result() const {
  return result_part.get() != nullptr ? *result_part.get() : v1::JobResult::default_instance();
}

std::shared_ptr<const std::string> Job::SharedName(const std::string& name) {
  return name.empty() ? nullptr : std::make_shared<const std::string>(name);
}

const std::string& Job::NameOr(const std::shared_ptr<const std::string>& name) {
  static const std::string* const kEmpty = new std::string();
  return name != nullptr ? *name : *kEmpty;
}

}  // namespace netpool
