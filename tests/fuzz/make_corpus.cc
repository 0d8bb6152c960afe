// make_corpus writes request_fuzzer's seed corpus: one well-formed example of
// each request netpoold accepts, serialized, and the kinds of JSON the CLI
// reads. Fuzzing starts from these so that mutations reach the validators'
// rules instead of dying in the parser. The files are committed in
// tests/fuzz/corpus/; rerun this after a change to the wire contract:
//
//   build/tests/fuzz/make_corpus tests/fuzz/corpus
#include <cstdio>
#include <fstream>
#include <string>

#include "common/value_proto.h"
#include "netpool/v1/netpool.pb.h"
#include "netpool/v1/worker.pb.h"
#include "netpool/value.h"

namespace netpool {
namespace {

bool Write(const std::string& dir, const std::string& name, const std::string& bytes) {
  std::ofstream file(dir + "/" + name, std::ios::binary | std::ios::trunc);
  file << bytes;
  return static_cast<bool>(file);
}

// One value of every kind, nested.
Value EveryKind() {
  return Value(ValueMap{
      {"null", Value()},
      {"bool", Value(true)},
      {"int", Value(-42)},
      {"double", Value(2.5)},
      {"string", Value("caf\xc3\xa9")},
      {"bytes", Value(Bytes{std::string("\x00\xff", 2)})},
      {"job", Value(JobRef{"j-first"})},
      {"list", Value(ValueList{Value(1), Value(ValueList{Value("nested")})})},
  });
}

v1::JobSpec Job() {
  v1::JobSpec spec;
  spec.set_job_id("j-0123456789abcdefghijkl");
  spec.set_function("crunch_image");
  ToProto(Value("/data/t1.nii.gz"), spec.add_args());
  ToProto(EveryKind(), spec.add_args());
  spec.set_timeout_seconds(60);
  spec.set_max_attempts(3);
  spec.set_priority(5);
  spec.set_idempotency_key("upload-2024-01-01/t1");
  spec.set_retry_on_error(true);
  spec.set_retry_backoff_seconds(0.5);
  return spec;
}

v1::JobResult Result() {
  v1::JobResult result;
  result.set_job_id("j-0123456789abcdefghijkl");
  result.set_state(v1::SUCCEEDED);
  ToProto(EveryKind(), result.mutable_value());
  return result;
}

bool WriteAll(const std::string& dir) {
  bool ok = true;
  auto put = [&](const std::string& name, const std::string& bytes) {
    ok = Write(dir, name, bytes) && ok;
  };

  v1::SubmitRequest submit;
  *submit.add_jobs() = Job();
  v1::JobSpec* chunk = submit.add_jobs();
  chunk->set_function("echo");
  for (int i = 0; i < 3; ++i) ToProto(Value(i), chunk->add_chunk()->add_items());
  put("submit.bin", submit.SerializeAsString());

  v1::WatchRequest watch;
  watch.add_job_ids("j-0123456789abcdefghijkl");
  watch.add_job_ids("my.job_1");
  put("watch.bin", watch.SerializeAsString());

  v1::GetRequest get;
  get.set_job_id("j-0123456789abcdefghijkl");
  get.set_timeout_seconds(-1);
  put("get.bin", get.SerializeAsString());

  v1::CancelRequest cancel;
  cancel.add_job_ids("j-0123456789abcdefghijkl");
  put("cancel.bin", cancel.SerializeAsString());

  v1::ListJobsRequest list;
  list.set_state(v1::RUNNING);
  list.set_limit(10);
  put("list_jobs.bin", list.SerializeAsString());

  v1::WorkerMessage hello;
  v1::WorkerHello* h = hello.mutable_hello();
  h->set_name("host-1234");
  h->set_slots(16);
  h->add_functions("exec");
  h->add_functions("images.crunch_image:v2");
  (*h->mutable_labels())["gpu"] = "a100";
  h->add_held_job_ids("j-0123456789abcdefghijkl");
  put("worker_hello.bin", hello.SerializeAsString());

  v1::WorkerMessage update;
  update.set_credits(2);
  *update.add_results() = Result();
  v1::JobResult* failed = update.add_results();
  failed->set_job_id("j-failed");
  failed->set_state(v1::FAILED);
  failed->mutable_error()->set_code(2);
  failed->mutable_error()->set_message("exit status 1");
  ToProto(Value(ValueMap{{"exit_code", Value(1)}, {"stderr", Value("oops\n")}}),
          failed->mutable_error()->mutable_detail());
  update.set_heartbeat(true);
  put("worker_results.bin", update.SerializeAsString());

  put("value.bin", ToProto(EveryKind()).SerializeAsString());

  put("json_map.txt", EveryKind().ToJson());
  put("json_scalars.txt",
      "[null, true, false, -0, 1e308, -9223372036854775808, "
      "18446744073709551615, 0.1, \"\\u00e9\\ud83d\\ude00\\n\"]");
  put("json_lines.txt", "1\n\"two\"\n\n[3, {\"x\": 4}]\r\n{\"$bytes\": \"AP8=\"}\n");
  put("json_starmap.txt", "[1, 2]\n[\"a\", {\"$job\": \"j-first\"}]\n[]\n");
  put("words.txt", std::string("crunch_image\0:::\0a.nii\0{\"k\": [1]}\0--\0ls\0{}", 42));
  return ok;
}

}  // namespace
}  // namespace netpool

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: make_corpus DIR\n");
    return 64;
  }
  if (!netpool::WriteAll(argv[1])) {
    std::fprintf(stderr, "make_corpus: cannot write to %s\n", argv[1]);
    return 73;
  }
  return 0;
}
