// ReadPrivateFile reads a secret (a token, a private key) from a file that
// nobody but its owner may read: a secret that other users of the machine
// could read is no secret, so such a file is refused rather than used.
#ifndef NETPOOL_COMMON_PRIVATE_FILE_H_
#define NETPOOL_COMMON_PRIVATE_FILE_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace netpool {

// The whole file. kPermissionDenied when its group or others have any
// access to it (chmod 600 fixes that), unless it is one of the service's
// systemd credentials ($CREDENTIALS_DIRECTORY, private to the service);
// kNotFound when it does not exist, kFailedPrecondition for other errors;
// each message names the path.
absl::StatusOr<std::string> ReadPrivateFile(const std::string& path);

// Writes `content` to `path` with mode 0600, atomically (a temporary file in
// the same directory, then rename), creating the directory (0700) if needed.
absl::Status WritePrivateFile(const std::string& path, const std::string& content);

// Reads a file anyone may read (a certificate); the message names the path.
absl::StatusOr<std::string> ReadPublicFile(const std::string& path);

}  // namespace netpool

#endif  // NETPOOL_COMMON_PRIVATE_FILE_H_
