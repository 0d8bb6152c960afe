#include "worker/frame.h"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <string>
#include <thread>

#include "gtest/gtest.h"
#include "netpool/v1/netpool.pb.h"
#include "netpool/v1/worker.pb.h"
#include "worker/unique_fd.h"

namespace netpool {
namespace {

struct TestPipe {
  TestPipe() {
    int fds[2];
    EXPECT_EQ(::pipe2(fds, O_CLOEXEC), 0);
    read_end.Reset(fds[0]);
    write_end.Reset(fds[1]);
  }
  UniqueFd read_end;
  UniqueFd write_end;
};

v1::ProcessTask Task(const std::string& job_id, const std::string& payload = "") {
  v1::ProcessTask task;
  task.mutable_assignment()->set_job_id(job_id);
  task.mutable_assignment()->set_function("echo");
  task.mutable_assignment()->add_args()->set_string_value(payload);
  return task;
}

void WriteRaw(int fd, const std::string& bytes) {
  ASSERT_EQ(::write(fd, bytes.data(), bytes.size()), static_cast<ssize_t>(bytes.size()));
}

// The bytes WriteFrame produces for `message`.
std::string Encode(const google::protobuf::MessageLite& message) {
  TestPipe pipe;
  EXPECT_TRUE(WriteFrame(pipe.write_end.get(), message).ok());
  pipe.write_end.Reset();
  std::string bytes;
  char buffer[4096];
  ssize_t n;
  while ((n = ::read(pipe.read_end.get(), buffer, sizeof(buffer))) > 0) bytes.append(buffer, n);
  return bytes;
}

TEST(Frame, RoundTripsMessagesThroughAPipe) {
  TestPipe pipe;
  ASSERT_TRUE(WriteFrame(pipe.write_end.get(), Task("a")).ok());
  ASSERT_TRUE(WriteFrame(pipe.write_end.get(), Task("b")).ok());
  FrameDecoder decoder;
  v1::ProcessTask got;
  ASSERT_TRUE(ReadFrame(pipe.read_end.get(), &decoder, &got).ok());
  EXPECT_EQ(got.assignment().job_id(), "a");
  ASSERT_TRUE(ReadFrame(pipe.read_end.get(), &decoder, &got).ok());
  EXPECT_EQ(got.assignment().job_id(), "b");
}

TEST(Frame, FramesWrittenTogetherAreReadInOneRead) {
  TestPipe pipe;
  std::string frames;
  ASSERT_TRUE(AppendFrame(Task("a"), &frames).ok());
  ASSERT_TRUE(AppendFrame(Task("b"), &frames).ok());
  ASSERT_TRUE(WriteFrames(pipe.write_end.get(), frames).ok());
  FrameDecoder decoder;
  v1::ProcessTask got;
  ASSERT_TRUE(ReadFrame(pipe.read_end.get(), &decoder, &got).ok());
  EXPECT_EQ(got.assignment().job_id(), "a");
  int unread = -1;
  ASSERT_EQ(::ioctl(pipe.read_end.get(), FIONREAD, &unread), 0);
  EXPECT_EQ(unread, 0);  // "b" waits in the decoder, not in the pipe
  ASSERT_TRUE(ReadFrame(pipe.read_end.get(), &decoder, &got).ok());
  EXPECT_EQ(got.assignment().job_id(), "b");
}

TEST(Frame, StartsWithLittleEndianLength) {
  std::string bytes = Encode(Task("a"));
  ASSERT_GE(bytes.size(), 4u);
  uint32_t length =
      static_cast<unsigned char>(bytes[0]) | static_cast<unsigned char>(bytes[1]) << 8 |
      static_cast<unsigned char>(bytes[2]) << 16 | static_cast<unsigned char>(bytes[3]) << 24;
  EXPECT_EQ(length, bytes.size() - 4);
}

TEST(Frame, CarriesFramesLargerThanThePipeBuffer) {
  TestPipe pipe;
  std::string payload(3 << 20, 'x');
  std::thread writer(
      [&] { EXPECT_TRUE(WriteFrame(pipe.write_end.get(), Task("big", payload)).ok()); });
  FrameDecoder decoder;
  v1::ProcessTask got;
  absl::Status status = ReadFrame(pipe.read_end.get(), &decoder, &got);
  writer.join();
  ASSERT_TRUE(status.ok()) << status;
  EXPECT_EQ(got.assignment().args(0).string_value(), payload);
}

TEST(Frame, CleanEndOfStreamIsOutOfRange) {
  TestPipe pipe;
  pipe.write_end.Reset();
  FrameDecoder decoder;
  v1::ProcessTask got;
  EXPECT_EQ(ReadFrame(pipe.read_end.get(), &decoder, &got).code(), absl::StatusCode::kOutOfRange);
}

TEST(Frame, TruncatedFrameIsDataLoss) {
  TestPipe pipe;
  std::string bytes = Encode(Task("a", "some payload"));
  WriteRaw(pipe.write_end.get(), bytes.substr(0, bytes.size() - 3));
  pipe.write_end.Reset();
  FrameDecoder decoder;
  v1::ProcessTask got;
  EXPECT_EQ(ReadFrame(pipe.read_end.get(), &decoder, &got).code(), absl::StatusCode::kDataLoss);
}

TEST(Frame, TruncatedHeaderIsDataLoss) {
  TestPipe pipe;
  WriteRaw(pipe.write_end.get(), std::string("\x05\x00", 2));
  pipe.write_end.Reset();
  FrameDecoder decoder;
  v1::ProcessTask got;
  EXPECT_EQ(ReadFrame(pipe.read_end.get(), &decoder, &got).code(), absl::StatusCode::kDataLoss);
}

TEST(Frame, OversizedLengthIsRefusedBeforeReadingThePayload) {
  TestPipe pipe;
  WriteRaw(pipe.write_end.get(), std::string("\xff\xff\xff\xff", 4));
  FrameDecoder decoder;
  v1::ProcessTask got;
  EXPECT_EQ(ReadFrame(pipe.read_end.get(), &decoder, &got).code(),
            absl::StatusCode::kResourceExhausted);
}

TEST(Frame, UnparsablePayloadIsDataLoss) {
  TestPipe pipe;
  WriteRaw(pipe.write_end.get(), std::string("\x03\x00\x00\x00\xff\xff\xff", 7));
  FrameDecoder decoder;
  v1::ProcessTask got;
  EXPECT_EQ(ReadFrame(pipe.read_end.get(), &decoder, &got).code(), absl::StatusCode::kDataLoss);
}

TEST(Frame, WriteRefusesMessagesOverTheLimit) {
  TestPipe pipe;
  v1::ProcessTask task = Task("huge", std::string(kMaxFrameBytes, 'x'));
  EXPECT_EQ(WriteFrame(pipe.write_end.get(), task).code(), absl::StatusCode::kResourceExhausted);
}

TEST(Frame, WriteToAClosedPipeIsUnavailable) {
  TestPipe pipe;
  pipe.read_end.Reset();
  ::signal(SIGPIPE, SIG_IGN);
  EXPECT_EQ(WriteFrame(pipe.write_end.get(), Task("a")).code(), absl::StatusCode::kUnavailable);
  ::signal(SIGPIPE, SIG_DFL);
}

TEST(FrameDecoder, ReassemblesFramesSplitAtAnyByte) {
  std::string bytes = Encode(Task("a", "first")) + Encode(Task("b", "second")) + Encode(Task("c"));
  FrameDecoder decoder;
  std::vector<std::string> ids;
  for (char c : bytes) {
    decoder.Append(&c, 1);
    v1::ProcessTask got;
    absl::StatusOr<bool> parsed = decoder.Next(&got);
    ASSERT_TRUE(parsed.ok());
    if (*parsed) ids.push_back(got.assignment().job_id());
  }
  EXPECT_EQ(ids, (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(decoder.buffered(), 0u);
}

TEST(FrameDecoder, YieldsEveryFrameOfOneChunk) {
  std::string bytes = Encode(Task("a")) + Encode(Task("b"));
  FrameDecoder decoder;
  decoder.Append(bytes.data(), bytes.size());
  v1::ProcessTask got;
  EXPECT_EQ(*decoder.Next(&got), true);
  EXPECT_EQ(got.assignment().job_id(), "a");
  EXPECT_EQ(*decoder.Next(&got), true);
  EXPECT_EQ(got.assignment().job_id(), "b");
  EXPECT_EQ(*decoder.Next(&got), false);
}

TEST(FrameDecoder, RejectsOversizedAndUnparsableFrames) {
  v1::ProcessTask got;
  FrameDecoder oversized;
  oversized.Append("\xff\xff\xff\xff", 4);
  EXPECT_EQ(oversized.Next(&got).status().code(), absl::StatusCode::kResourceExhausted);
  FrameDecoder garbage;
  garbage.Append("\x03\x00\x00\x00\xff\xff\xff", 7);
  EXPECT_EQ(garbage.Next(&got).status().code(), absl::StatusCode::kDataLoss);
}

}  // namespace
}  // namespace netpool
