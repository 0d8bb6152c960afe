// Length-prefixed protobuf frames on the pipes between a node agent and its
// worker processes: a 4-byte little-endian length, then the serialized
// message. Either side may send several frames in one write. The worker
// process reads and writes with blocking calls; the node agent reads
// non-blocking pipes and feeds the bytes to a FrameDecoder, so that one slow
// process cannot stall the others.
#ifndef NETPOOL_WORKER_FRAME_H_
#define NETPOOL_WORKER_FRAME_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "google/protobuf/message_lite.h"

namespace netpool {

// Larger frames are refused on both sides (kResourceExhausted).
inline constexpr uint32_t kMaxFrameBytes = 64u << 20;

// Appends `message` as one frame to `frames`, so that several frames can go
// out in one write. Errors: kResourceExhausted when too large (`frames` is
// then unchanged).
absl::Status AppendFrame(const google::protobuf::MessageLite& message, std::string* frames);

// Writes encoded frames to a blocking fd, retrying short writes and EINTR.
// Errors: kUnavailable on a write error (EPIPE: the reader is gone).
absl::Status WriteFrames(int fd, const std::string& frames);

// Writes `message` as one frame to a blocking fd. Errors as for AppendFrame
// and WriteFrames.
absl::Status WriteFrame(int fd, const google::protobuf::MessageLite& message);

// Splits a byte stream that arrives in arbitrary pieces back into frames.
class FrameDecoder {
 public:
  void Append(const char* data, size_t size) { buffer_.append(data, size); }

  // Parses the next complete frame into `message`: true when one was parsed,
  // false when more bytes are needed. Errors as for ReadFrame; after an error
  // the stream is unusable.
  absl::StatusOr<bool> Next(google::protobuf::MessageLite* message);

  // Bytes received that do not yet form a whole frame.
  size_t buffered() const { return buffer_.size(); }

 private:
  std::string buffer_;
};

// Parses the next frame from a blocking fd into `message`, through `decoder`:
// when the decoder holds no whole frame, one read() takes everything that has
// arrived, so frames the writer sent together cost the reader one read.
// Errors: kOutOfRange on a clean end of stream before the frame starts,
// kDataLoss on a truncated or unparsable frame, kResourceExhausted on an
// oversized length, kUnavailable on a read error.
absl::Status ReadFrame(int fd, FrameDecoder* decoder, google::protobuf::MessageLite* message);

}  // namespace netpool

#endif  // NETPOOL_WORKER_FRAME_H_
