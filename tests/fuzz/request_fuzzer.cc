// request_fuzzer feeds arbitrary bytes to everything netpool parses from
// outside: (a) every request message netpoold accepts, parsed and then
// checked by its validator, (b) Value decoding from its wire form, (c) the
// CLI's JSON argument parsing, and (d) what authentication reads: token
// files, the authorization metadata and the node name a node asks for.
// Besides "no crash, no hang, no leak" it checks a few properties that must
// hold for any input:
//   - ValidateValue accepts exactly what FromProto accepts, with the same error;
//   - every Value made (decoded, or parsed by the CLI) survives ToProto ->
//     serialize -> parse -> FromProto;
//   - a Value parsed from JSON survives ToJson -> FromJson;
//   - ParseWord is FromJson, or when that fails an error for a word that
//     starts with { [ or " and the word itself for any other;
//   - a token file that parses admits each plain token it lists, as its
//     line's identity, and no token it does not list;
//   - a worker credential's node is only ever listed under its own name;
// A broken property aborts, so the fuzzing engine reports it as a crash.
//
// Built as a libFuzzer target with Clang, and with tests/fuzz/fuzz_driver.cc
// as its main() elsewhere; scripts/fuzz.sh runs it.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_split.h"
#include "client/cli/arguments.h"
#include "common/records.h"
#include "common/value_proto.h"
#include "google/protobuf/stubs/logging.h"
#include "netpool/v1/netpool.pb.h"
#include "netpool/v1/worker.pb.h"
#include "netpool/value.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "server/auth/authenticator.h"
#include "server/auth/identity.h"
#include "server/auth/token_table.h"
#include "server/core/job_spec_validation.h"
#include "server/request_validation.h"

