#include "server/store/durable_store.h"

#include <algorithm>
#include <functional>
#include <iterator>
#include <limits>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/monotonic_clock.h"
#include "netpool/v1/store.pb.h"
#include "server/store/job_record.h"
#include "spdlog/spdlog.h"

namespace netpool {
namespace {

// After a failed commit (a full disk, say) the group is tried again, at
// first soon, then less often.
constexpr absl::Duration kFirstRetryDelay = absl::Milliseconds(100);
constexpr absl::Duration kMaxRetryDelay = absl::Seconds(2);

absl::Status WithName(const std::string& name, const absl::Status& status) {
  return absl::Status(status.code(), absl::StrCat(name, ": ", status.message()));
}

double FinishedUnix(const Job& job) {
  return job.finished_state() ? UnixSecondsOrZero(job.finished) : 0;
}

bool IsErasable(const RowColumns& row, double cutoff_unix) {
  return row.fetched && Job::IsFinal(static_cast<v1::JobState>(row.state)) &&
         row.finished_unix < cutoff_unix;
}

}  // namespace

absl::StatusOr<std::unique_ptr<DurableStore>> DurableStore::Open(
    std::string name, std::unique_ptr<StorageBackend> backend) {
  std::unique_ptr<DurableStore> store(new DurableStore(std::move(name), std::move(backend)));
  if (absl::Status s = store->Start(); !s.ok()) return s;
  return store;
}

DurableStore::DurableStore(std::string name, std::unique_ptr<StorageBackend> backend)
    : name_(std::move(name)), backend_(std::move(backend)) {}

absl::Status DurableStore::Start() {
  if (absl::Status s = Load(); !s.ok()) return WithName(name_, s);
  committer_ = std::thread([this] { CommitLoop(); });
  return absl::OkStatus();
}

DurableStore::~DurableStore() {
  if (!committer_.joinable()) return;
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  work_queued_.Signal();
  committer_.join();
}

// Counts the jobs, and brings the unfinished ones into RAM: they are the
// scheduler's working set and the records it changes.
absl::Status DurableStore::Load() {
  absl::StatusOr<uint64_t> max_sequence = backend_->MaxSequence();
  if (!max_sequence.ok()) return max_sequence.status();
  max_sequence_ = *max_sequence;
  absl::StatusOr<absl::flat_hash_map<int, int64_t>> by_state = backend_->CountByState();
  if (!by_state.ok()) return by_state.status();
  for (const auto& [state, count] : *by_state) {
    size_ += static_cast<size_t>(count);
    CountFinishedState(static_cast<v1::JobState>(state), count);
  }

  absl::Status parsed;
  absl::Status scanned =
      backend_->Scan(/*unfinished_only=*/true, [&](uint64_t, const StoredRow& row) {
        absl::StatusOr<Stored> stored = ParseStored(row);
        if (!stored.ok()) {
          parsed = stored.status();
          return false;
        }
        const v1::JobState state = stored->job->state;
        AddResident(*std::move(stored), state);
        return true;
      });
  return scanned.ok() ? parsed : scanned;
}

void DurableStore::CommitLoop() {
  absl::Duration retry_delay = kFirstRetryDelay;
  while (true) {
    RowChanges rows;
    std::optional<double> erase_before_unix;
    uint64_t write = 0;
    std::function<void(uint64_t)> listener;
    std::function<void(absl::Duration)> observer;
    {
      absl::MutexLock lock(&mu_);
      while (queued_rows_.empty() && !queued_erase_before_unix_ && !stopping_) {
        work_queued_.Wait(&mu_);
      }
      if (queued_rows_.empty() && !queued_erase_before_unix_) return;  // stopping
      rows.swap(queued_rows_);
      erase_before_unix = std::exchange(queued_erase_before_unix_, std::nullopt);
      write = last_write_;
      listener = durable_listener_;
      observer = commit_observer_;
    }
    const absl::Time begun = MonotonicNow();
    const absl::Status status = backend_->Apply(rows, erase_before_unix);
    if (observer) observer(MonotonicNow() - begun);
    if (status.ok()) {
      {
        absl::MutexLock lock(&mu_);
        durable_write_ = write;
        if (!commit_error_.ok()) {
          spdlog::warn("job store: writing again; recovered from: {}", commit_error_.ToString());
        }
        commit_error_ = absl::OkStatus();
        commit_done_.SignalAll();
      }
      retry_delay = kFirstRetryDelay;
      if (listener) listener(write);
      continue;
    }
    absl::MutexLock lock(&mu_);
    if (commit_error_.ok()) {
      spdlog::error("job store: commit failed; retrying until it succeeds: {}",
                    WithName(name_, status).ToString());
    }
    commit_error_ = WithName(name_, status);
    commit_done_.SignalAll();
    // The group goes first in the next attempt, under any newer change of
    // the same jobs that was queued meanwhile.
    for (auto& [sequence, row] : rows) {
      auto newer = queued_rows_.find(sequence);
      if (newer == queued_rows_.end()) {
        queued_rows_.emplace(sequence, std::move(row));
      } else {
        Supersede(newer->second, row);
      }
    }
    if (erase_before_unix) {
      queued_erase_before_unix_ = std::max(queued_erase_before_unix_.value_or(*erase_before_unix),
                                           *erase_before_unix);
    }
    if (stopping_) {
      spdlog::error("job store: stopping with {} job changes not stored",
                    queued_rows_.size());
      return;
    }
    auto stop = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return stopping_; };
    mu_.AwaitWithTimeout(absl::Condition(&stop), retry_delay);
    retry_delay = std::min(retry_delay * 2, kMaxRetryDelay);
  }
}

