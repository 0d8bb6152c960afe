#include "common/value_wire.h"

#include <cstdint>
#include <cstring>
#include <utility>

#include "common/value_proto.h"

namespace netpool {
namespace {

// Tags (field number << 3 | wire type) of the messages in netpool.proto; every
// one fits in a byte.
constexpr char kNullTag = 0x08;     // Value.null_value, varint
constexpr char kBoolTag = 0x10;     // Value.bool_value, varint
constexpr char kIntTag = 0x18;      // Value.int_value, varint
constexpr char kDoubleTag = 0x21;   // Value.double_value, fixed64
constexpr char kStringTag = 0x2a;   // Value.string_value
constexpr char kBytesTag = 0x32;    // Value.bytes_value
constexpr char kListTag = 0x3a;     // Value.list_value
constexpr char kMapTag = 0x42;      // Value.map_value
constexpr char kJobRefTag = 0x4a;   // Value.job_ref
constexpr char kItemTag = 0x0a;     // ValueList.items, ValueMap.entries, PackedChunk.entries
constexpr char kKeyTag = 0x0a;      // ValueMapEntry.key
constexpr char kEntryValueTag = 0x12;  // ValueMapEntry.value

size_t VarintSize(uint64_t v) {
  size_t n = 1;
  for (; v >= 0x80; v >>= 7) ++n;
  return n;
}

void PutVarint(uint64_t v, std::string* out) {
  for (; v >= 0x80; v >>= 7) out->push_back(static_cast<char>(v | 0x80));
  out->push_back(static_cast<char>(v));
}

// A length-delimited field of `body` bytes: tag, length, body.
size_t Delimited(size_t body) { return 1 + VarintSize(body) + body; }

bool IsContainer(const Value& value) { return value.is_list() || value.is_map(); }

// The size of a scalar's Value message, whose one field is all there is.
size_t ScalarBodySize(const Value& value) {
  switch (value.kind()) {
    case Value::Kind::kNull:
    case Value::Kind::kBool:
      return 2;
    case Value::Kind::kInt:
      return 1 + VarintSize(static_cast<uint64_t>(value.AsInt()));
    case Value::Kind::kDouble:
      return 9;
    case Value::Kind::kString:
      return Delimited(value.AsString().size());
    case Value::Kind::kBytes:
      return Delimited(value.AsBytes().size());
    default:  // kJobRef
      return Delimited(value.AsJobRef().size());
  }
}

// Writes in two passes: Measure finds every list's, map's and map entry's
// message size (in the order Write meets them), Write then puts each length
// before its contents without measuring anything twice.
class Encoder {
 public:
  // The size of `value`'s Value message, or false when it is not ours to
  // encode. `depth` counts the lists and maps around it, as FromProto does.
  bool Measure(const Value& value, int depth, size_t* size) {
    if (value.is_list()) {
      if (depth >= kMaxValueDepth) return false;
      size_t body = 0;
      if (!MeasureList(value.AsList(), depth + 1, &body)) return false;
      *size = Delimited(body);
      return true;
    }
    if (value.is_map()) {
      if (depth >= kMaxValueDepth) return false;
      return MeasureMap(value.AsMap(), depth + 1, size);
    }
    // ToProto mends a job reference that is not UTF-8: the protobuf path's job.
    if (value.is_job_ref() && !IsValidUtf8(value.AsJobRef())) return false;
    *size = ScalarBodySize(value);
    return true;
  }

  // The size of a ValueList message of `items`, each at `depth`.
  bool MeasureList(absl::Span<const Value> items, int depth, size_t* size) {
    const size_t slot = sizes_.size();
    sizes_.push_back(0);
    size_t body = 0;
    for (const Value& item : items) {
      size_t item_size = 0;
      if (!Measure(item, depth, &item_size)) return false;
      body += Delimited(item_size);
    }
    sizes_[slot] = body;
    *size = body;
    return true;
  }

  void Write(const Value& value, std::string* out) {
    switch (value.kind()) {
      case Value::Kind::kNull:
        out->push_back(kNullTag);
        out->push_back(1);
        return;
      case Value::Kind::kBool:
        out->push_back(kBoolTag);
        out->push_back(value.AsBool() ? 1 : 0);
        return;
      case Value::Kind::kInt:
        out->push_back(kIntTag);
        PutVarint(static_cast<uint64_t>(value.AsInt()), out);
        return;
      case Value::Kind::kDouble: {
        out->push_back(kDoubleTag);
        const double d = value.AsDouble();
        uint64_t bits;
        std::memcpy(&bits, &d, sizeof bits);
        for (int i = 0; i < 8; ++i) out->push_back(static_cast<char>(bits >> (8 * i)));
        return;
      }
      case Value::Kind::kString:
        // As ToProto: a string that is not UTF-8 travels as bytes.
        PutField(IsValidUtf8(value.AsString()) ? kStringTag : kBytesTag, value.AsString(), out);
        return;
      case Value::Kind::kBytes:
        PutField(kBytesTag, value.AsBytes(), out);
        return;
      case Value::Kind::kJobRef:
        PutField(kJobRefTag, value.AsJobRef(), out);
        return;
      case Value::Kind::kList:
        out->push_back(kListTag);
        WriteList(value.AsList(), out);
        return;
      case Value::Kind::kMap:
        out->push_back(kMapTag);
        WriteMap(value.AsMap(), out);
        return;
    }
  }

