#include "common/job_id.h"

#include <pthread.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <random>

#include "absl/strings/str_cat.h"

namespace netpool {
namespace {

constexpr std::string_view kBase62 =
    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
constexpr size_t kRandomChars = 22;

// Bumped in every forked child, so that a child's generators reseed rather
// than repeat its parent's ids (cheaper than a getpid() call per id).
std::atomic<uint64_t> fork_generation{1};

// One generator per thread, so NewJobId needs no lock, seeded from the OS
// entropy source.
std::mt19937_64& ThreadGenerator() {
  static const bool registered = [] {
    pthread_atfork(nullptr, nullptr, [] { fork_generation.fetch_add(1); });
    return true;
  }();
  (void)registered;
  thread_local std::mt19937_64 generator;
  thread_local uint64_t seeded_in = 0;
  const uint64_t generation = fork_generation.load(std::memory_order_relaxed);
  if (seeded_in != generation) {
    std::random_device device;
    std::array<std::random_device::result_type, 8> seed;
    for (auto& word : seed) word = device();
    std::seed_seq seq(seed.begin(), seed.end());
    generator.seed(seq);
    seeded_in = generation;
  }
  return generator;
}

bool IsJobIdChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '.' || c == '-';
}

}  // namespace

std::string NewJobId() {
  std::mt19937_64& generator = ThreadGenerator();
  std::uniform_int_distribution<size_t> pick(0, kBase62.size() - 1);
  std::string id = "j-";
  id.reserve(2 + kRandomChars);
  for (size_t i = 0; i < kRandomChars; ++i) id.push_back(kBase62[pick(generator)]);
  return id;
}

bool IsValidJobId(std::string_view id) {
  if (id.empty() || id.size() > kMaxJobIdLength) return false;
  for (char c : id) {
    if (!IsJobIdChar(c)) return false;
  }
  return true;
}

std::string JobIdForIdempotencyKey(std::string_view key) {
  // Two FNV-1a passes with different offset bases: stable across processes
  // and builds, unlike std::hash or absl::Hash.
  auto fnv1a = [key](uint64_t hash) {
    for (unsigned char c : key) {
      hash ^= c;
      hash *= 0x100000001b3ULL;
    }
    return hash;
  };
  return absl::StrCat("k-", absl::Hex(fnv1a(0xcbf29ce484222325ULL), absl::kZeroPad16),
                      absl::Hex(fnv1a(0x84222325cbf29ce4ULL), absl::kZeroPad16));
}

}  // namespace netpool
