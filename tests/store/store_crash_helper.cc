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
    std::vector<netpool::Job> batch(50);
    for (netpool::Job& job : batch) {
      job.sequence = ++sequence;
      job.spec.set_job_id(absl::StrCat("job-", sequence));
      job.spec.set_function("echo");
      job.spec.add_args()->set_int_value(static_cast<int64_t>(sequence));
    }
    if (absl::Status s = (*store)->Insert(std::move(batch)); !s.ok()) {
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