  // A ValueList message's length and contents.
  void WriteList(absl::Span<const Value> items, std::string* out) {
    PutVarint(sizes_[next_++], out);
    for (const Value& item : items) {
      out->push_back(kItemTag);
      PutVarint(SizeAtWrite(item), out);
      Write(item, out);
    }
  }

 private:
  static void PutField(char tag, const std::string& data, std::string* out) {
    out->push_back(tag);
    PutVarint(data.size(), out);
    out->append(data);
  }

  // The map's Value message; ValueMap iterates in key order, as ToProto sends.
  bool MeasureMap(const ValueMap& map, int depth, size_t* size) {
    const size_t slot = sizes_.size();
    sizes_.push_back(0);
    size_t body = 0;
    for (const auto& [key, item] : map) {
      // ToProto mends such a key, which may then clash with another.
      if (!IsValidUtf8(key)) return false;
      const size_t entry_slot = sizes_.size();
      sizes_.push_back(0);
      size_t item_size = 0;
      if (!Measure(item, depth, &item_size)) return false;
      // proto3 leaves an empty key out.
      const size_t entry = (key.empty() ? 0 : Delimited(key.size())) + Delimited(item_size);
      sizes_[entry_slot] = entry;
      body += Delimited(entry);
    }
    sizes_[slot] = body;
    *size = Delimited(body);
    return true;
  }

  void WriteMap(const ValueMap& map, std::string* out) {
    PutVarint(sizes_[next_++], out);
    for (const auto& [key, item] : map) {
      out->push_back(kItemTag);
      PutVarint(sizes_[next_++], out);
      if (!key.empty()) PutField(kKeyTag, key, out);
      out->push_back(kEntryValueTag);
      PutVarint(SizeAtWrite(item), out);
      Write(item, out);
    }
  }

  // The size of the Value message Write is about to write: a list's or map's
  // is the next one Measure recorded.
  size_t SizeAtWrite(const Value& value) const {
    return IsContainer(value) ? Delimited(sizes_[next_]) : ScalarBodySize(value);
  }

  std::vector<size_t> sizes_;
  size_t next_ = 0;
};

// Reads a message's fields front to back.
class Reader {
 public:
  explicit Reader(absl::string_view bytes) : bytes_(bytes) {}

  bool done() const { return bytes_.empty(); }

  bool Varint(uint64_t* v) {
    *v = 0;
    for (int shift = 0; shift < 64 && !bytes_.empty(); shift += 7) {
      const auto byte = static_cast<unsigned char>(bytes_.front());
      bytes_.remove_prefix(1);
      *v |= static_cast<uint64_t>(byte & 0x7f) << shift;
      if (byte < 0x80) return true;
    }
    return false;
  }

  // The next tag, when it is `tag`.
  bool Tag(char tag) {
    if (bytes_.empty() || bytes_.front() != tag) return false;
    bytes_.remove_prefix(1);
    return true;
  }

  bool Delimited(absl::string_view* field) {
    uint64_t size = 0;
    if (!Varint(&size) || size > bytes_.size()) return false;
    *field = bytes_.substr(0, size);
    bytes_.remove_prefix(size);
    return true;
  }

  bool Fixed64(uint64_t* v) {
    if (bytes_.size() < 8) return false;
    *v = 0;
    for (int i = 0; i < 8; ++i) {
      *v |= static_cast<uint64_t>(static_cast<unsigned char>(bytes_[i])) << (8 * i);
    }
    bytes_.remove_prefix(8);
    return true;
  }

  // A string field's contents, which protobuf's parser requires to be UTF-8.
  bool Utf8(absl::string_view* field) {
    return Delimited(field) && IsValidUtf8(std::string_view(field->data(), field->size()));
  }

