// ScratchDir: the tests' one temporary directory, a fresh one under the test
// temp dir, removed with its contents when destroyed; and paths in the temp
// dir for files a test expects something else to create.
#ifndef NETPOOL_TESTS_SUPPORT_SCRATCH_DIR_H_
#define NETPOOL_TESTS_SUPPORT_SCRATCH_DIR_H_

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "gtest/gtest.h"

namespace netpool::testing {

class ScratchDir {
 public:
  ScratchDir() {
    std::string name = ::testing::TempDir() + "/netpool-test-XXXXXX";
    if (::mkdtemp(name.data()) == nullptr) ADD_FAILURE() << "mkdtemp failed for " << name;
    path_ = name;
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  ~ScratchDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }

  const std::string& path() const { return path_; }
  // `name` inside the directory.
  std::string File(const std::string& name) const { return path_ + "/" + name; }

  // Writes `content` to File(name) with `mode`; returns its path.
  std::string Write(const std::string& name, const std::string& content, mode_t mode = 0600) const {
    const std::string path = File(name);
    std::ofstream(path) << content;
    if (::chmod(path.c_str(), mode) != 0) ADD_FAILURE() << "chmod failed for " << path;
    return path;
  }

 private:
  std::string path_;
};

// A path in the test temp dir, unique to this process, where nothing is yet
// (a file a command or job would create).
inline std::string FreshTempPath(const std::string& name) {
  std::string path = ::testing::TempDir() + "/netpool-" + std::to_string(::getpid()) + "-" + name;
  ::unlink(path.c_str());
  return path;
}

inline bool FileExists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

// The permission bits of `path` (0 when it cannot be read, with a failure).
inline mode_t FileMode(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    ADD_FAILURE() << "cannot stat " << path;
    return 0;
  }
  return st.st_mode & 0777;
}

}  // namespace netpool::testing

#endif  // NETPOOL_TESTS_SUPPORT_SCRATCH_DIR_H_
