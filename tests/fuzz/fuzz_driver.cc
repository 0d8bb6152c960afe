// fuzz_driver is main() for a libFuzzer-style target (LLVMFuzzerTestOneInput)
// where libFuzzer is not available, as with GCC, our default compiler, so the
// same target builds and runs everywhere. It replays the files given (and the
// files in the directories given), then, for --seconds, feeds inputs made by
// mutating them with a random generator seeded by --seed. It has no coverage
// feedback, so it finds less than libFuzzer does in the same time; it still
// catches crashes, hangs and (under AddressSanitizer) memory errors and leaks.
//
//   request_fuzzer [--seconds N] [--seed S] [--max-len BYTES] [--timeout S]
//                  [--artifact-prefix PATH] FILE_OR_DIR...
//
// The input that crashes or hangs the target is written to
// <artifact-prefix>crash-input or <artifact-prefix>timeout-input and shown in
// hex on stderr; replay it by passing the file as the only argument.
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);
// Present when the program is built with a sanitizer: lets the driver save the
// input before the sanitizer ends the process.
extern "C" __attribute__((weak)) void __sanitizer_set_death_callback(void (*callback)());

namespace {

using Input = std::string;

struct Options {
  double seconds = 0;
  uint64_t seed = 1;
  size_t max_len = 4096;
  unsigned timeout_seconds = 20;
  std::string artifact_prefix = "./";
  std::vector<std::string> paths;
};

// ------------------------------------------------ saving the fatal input
// The signal handlers may only make async-signal-safe calls, so everything
// they need is prepared before any input runs.

const Input* g_current = nullptr;
std::string g_crash_path;
std::string g_timeout_path;

void WriteAll(int fd, const char* data, size_t size) {
  while (size > 0) {
    ssize_t n = write(fd, data, size);
    if (n <= 0) return;
    data += n;
    size -= static_cast<size_t>(n);
  }
}

void WriteText(int fd, const char* text) { WriteAll(fd, text, strlen(text)); }

// Saves the running input to `path` and shows it (first 4 KiB) on stderr.
void SaveCurrentInput(const std::string& path) {
  if (g_current == nullptr) return;
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd >= 0) {
    WriteAll(fd, g_current->data(), g_current->size());
    close(fd);
  }
  WriteText(STDERR_FILENO, "\nfuzz_driver: input saved to ");
  WriteText(STDERR_FILENO, path.c_str());
  WriteText(STDERR_FILENO, "\nfuzz_driver: input in hex: ");
  static const char kHex[] = "0123456789abcdef";
  char pair[2];
  const size_t shown = std::min<size_t>(g_current->size(), 4096);
  for (size_t i = 0; i < shown; ++i) {
    const unsigned char c = static_cast<unsigned char>((*g_current)[i]);
    pair[0] = kHex[c >> 4];
    pair[1] = kHex[c & 15];
    WriteAll(STDERR_FILENO, pair, 2);
  }
  WriteText(STDERR_FILENO, "\n");
}

void OnFatalSignal(int signal_number) {
  SaveCurrentInput(g_crash_path);
  ::signal(signal_number, SIG_DFL);
  ::raise(signal_number);
}

void OnSanitizerDeath() { SaveCurrentInput(g_crash_path); }

void OnTimeout(int) {
  WriteText(STDERR_FILENO, "\nfuzz_driver: an input ran longer than --timeout\n");
  SaveCurrentInput(g_timeout_path);
  _exit(70);
}

void InstallHandlers(const Options& options) {
  g_crash_path = options.artifact_prefix + "crash-input";
  g_timeout_path = options.artifact_prefix + "timeout-input";
  for (int s : {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT}) ::signal(s, OnFatalSignal);
  ::signal(SIGALRM, OnTimeout);
  if (__sanitizer_set_death_callback != nullptr) __sanitizer_set_death_callback(OnSanitizerDeath);
}

void Run(const Input& input, unsigned timeout_seconds) {
  g_current = &input;
  alarm(timeout_seconds);
  LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(input.data()), input.size());
  alarm(0);
  g_current = nullptr;
}

// ------------------------------------------------------------ mutation

// Bytes that often matter to the parsers under test: protobuf varint and tag
// edges, JSON punctuation, escapes and line ends.
constexpr uint8_t kInterestingBytes[] = {0x00, 0x01, 0x02, 0x08, 0x0a, 0x12, 0x1a, 0x22, 0x7f,
                                         0x80, 0xff, '{',  '}',  '[',  ']',  '"',  ':',  ',',
                                         '\\', 'u',  '-',  '0',  '9',  'e',  '.',  '\r', '$'};

class Mutator {
 public:
  Mutator(uint64_t seed, size_t max_len) : random_(seed), max_len_(max_len) {}

  // A new input made from `base` (and maybe `other`) by a few edits.
  Input Mutate(const Input& base, const Input& other) {
    Input out = base;
    const int edits = 1 + static_cast<int>(Below(8));
    for (int i = 0; i < edits; ++i) Edit(out, other);
    if (out.size() > max_len_) out.resize(max_len_);
    return out;
  }

  Input RandomBytes() {
    Input out(Below(std::min<size_t>(max_len_, 256) + 1), '\0');
    for (char& c : out) c = static_cast<char>(Below(256));
    return out;
  }

  size_t Below(size_t n) {
    return n == 0 ? 0 : std::uniform_int_distribution<size_t>(0, n - 1)(random_);
  }