absl::StatusOr<std::vector<Job*>> DurableStore::Insert(std::vector<Job> jobs) {
  ReleaseCommitted();
  if (absl::Status error = health(); !error.ok()) return error;
  absl::flat_hash_set<absl::string_view> batch_ids;
  absl::flat_hash_set<uint64_t> batch_sequences;
  for (const Job& job : jobs) {
    bool id_taken = resident_.contains(job.id()) || !batch_ids.insert(job.id()).second;
    if (!id_taken) {
      absl::StatusOr<bool> stored = StoredIdTaken(job.id());
      if (!stored.ok()) return WithName(name_, stored.status());
      id_taken = *stored;
    }
    if (id_taken) {
      return absl::AlreadyExistsError(absl::StrCat("job id ", job.id(), " is already taken"));
    }
    bool sequence_taken =
        resident_by_sequence_.contains(job.sequence) || !batch_sequences.insert(job.sequence).second;
    if (!sequence_taken && job.sequence <= max_sequence_) {
      absl::StatusOr<bool> stored = backend_->SequenceTaken(job.sequence);
      if (!stored.ok()) return WithName(name_, stored.status());
      sequence_taken = *stored;
    }
    if (sequence_taken) {
      return absl::AlreadyExistsError(
          absl::StrCat("job sequence ", job.sequence, " is already taken"));
    }
  }

  std::vector<std::pair<uint64_t, std::optional<StoredRow>>> rows;
  rows.reserve(jobs.size());
  for (const Job& job : jobs) rows.emplace_back(job.sequence, RowOf(job, /*with_spec=*/true));
  const uint64_t write = Enqueue(std::move(rows));
  std::vector<Job*> records;
  records.reserve(jobs.size());
  for (Job& job : jobs) {
    max_sequence_ = std::max(max_sequence_, job.sequence);
    ++size_;
    Resident& resident = AddResident(Stored{std::make_unique<Job>(std::move(job))},
                                     v1::JOB_STATE_UNSPECIFIED);
    NoteWritten(resident, write);
    records.push_back(resident.job.get());
  }
  return records;
}

Job* DurableStore::FindLive(absl::string_view job_id) {
  Resident* resident = FindResident(job_id);
  if (resident == nullptr || resident->job->finished_state()) return nullptr;
  return resident->job.get();
}

absl::StatusOr<std::optional<Job>> DurableStore::Lookup(absl::string_view job_id) {
  if (Resident* resident = FindResident(job_id)) return std::optional<Job>(*resident->job);
  absl::StatusOr<Stored> stored = ReadBack(job_id);
  if (absl::IsNotFound(stored.status())) return std::nullopt;
  if (!stored.ok()) return WithName(name_, stored.status());
  return std::optional<Job>(std::move(*stored->job));
}

absl::StatusOr<std::optional<std::string>> DurableStore::FindByIdempotencyKey(
    absl::string_view key) {
  if (auto it = resident_by_key_.find(key); it != resident_by_key_.end()) {
    return std::optional<std::string>(it->second->id());
  }
  absl::StatusOr<std::vector<RowColumns>> rows = backend_->FindByIdempotencyKey(std::string(key));
  if (!rows.ok()) return WithName(name_, rows.status());
  for (RowColumns& row : *rows) {
    if (!ErasedUncommitted(row)) return std::optional<std::string>(std::move(row.id));
  }
  return std::nullopt;
}