 private:
  absl::string_view bytes_;
};

bool DecodeAt(absl::string_view bytes, int depth, Value* out);

// How many items a ValueList (or PackedChunk) message holds, so that a list
// of thousands is allocated once; 0 when they do not parse, which decoding
// them then finds.
size_t CountItems(absl::string_view bytes) {
  Reader in(bytes);
  size_t count = 0;
  absl::string_view item;
  for (; !in.done(); ++count) {
    if (!in.Tag(kItemTag) || !in.Delimited(&item)) return 0;
  }
  return count;
}

// A ValueList message's items, each at `depth`.
bool DecodeList(absl::string_view bytes, int depth, ValueList* out) {
  out->reserve(CountItems(bytes));
  Reader in(bytes);
  while (!in.done()) {
    absl::string_view item;
    if (!in.Tag(kItemTag) || !in.Delimited(&item)) return false;
    if (!DecodeAt(item, depth, &out->emplace_back())) return false;
  }
  return true;
}

// A ValueMap message's entries, whose values are at `depth`.
bool DecodeMap(absl::string_view bytes, int depth, ValueMap* out) {
  Reader in(bytes);
  while (!in.done()) {
    absl::string_view entry_bytes;
    if (!in.Tag(kItemTag) || !in.Delimited(&entry_bytes)) return false;
    Reader entry(entry_bytes);
    absl::string_view key;
    if (entry.Tag(kKeyTag) && !entry.Utf8(&key)) return false;
    absl::string_view item;
    if (!entry.Tag(kEntryValueTag) || !entry.Delimited(&item) || !entry.done()) return false;
    Value value;
    if (!DecodeAt(item, depth, &value)) return false;
    // A duplicate key is FromProto's error to report.
    if (!out->emplace(std::string(key), std::move(value)).second) return false;
  }
  return true;
}

// A Value message with exactly one field we know; `depth` counts the lists
// and maps around it.
bool DecodeAt(absl::string_view bytes, int depth, Value* out) {
  Reader in(bytes);
  uint64_t number = 0;
  absl::string_view field;
  if (in.Tag(kNullTag)) {
    if (!in.Varint(&number)) return false;
    *out = Value();
  } else if (in.Tag(kBoolTag)) {
    if (!in.Varint(&number) || number > 1) return false;
    *out = Value(number == 1);
  } else if (in.Tag(kIntTag)) {
    if (!in.Varint(&number)) return false;
    *out = Value(static_cast<int64_t>(number));
  } else if (in.Tag(kDoubleTag)) {
    if (!in.Fixed64(&number)) return false;
    double d;
    std::memcpy(&d, &number, sizeof d);
    *out = Value(d);
  } else if (in.Tag(kStringTag)) {
    if (!in.Utf8(&field)) return false;
    *out = Value(std::string(field));
  } else if (in.Tag(kBytesTag)) {
    if (!in.Delimited(&field)) return false;
    *out = Value(Bytes{std::string(field)});
  } else if (in.Tag(kJobRefTag)) {
    if (!in.Utf8(&field)) return false;
    *out = Value(JobRef{std::string(field)});
  } else if (in.Tag(kListTag)) {
    if (depth >= kMaxValueDepth || !in.Delimited(&field)) return false;
    ValueList list;
    if (!DecodeList(field, depth + 1, &list)) return false;
    *out = Value(std::move(list));
  } else if (in.Tag(kMapTag)) {
    if (depth >= kMaxValueDepth || !in.Delimited(&field)) return false;
    ValueMap map;
    if (!DecodeMap(field, depth + 1, &map)) return false;
    *out = Value(std::move(map));
  } else {
    return false;
  }
  return in.done();
}

// A call's argument list: a list, or the one argument of a one-argument call.
absl::Span<const Value> ArgsOf(const ValueList& args) { return args; }
absl::Span<const Value> ArgsOf(const Value& argument) { return absl::MakeConstSpan(&argument, 1); }

template <typename Call>
std::optional<std::string> EncodeCalls(absl::Span<const Call> calls) {
  Encoder encoder;
  size_t size = 0;
  for (const Call& call : calls) {
    size_t entry = 0;
    if (!encoder.MeasureList(ArgsOf(call), 0, &entry)) return std::nullopt;
    size += Delimited(entry);
  }
  std::string out;
  out.reserve(size);
  for (const Call& call : calls) {
    out.push_back(kItemTag);
    encoder.WriteList(ArgsOf(call), &out);
  }
  return out;
}

}  // namespace

std::optional<std::string> EncodeValue(const Value& value) {
  Encoder encoder;
  size_t size = 0;
  if (!encoder.Measure(value, 0, &size)) return std::nullopt;
  std::string out;
  out.reserve(size);
  encoder.Write(value, &out);
  return out;
}

std::optional<std::string> EncodeChunk(absl::Span<const ValueList> arg_lists) {
  return EncodeCalls(arg_lists);
}

std::optional<std::string> EncodeChunk(absl::Span<const Value> arguments) {
  return EncodeCalls(arguments);
}

std::optional<Value> DecodeValue(absl::string_view bytes) {
  Value value;
  if (!DecodeAt(bytes, 0, &value)) return std::nullopt;
  return value;
}

std::optional<std::vector<ValueList>> DecodeChunk(absl::string_view bytes) {
  std::vector<ValueList> arg_lists;
  arg_lists.reserve(CountItems(bytes));
  Reader in(bytes);
  while (!in.done()) {
    absl::string_view entry;
    if (!in.Tag(kItemTag) || !in.Delimited(&entry)) return std::nullopt;
    if (!DecodeList(entry, 0, &arg_lists.emplace_back())) return std::nullopt;
  }
  return arg_lists;
}

}  // namespace netpool
