// store_crash_helper DIR: the child of SqliteStore's crash test. Writes jobs
// job-N (N = their sequence, continuing after what DIR holds) in batches,
// and after each batch is durable prints "acked N" for the highest N, until
// the test kills it with SIGKILL.
#include <cstdio>
#include <memory>
#include <vector>

#include "absl/strings/str_cat.h"
#include "server/store/sqlite_store.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: store_crash_helper DIR\n");
    return 64;
  }
  absl::StatusOr<std::unique_ptr<netpool::SqliteStore>> store = netpool::SqliteStore::Open(argv[1]);
  if (!store.ok()) {
    std::fprintf(stderr, "store_crash_helper: %s\n", store.status().ToString().c_str());
    return 1;
  }
  uint64_t sequence = (*store)->MaxSequence();
  while (true) {
    std::vector<netpool::Job> batch;
    for (int i = 0; i < 50; ++i) {
      netpool::v1::JobSpec spec;
      spec.set_job_id(absl::StrCat("job-", ++sequence));
      spec.set_function("echo");
      spec.add_args()->set_int_value(static_cast<int64_t>(sequence));
      netpool::Job& job = batch.emplace_back(netpool::Job::FromSpec(spec));
      job.sequence = sequence;
    }
    if (absl::Status s = (*store)->Insert(std::move(batch)).status(); !s.ok()) {
      std::fprintf(stderr, "store_crash_helper: %s\n", s.ToString().c_str());
      return 1;
    }
    if (absl::Status s = (*store)->WaitDurable((*store)->last_write()); !s.ok()) {
      std::fprintf(stderr, "store_crash_helper: %s\n", s.ToString().c_str());
      return 1;
    }
    std::printf("acked %llu\n", static_cast<unsigned long long>(sequence));
    std::fflush(stdout);
  }
}
