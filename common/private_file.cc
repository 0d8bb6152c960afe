#include "common/private_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace netpool {
namespace {

absl::Status FileError(const std::string& path, const char* what, int error) {
  std::string message = absl::StrCat(what, " ", path, ": ", std::strerror(error));
  if (error == ENOENT) return absl::NotFoundError(message);
  if (error == EACCES) return absl::PermissionDeniedError(message);
  return absl::FailedPreconditionError(message);
}

absl::StatusOr<std::string> ReadFd(int fd, const std::string& path) {
  std::string content;
  char buffer[4096];
  for (;;) {
    const ssize_t n = ::read(fd, buffer, sizeof(buffer));
    if (n == 0) break;
    if (n < 0) {
      if (errno == EINTR) continue;
      const int error = errno;
      ::close(fd);
      return FileError(path, "cannot read", error);
    }
    content.append(buffer, static_cast<size_t>(n));
    if (content.size() > (1 << 20)) {
      ::close(fd);
      return absl::FailedPreconditionError(absl::StrCat(path, " is larger than 1 MiB"));
    }
  }
  ::close(fd);
  return content;
}

// systemd's LoadCredential= copies: their directory is the service's alone,
// and systemd may grant the service access by an ACL, so that the mode shows
// group bits (the ACL mask) that do not open the file to anyone else.
bool InCredentialsDirectory(const std::string& path) {
  const char* credentials = std::getenv("CREDENTIALS_DIRECTORY");
  if (credentials == nullptr || *credentials != '/') return false;
  std::error_code error;
  const std::filesystem::path directory = std::filesystem::canonical(credentials, error);
  if (error) return false;
  const std::filesystem::path file = std::filesystem::canonical(path, error);
  return !error && file.parent_path() == directory;
}

absl::StatusOr<std::string> ReadFile(const std::string& path, bool require_private) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return FileError(path, "cannot open", errno);
  struct stat info;
  if (::fstat(fd, &info) != 0) {
    const int error = errno;
    ::close(fd);
    return FileError(path, "cannot stat", error);
  }
  if (require_private && (info.st_mode & 077) != 0 && !InCredentialsDirectory(path)) {
    ::close(fd);
    return absl::PermissionDeniedError(absl::StrFormat(
        "%s is accessible by other users (mode %03o): a secret must be private to its owner "
        "(chmod 600 %s)",
        path, info.st_mode & 0777, path));
  }
  return ReadFd(fd, path);
}

}  // namespace

absl::StatusOr<std::string> ReadPrivateFile(const std::string& path) {
  return ReadFile(path, /*require_private=*/true);
}

absl::StatusOr<std::string> ReadPublicFile(const std::string& path) {
  return ReadFile(path, /*require_private=*/false);
}

absl::Status WritePrivateFile(const std::string& path, const std::string& content) {
  const std::filesystem::path target(path);
  if (target.has_parent_path()) {
    std::error_code error;
    std::filesystem::create_directories(target.parent_path(), error);
    if (error) {
      return absl::FailedPreconditionError(
          absl::StrCat("cannot create ", target.parent_path().string(), ": ", error.message()));
    }
    ::chmod(target.parent_path().c_str(), 0700);
  }
  std::string temp = absl::StrCat(path, ".XXXXXX");
  const int fd = ::mkstemp(temp.data());  // mode 0600
  if (fd < 0) return FileError(temp, "cannot create", errno);
  size_t written = 0;
  while (written < content.size()) {
    const ssize_t n = ::write(fd, content.data() + written, content.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int error = errno;
      ::close(fd);
      ::unlink(temp.c_str());
      return FileError(temp, "cannot write", error);
    }
    written += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    const int error = errno;
    ::unlink(temp.c_str());
    return FileError(temp, "cannot write", error);
  }
  if (::rename(temp.c_str(), path.c_str()) != 0) {
    const int error = errno;
    ::unlink(temp.c_str());
    return FileError(path, "cannot write", error);
  }
  return absl::OkStatus();
}

}  // namespace netpool