namespace netpool {
namespace {

// Words and lines beyond these are not worth the time per input.
constexpr size_t kMaxWords = 64;
constexpr size_t kMaxLines = 256;

void Require(bool holds, const char* property) {
  if (holds) return;
  std::fprintf(stderr, "request_fuzzer: property broken: %s\n", property);
  std::abort();
}

// Values compare by their wire form, which (unlike Value's operator==) holds
// a NaN equal to itself.
std::string WireBytes(const Value& value) { return ToProto(value).SerializeAsString(); }

// Values a client sends must arrive as they left.
void RequireWireRoundTrip(const Value& value) {
  std::string bytes = WireBytes(value);
  v1::Value parsed;
  Require(parsed.ParseFromString(bytes), "a Value's wire form parses");
  absl::StatusOr<Value> back = FromProto(parsed);
  Require(back.ok(), "a Value's wire form decodes");
  Require(WireBytes(*back) == bytes, "a Value survives its wire form");
}

template <typename Request>
void ParseAndValidate(std::string_view bytes, absl::Status (*validate)(const Request&)) {
  Request request;
  if (request.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    validate(request).IgnoreError();
  }
}

void FuzzRequests(std::string_view bytes) {
  ParseAndValidate<v1::WatchRequest>(bytes, ValidateWatchRequest);
  ParseAndValidate<v1::GetRequest>(bytes, ValidateGetRequest);
  ParseAndValidate<v1::CancelRequest>(bytes, ValidateCancelRequest);
  ParseAndValidate<v1::GetStatusRequest>(bytes, ValidateGetStatusRequest);
  ParseAndValidate<v1::ListJobsRequest>(bytes, ValidateListJobsRequest);
  ParseAndValidate<v1::WorkerMessage>(bytes, ValidateFirstWorkerMessage);
  ParseAndValidate<v1::WorkerMessage>(bytes, ValidateLaterWorkerMessage);
  v1::SubmitRequest submit;
  if (submit.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    for (const v1::JobSpec& spec : submit.jobs()) ValidateJobSpec(spec).IgnoreError();
  }
}

void FuzzValueProto(std::string_view bytes) {
  v1::Value proto;
  if (!proto.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) return;
  absl::StatusOr<Value> value = FromProto(proto);
  Require(ValidateValue(proto) == value.status(), "ValidateValue agrees with FromProto");
  if (!value.ok()) return;
  RequireWireRoundTrip(*value);
  value->ToJson();
}

void FuzzJson(std::string_view text) {
  absl::StatusOr<Value> value = Value::FromJson(text);
  const absl::StatusOr<Value> word = cli::ParseWord(std::string(text));
  const bool starts_like_json = !text.empty() && std::string_view("{[\"").find(text.front()) !=
                                                     std::string_view::npos;
  if (value.ok() || !starts_like_json) {
    Require(word.ok() && WireBytes(*word) == WireBytes(value.ok() ? *value
                                                                   : Value(std::string(text))),
            "ParseWord is FromJson or the word itself");
    RequireWireRoundTrip(*word);
  } else {
    Require(!word.ok(), "ParseWord refuses a word that starts like JSON but is not");
  }
  if (!value.ok()) return;
  absl::StatusOr<Value> again = Value::FromJson(value->ToJson());
  Require(again.ok(), "ToJson output parses");
  Require(WireBytes(*again) == WireBytes(*value), "a Value survives JSON");
  RequireWireRoundTrip(*value);
}

// Reads every item; a reader must end, after at most one item per line.
void ReadAll(cli::ItemReader reader, size_t max_items) {
  for (size_t items = 0;; ++items) {
    Require(items <= max_items, "an ItemReader ends");
    absl::StatusOr<std::optional<ValueList>> next = reader.Next();
    if (!next.ok() || !next->has_value()) return;
    RequireWireRoundTrip(Value(**std::move(next)));
  }
}

void FuzzCliInput(std::string_view text) {
  const size_t lines = static_cast<size_t>(std::count(text.begin(), text.end(), '\n')) + 1;
  if (lines <= kMaxLines) {
    for (cli::ItemFormat format :
         {cli::ItemFormat::kValue, cli::ItemFormat::kArgumentList, cli::ItemFormat::kText}) {
      std::istringstream in{std::string(text)};
      ReadAll(cli::ItemReader::FromLines(&in, format), lines);
    }
  }
  // Command-line words: the input split at NUL bytes, which no argv word holds.
  std::vector<std::string> words =
      absl::StrSplit(absl::string_view(text.data(), text.size()), '\0');
  if (words.size() > kMaxWords) return;
  ReadAll(cli::ItemReader::FromWords(words, cli::ItemFormat::kValue), words.size());
  for (bool command_form : {false, true}) {
    absl::StatusOr<cli::MapWords> split = cli::SplitMapWords(words, command_form);
    if (split.ok() && !split->command.empty()) cli::BuildCommand(split->command, words.back(), 1);
  }
  cli::IsCommandForm(words, words.size() / 2);
  ParseJobState(words.front()).IgnoreError();
}

void FuzzAuth(std::string_view text) {
  const absl::string_view input(text.data(), text.size());
  absl::StatusOr<TokenTable> table = TokenTable::Parse(input);
  if (table.ok()) {
    for (absl::string_view line : absl::StrSplit(input, '\n')) {
      std::vector<absl::string_view> fields = absl::StrSplit(
          absl::StripAsciiWhitespace(line), absl::ByAnyChar(" \t"), absl::SkipEmpty());
      if (fields.size() != 3 || fields[0].front() == '#' ||
          absl::StartsWith(fields[2], "sha256:")) {
        continue;
      }
      std::optional<Identity> found = table->Find(fields[2]);
      Require(found.has_value() && found->name == fields[1] &&
                  RoleName(found->role) == fields[0],
              "a parsed token file admits its tokens as their identities");
    }
    Require(!table->Find(absl::StrCat(input, "\x01not-a-listed-token")).has_value(),
            "a token file admits no token it does not list");
  }
  absl::StatusOr<absl::string_view> token = BearerToken(input);
  Require(!token.ok() || (absl::StartsWith(input, "Bearer ") && !token->empty() &&
                          input.substr(7) == *token),
          "BearerToken takes exactly what follows \"Bearer \"");
  for (bool chosen : {false, true}) {
    absl::StatusOr<std::string> name =
        BindNodeName({Role::kWorker, "rack1"}, std::string(input), chosen);
    Require(!name.ok() || *name == "rack1" || absl::StartsWith(*name, "rack1/"),
            "a worker credential's node is listed under its own name");
  }
}

}  // namespace
}  // namespace netpool

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // Protobuf logs every string field that is not UTF-8; thousands of those
  // lines would bury what matters.
  static const bool quiet = [] {
    google::protobuf::SetLogHandler(nullptr);
    return true;
  }();
  (void)quiet;
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  netpool::FuzzRequests(bytes);
  netpool::FuzzValueProto(bytes);
  netpool::FuzzJson(bytes);
  netpool::FuzzCliInput(bytes);
  netpool::FuzzAuth(bytes);
  return 0;
}