 private:
  void Edit(Input& s, const Input& other) {
    switch (Below(9)) {
      case 0:  // flip a bit
        if (!s.empty()) s[Below(s.size())] ^= static_cast<char>(1u << Below(8));
        break;
      case 1:  // a random byte
        if (!s.empty()) s[Below(s.size())] = static_cast<char>(Below(256));
        break;
      case 2:  // an interesting byte
        if (!s.empty()) {
          s[Below(s.size())] =
              static_cast<char>(kInterestingBytes[Below(sizeof(kInterestingBytes))]);
        }
        break;
      case 3: {  // insert a few random bytes
        Input bytes(1 + Below(8), '\0');
        for (char& c : bytes) c = static_cast<char>(Below(256));
        s.insert(Below(s.size() + 1), bytes);
        break;
      }
      case 4:  // erase a range
        if (!s.empty()) {
          const size_t at = Below(s.size());
          s.erase(at, 1 + Below(std::min<size_t>(s.size() - at, 16)));
        }
        break;
      case 5:  // nudge a byte: lengths and varints one off
        if (!s.empty()) s[Below(s.size())] += static_cast<char>(Below(2) == 0 ? 1 : -1);
        break;
      case 6:  // repeat a range: deeper nesting, longer lists
        if (!s.empty()) {
          const size_t at = Below(s.size());
          const size_t len = 1 + Below(std::min<size_t>(s.size() - at, 64));
          const Input piece = s.substr(at, len);
          s.insert(Below(s.size() + 1), piece);
        }
        break;
      case 7:  // splice: our head, the other input's tail
        if (!other.empty()) {
          s = s.substr(0, Below(s.size() + 1)) + other.substr(Below(other.size()));
        }
        break;
      case 8:  // insert a piece of the other input
        if (!other.empty()) {
          const size_t at = Below(other.size());
          s.insert(Below(s.size() + 1), other.substr(at, 1 + Below(64)));
        }
        break;
    }
  }

  std::mt19937_64 random_;
  const size_t max_len_;
};

// ------------------------------------------------------------ main

bool ReadFile(const std::filesystem::path& path, Input* out) {
  std::ifstream file(path, std::ios::binary);
  if (!file) return false;
  out->assign(std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>());
  return true;
}

bool ParseOptions(int argc, char** argv, Options* options) {
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const bool has_value = i + 1 < argc;
    if (arg == "--seconds" && has_value) {
      options->seconds = std::strtod(argv[++i], nullptr);
    } else if (arg == "--seed" && has_value) {
      options->seed = std::strtoull(argv[++i], nullptr, 10);
    } else if (arg == "--max-len" && has_value) {
      options->max_len = std::strtoull(argv[++i], nullptr, 10);
    } else if (arg == "--timeout" && has_value) {
      options->timeout_seconds = static_cast<unsigned>(std::strtoul(argv[++i], nullptr, 10));
    } else if (arg == "--artifact-prefix" && has_value) {
      options->artifact_prefix = argv[++i];
    } else if (arg.rfind("--", 0) == 0) {
      std::fprintf(stderr, "fuzz_driver: unknown or incomplete option %s\n", arg.c_str());
      return false;
    } else {
      options->paths.push_back(arg);
    }
  }
  return true;
}

// The inputs named by `paths`: files, and the files directly in directories,
// in name order so a run is repeatable.
bool LoadInputs(const std::vector<std::string>& paths, std::vector<Input>* inputs) {
  for (const std::string& path : paths) {
    std::vector<std::filesystem::path> files;
    std::error_code error;
    if (std::filesystem::is_directory(path, error)) {
      for (const auto& entry : std::filesystem::directory_iterator(path, error)) {
        if (entry.is_regular_file()) files.push_back(entry.path());
      }
      std::sort(files.begin(), files.end());
    } else {
      files.push_back(path);
    }
    for (const std::filesystem::path& file : files) {
      Input input;
      if (!ReadFile(file, &input)) {
        std::fprintf(stderr, "fuzz_driver: cannot read %s\n", file.c_str());
        return false;
      }
      inputs->push_back(std::move(input));
    }
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  if (!ParseOptions(argc, argv, &options)) return 64;
  std::vector<Input> seeds;
  if (!LoadInputs(options.paths, &seeds)) return 66;
  for (const Input& seed : seeds) options.max_len = std::max(options.max_len, seed.size());
  InstallHandlers(options);

  for (const Input& seed : seeds) Run(seed, options.timeout_seconds);
  std::fprintf(stderr, "fuzz_driver: replayed %zu inputs\n", seeds.size());
  if (options.seconds <= 0) return 0;

  // Mutants are kept in a small ring beside the seeds, so edits pile up over
  // generations and reach inputs a few edits from any seed cannot.
  constexpr size_t kRingSize = 256;
  std::vector<Input> ring;
  size_t ring_next = 0;
  Mutator mutator(options.seed, options.max_len);
  auto pick = [&]() -> const Input& {
    const size_t n = seeds.size() + ring.size();
    static const Input empty;
    if (n == 0) return empty;
    const size_t i = mutator.Below(n);
    return i < seeds.size() ? seeds[i] : ring[i - seeds.size()];
  };

  const auto deadline = std::chrono::steady_clock::now() +
                        std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                            std::chrono::duration<double>(options.seconds));
  uint64_t runs = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    for (int batch = 0; batch < 64; ++batch, ++runs) {
      Input input = mutator.Below(16) == 0 ? mutator.RandomBytes() : mutator.Mutate(pick(), pick());
      Run(input, options.timeout_seconds);
      if (mutator.Below(4) == 0) {
        if (ring.size() < kRingSize) {
          ring.push_back(std::move(input));
        } else {
          ring[ring_next] = std::move(input);
          ring_next = (ring_next + 1) % kRingSize;
        }
      }
    }
  }
  std::fprintf(stderr, "fuzz_driver: %llu mutated inputs in %.0f s (seed %llu), no failure\n",
               static_cast<unsigned long long>(runs), options.seconds,
               static_cast<unsigned long long>(options.seed));
  return 0;
}
