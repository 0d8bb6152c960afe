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

}  // namespace

absl::Status AppendFrame(const google::protobuf::MessageLite& message, std::string* frames) {
  size_t length = message.ByteSizeLong();
  if (length > kMaxFrameBytes) return TooLarge(length);
  const size_t start = frames->size();
  frames->resize(start + kHeaderBytes + length);
  char* frame = frames->data() + start;
  EncodeLength(static_cast<uint32_t>(length), frame);
  if (!message.SerializeToArray(frame + kHeaderBytes, static_cast<int>(length))) {
    frames->resize(start);
    return absl::InternalError("cannot serialize frame");
  }
  return absl::OkStatus();
}

absl::Status WriteFrames(int fd, const std::string& frames) {
  size_t done = 0;
  while (done < frames.size()) {
    ssize_t n = ::write(fd, frames.data() + done, frames.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return absl::UnavailableError(absl::StrCat("write to pipe: ", strerror(errno)));
    }
    done += static_cast<size_t>(n);
  }
  return absl::OkStatus();
}

absl::Status WriteFrame(int fd, const google::protobuf::MessageLite& message) {
  std::string frame;
  if (absl::Status encoded = AppendFrame(message, &frame); !encoded.ok()) return encoded;
  return WriteFrames(fd, frame);
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

absl::Status ReadFrame(int fd, FrameDecoder* decoder, google::protobuf::MessageLite* message) {
  char buffer[64 * 1024];
  while (true) {
    absl::StatusOr<bool> parsed = decoder->Next(message);
    if (!parsed.ok()) return parsed.status();
    if (*parsed) return absl::OkStatus();
    ssize_t n = ::read(fd, buffer, sizeof(buffer));
    if (n < 0) {
      if (errno == EINTR) continue;
      return absl::UnavailableError(absl::StrCat("read from pipe: ", strerror(errno)));
    }
    if (n == 0) {
      if (decoder->buffered() == 0) return absl::OutOfRangeError("end of stream");
      return absl::DataLossError(decoder->buffered() < kHeaderBytes ? "truncated frame header"
                                                                     : "truncated frame");
    }
    decoder->Append(buffer, static_cast<size_t>(n));
  }
}

}  // namespace netpool