absl::Status DurableStore::Update(const Job& job) {
  absl::StatusOr<Resident*> resident = Hold(job.id());
  if (!resident.ok()) return FailedWrite(job.id(), resident.status());
  // `job` is the record itself unless the caller changed a copy.
  Job& record = *(*resident)->job;
  if (&record != &job) {
    // The spec never changes, and the maps' keys are views of this one.
    JobSpecBytes spec = record.spec;
    record = job;
    record.spec = std::move(spec);
  }
  Write(**resident);
  return absl::OkStatus();
}

absl::Status DurableStore::MarkFetched(absl::string_view job_id) {
  Resident* resident = FindResident(job_id);
  if (resident == nullptr) {
    absl::StatusOr<Stored> stored = ReadBack(job_id);
    if (!stored.ok()) return FailedWrite(job_id, stored.status());
    if (stored->job->fetched) return absl::OkStatus();
    const v1::JobState state = stored->job->state;
    resident = &AddResident(*std::move(stored), state);
  }
  if (resident->job->fetched) return absl::OkStatus();
  resident->job->fetched = true;
  Write(*resident);
  return absl::OkStatus();
}

// The rows erased fall in two groups. Jobs in RAM are decided on their
// records and leave RAM now, each with a queued delete. Stored jobs not in
// RAM have no write pending, so their rows are final: a query counts those
// that match, and one DELETE at the head of the next commit removes them.
// Until that commit, reads treat the erased rows as gone.
int64_t DurableStore::EraseFetchedBefore(absl::Time cutoff) {
  ReleaseCommitted();
  if (!health().ok()) return 0;
  const double cutoff_unix = UnixSecondsOrZero(cutoff);
  const double already_erased_before =
      pending_erase_ ? pending_erase_->cutoff_unix : -std::numeric_limits<double>::infinity();

  int64_t erased = 0;
  std::vector<std::pair<uint64_t, std::optional<StoredRow>>> deletes;
  absl::flat_hash_set<std::string> resident_ids;
  for (const auto& [write, id] : releasable_) {
    Resident* resident = FindResident(id);
    if (resident == nullptr) continue;  // already dropped (listed twice)
    const Job& job = *resident->job;
    RowColumns columns;
    columns.fetched = job.fetched;
    columns.state = job.state;
    columns.finished_unix = FinishedUnix(job);
    if (!IsErasable(columns, cutoff_unix)) continue;
    deletes.emplace_back(job.sequence, std::nullopt);
    CountFinishedState(resident->recorded_state, -1);
    resident_ids.insert(id);
    DropResident(id);
    ++erased;
  }

  const absl::Status listed =
      backend_->ScanErasable(already_erased_before, cutoff_unix, [&](const RowColumns& row) {
        // Rows of jobs in RAM are theirs to decide (decided above).
        if (resident_.contains(row.id) || resident_ids.contains(row.id)) return;
        CountFinishedState(static_cast<v1::JobState>(row.state), -1);
        ++erased;
      });
  if (!listed.ok()) spdlog::error("job store: cannot list erasable jobs: {}", listed.ToString());

  const double erase_before_unix = std::max(cutoff_unix, already_erased_before);
  const uint64_t write = Enqueue(std::move(deletes), erase_before_unix);
  if (!pending_erase_) pending_erase_.emplace();
  pending_erase_->cutoff_unix = erase_before_unix;
  pending_erase_->resident_ids.merge(resident_ids);
  pending_erase_->write = write;
  size_ -= static_cast<size_t>(erased);
  return erased;
}

template <typename ResidentIterator, typename ComesFirst>
void DurableStore::VisitMerged(ResidentIterator resident, ResidentIterator end,
                               ComesFirst comes_first,
                               const std::function<absl::Status(const RowVisitor&)>& scan,
                               const std::function<bool(const Job&)>& visit) {
  bool stopped = false;
  const absl::Status listed = scan([&](uint64_t sequence, const StoredRow& row) {
    for (; resident != end && comes_first(resident->first, sequence); ++resident) {
      if (!visit(*resident->second)) return !(stopped = true);
    }
    if (resident_.contains(row.columns.id) || ErasedUncommitted(row.columns)) return true;
    absl::StatusOr<Stored> stored = ParseStored(row);
    if (!stored.ok()) {
      spdlog::error("job store: job {}: {}", row.columns.id, stored.status().ToString());
      return true;
    }
    if (!visit(*stored->job)) return !(stopped = true);
    return true;
  });
  if (!listed.ok()) spdlog::error("job store: cannot list jobs: {}", listed.ToString());
  if (stopped) return;
  for (; resident != end; ++resident) {
    if (!visit(*resident->second)) return;
  }
}

