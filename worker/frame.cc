#include "worker/frame.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "absl/strings/str_cat.h"

namespace netpool {
namespace {

constexpr size_t kHeaderBytes = 4;

void EncodeLength(uint32_t length, char* out) {
  for (size_t i = 0; i < kHeaderBytes; ++i) out[i] = static_cast<char>((length >> (8 * i)) & 0xff);
}

uint32_t DecodeLength(const char* in) {
  uint32_t length = 0;
  for (size_t i = 0; i < kHeaderBytes; ++i) {
    length |= static_cast<uint32_t>(static_cast<unsigned char>(in[i])) << (8 * i);
  }
  return length;
}

absl::Status TooLarge(uint64_t length) {
  return absl::ResourceExhaustedError(
      absl::StrCat("frame of ", length, " bytes exceeds the limit of ", kMaxFrameBytes, " bytes"));
}

// Reads exactly `size` bytes; returns how many arrived before end of stream.
absl::StatusOr<size_t> ReadFully(int fd, char* data, size_t size) {
  size_t done = 0;
  while (done < size) {
    ssize_t n = ::read(fd, data + done, size - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return absl::UnavailableError(absl::StrCat("read from pipe: ", strerror(errno)));
    }
    if (n == 0) break;
    done += static_cast<size_t>(n);
  }
  return done;
}

}  // namespace

absl::Status WriteFrame(int fd, const google::protobuf::MessageLite& message) {
  size_t length = message.ByteSizeLong();
  if (length > kMaxFrameBytes) return TooLarge(length);
  std::string frame(kHeaderBytes + length, '\0');
  EncodeLength(static_cast<uint32_t>(length), frame.data());
  if (!message.SerializeToArray(frame.data() + kHeaderBytes, static_cast<int>(length))) {
    return absl::InternalError("cannot serialize frame");
  }
  size_t done = 0;
  while (done < frame.size()) {
    ssize_t n = ::write(fd, frame.data() + done, frame.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return absl::UnavailableError(absl::StrCat("write to pipe: ", strerror(errno)));
    }
    done += static_cast<size_t>(n);
  }
  return absl::OkStatus();
}

absl::Status ReadFrame(int fd, google::protobuf::MessageLite* message) {
  char header[kHeaderBytes];
  absl::StatusOr<size_t> got = ReadFully(fd, header, kHeaderBytes);
  if (!got.ok()) return got.status();
  if (*got == 0) return absl::OutOfRangeError("end of stream");
  if (*got < kHeaderBytes) return absl::DataLossError("truncated frame header");
  uint32_t length = DecodeLength(header);
  if (length > kMaxFrameBytes) return TooLarge(length);
  std::string payload(length, '\0');
  got = ReadFully(fd, payload.data(), length);
  if (!got.ok()) return got.status();
  if (*got < length) return absl::DataLossError("truncated frame");
  if (!message->ParseFromString(payload)) return absl::DataLossError("unparsable frame");
  return absl::OkStatus();
}

absl::StatusOr<bool> FrameDecoder::Next(google::protobuf::MessageLite* message) {
  if (buffer_.size() < kHeaderBytes) return false;
  uint32_t length = DecodeLength(buffer_.data());
  if (length > kMaxFrameBytes) return TooLarge(length);
  if (buffer_.size() - kHeaderBytes < length) return false;
  if (!message->ParseFromArray(buffer_.data() + kHeaderBytes, static_cast<int>(length))) {
    return absl::DataLossError("unparsable frame");
  }
  buffer_.erase(0, kHeaderBytes + length);
  return true;
}

}  // namespace netpool