void DurableStore::ForEach(const std::function<bool(const Job&)>& visit) {
  VisitMerged(
      resident_by_sequence_.begin(), resident_by_sequence_.end(), std::less<uint64_t>(),
      [&](const RowVisitor& row) { return backend_->Scan(/*unfinished_only=*/false, row); },
      visit);
}

void DurableStore::ForEachNewestFirst(uint64_t before_sequence,
                                      const std::function<bool(const Job&)>& visit) {
  VisitMerged(
      std::make_reverse_iterator(resident_by_sequence_.lower_bound(before_sequence)),
      resident_by_sequence_.rend(), std::greater<uint64_t>(),
      [&](const RowVisitor& row) { return backend_->ScanNewestFirst(before_sequence, row); },
      visit);
}

void DurableStore::ForEachUnfinished(const std::function<void(Job&)>& visit) {
  for (const auto& [sequence, job] : resident_by_sequence_) {
    if (!job->finished_state()) visit(*job);
  }
}

uint64_t DurableStore::last_write() const {
  absl::MutexLock lock(&mu_);
  return last_write_;
}

uint64_t DurableStore::durable_write() const {
  absl::MutexLock lock(&mu_);
  return durable_write_;
}

absl::Status DurableStore::WaitDurable(uint64_t write) {
  absl::MutexLock lock(&mu_);
  if (write > last_write_) {
    return absl::InvalidArgumentError(
        absl::StrCat("write ", write, " was never made (the last is ", last_write_, ")"));
  }
  while (durable_write_ < write && HealthLocked().ok()) commit_done_.Wait(&mu_);
  return durable_write_ >= write ? absl::OkStatus() : HealthLocked();
}

void DurableStore::SetDurableListener(std::function<void(uint64_t)> listener) {
  absl::MutexLock lock(&mu_);
  durable_listener_ = std::move(listener);
}

void DurableStore::SetCommitObserver(std::function<void(absl::Duration)> observer) {
  absl::MutexLock lock(&mu_);
  commit_observer_ = std::move(observer);
}

size_t DurableStore::resident_jobs() {
  ReleaseCommitted();
  return resident_.size();
}

void DurableStore::ReleaseCommitted() {
  const uint64_t durable = durable_write();
  if (pending_erase_ && pending_erase_->write <= durable) pending_erase_.reset();
  while (!releasable_.empty() && releasable_.front().first <= durable) {
    const std::string id = std::move(releasable_.front().second);
    releasable_.pop_front();
    Resident* resident = FindResident(id);
    // Still unfinished (changed back) or written again since: not yet.
    if (resident == nullptr || resident->last_write > durable ||
        !resident->job->finished_state()) {
      continue;
    }
    DropResident(id);
  }
}

DurableStore::Resident* DurableStore::FindResident(absl::string_view job_id) {
  auto it = resident_.find(job_id);
  return it == resident_.end() ? nullptr : &it->second;
}

absl::StatusOr<DurableStore::Resident*> DurableStore::Hold(absl::string_view job_id) {
  if (Resident* resident = FindResident(job_id)) return resident;
  absl::StatusOr<Stored> stored = ReadBack(job_id);
  if (!stored.ok()) return stored.status();
  const v1::JobState state = stored->job->state;
  return &AddResident(*std::move(stored), state);
}

DurableStore::Resident& DurableStore::AddResident(Stored stored, v1::JobState recorded_state) {
  Job* record = stored.job.get();
  resident_by_sequence_[record->sequence] = record;
  if (!record->idempotency_key().empty()) {
    resident_by_key_.emplace(record->idempotency_key(), record);
  }
  Resident& resident = resident_[record->id()];
  resident.job = std::move(stored.job);
  resident.spec_unwritten = stored.spec_unwritten;
  resident.recorded_state = recorded_state;
  return resident;
}

void DurableStore::DropResident(absl::string_view job_id) {
  auto it = resident_.find(job_id);
  if (it == resident_.end()) return;
  const Job* job = it->second.job.get();
  resident_by_sequence_.erase(job->sequence);
  if (auto key = resident_by_key_.find(job->idempotency_key());
      key != resident_by_key_.end() && key->second == job) {
    resident_by_key_.erase(key);
  }
  // Last: the maps' keys are views of the job's strings.
  resident_.erase(it);
}

uint64_t DurableStore::Enqueue(std::vector<std::pair<uint64_t, std::optional<StoredRow>>> rows,
                              std::optional<double> erase_before_unix) {
  uint64_t write;
  {
    // One critical section, so that the commit of `write` carries the erase.
    absl::MutexLock lock(&mu_);
    write = ++last_write_;
    for (auto& [sequence, row] : rows) {
      auto older = queued_rows_.find(sequence);
      if (older == queued_rows_.end()) {
        queued_rows_.emplace(sequence, std::move(row));
      } else {
        Supersede(row, older->second);
        older->second = std::move(row);
      }
    }
    if (erase_before_unix) queued_erase_before_unix_ = *erase_before_unix;
  }
  work_queued_.Signal();
  return write;
}

void DurableStore::Supersede(std::optional<StoredRow>& newer, std::optional<StoredRow>& older) {
  if (newer && !newer->spec && older) newer->spec = std::move(older->spec);
}

StoredRow DurableStore::RowOf(const Job& job, bool with_spec) {
  StoredRow row;
  row.columns.id = std::string(job.id());
  row.columns.state = job.state;
  row.columns.idempotency_key = std::string(job.idempotency_key());
  row.columns.fetched = job.fetched;
  row.columns.finished_unix = FinishedUnix(job);
  row.record = ToStoredJobWithoutSpec(job).SerializeAsString();
  // The spec's bytes as the client sent them: never serialized again.
  if (with_spec) row.spec = std::string(job.spec.serialized_spec());
  return row;
}

void DurableStore::Write(Resident& resident) {
  std::vector<std::pair<uint64_t, std::optional<StoredRow>>> rows;
  rows.emplace_back(resident.job->sequence, RowOf(*resident.job, resident.spec_unwritten));
  resident.spec_unwritten = false;
  NoteWritten(resident, Enqueue(std::move(rows)));
}

void DurableStore::NoteWritten(Resident& resident, uint64_t write) {
  const Job& job = *resident.job;
  CountFinishedState(resident.recorded_state, -1);
  CountFinishedState(job.state, +1);
  resident.recorded_state = job.state;
  resident.last_write = write;
  if (job.finished_state()) releasable_.emplace_back(write, job.id());
}

void DurableStore::CountFinishedState(v1::JobState state, int64_t delta) {
  switch (state) {
    case v1::SUCCEEDED:
      finished_counts_.succeeded += delta;
      break;
    case v1::FAILED:
      finished_counts_.failed += delta;
      break;
    case v1::CANCELLED:
      finished_counts_.cancelled += delta;
      break;
    default:
      break;
  }
}

absl::StatusOr<DurableStore::Stored> DurableStore::ParseStored(const StoredRow& row) {
  v1::StoredJob stored;
  if (!stored.ParseFromString(row.record)) {
    return absl::DataLossError("a job record does not parse");
  }
  if (!row.spec) {
    // A row from before the spec was kept apart: the record holds it.
    return Stored{std::make_unique<Job>(FromStoredJob(std::move(stored))), true};
  }
  absl::StatusOr<Job> job = FromStoredJob(std::move(stored), *row.spec);
  if (!job.ok()) return job.status();
  return Stored{std::make_unique<Job>(*std::move(job)), false};
}

absl::StatusOr<DurableStore::Stored> DurableStore::ReadBack(absl::string_view job_id) {
  absl::StatusOr<std::optional<StoredRow>> row = backend_->Read(std::string(job_id));
  if (!row.ok()) return row.status();
  if (!*row || ErasedUncommitted((*row)->columns)) {
    return absl::NotFoundError(absl::StrCat("no job ", job_id));
  }
  return ParseStored(**row);
}

absl::StatusOr<bool> DurableStore::StoredIdTaken(absl::string_view job_id) {
  absl::StatusOr<std::optional<RowColumns>> row = backend_->ReadColumns(std::string(job_id));
  if (!row.ok()) return row.status();
  return row->has_value() && !ErasedUncommitted(**row);
}

bool DurableStore::ErasedUncommitted(const RowColumns& row) const {
  return pending_erase_ && (pending_erase_->resident_ids.contains(row.id) ||
                            IsErasable(row, pending_erase_->cutoff_unix));
}

absl::Status DurableStore::health() const {
  absl::MutexLock lock(&mu_);
  return HealthLocked();
}

absl::Status DurableStore::HealthLocked() const {
  return lost_write_.ok() ? commit_error_ : lost_write_;
}

absl::Status DurableStore::FailedWrite(absl::string_view job_id, const absl::Status& cause) {
  if (absl::IsNotFound(cause)) return cause;
  const absl::Status lost = absl::DataLossError(absl::StrCat(
      name_, ": could not record a change to job ", job_id, " (", cause.message(),
      "); the job store accepts no new work until netpoold is restarted"));
  spdlog::error("job store: {}", lost.ToString());
  absl::MutexLock lock(&mu_);
  if (lost_write_.ok()) lost_write_ = lost;
  commit_done_.SignalAll();
  return lost;
}

}  // namespace netpool
