#include "server/wire_diagnosis.h"

#include <google/protobuf/io/coded_stream.h>

#include <map>

#include "core/catalog.h"

namespace depot::server {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::io::CodedInputStream;

constexpr int kMaxDepth = 16;

std::string walk(const google::protobuf::Descriptor* type, std::string_view wire,
                 const std::string& prefix, int depth) {
  CodedInputStream in(reinterpret_cast<const std::uint8_t*>(wire.data()),
                      static_cast<int>(wire.size()));
  std::map<int, int> seen;  // field number -> occurrences so far (repeated index)
  for (;;) {
    const std::uint32_t tag = in.ReadTag();
    if (tag == 0) return {};
    const int number = static_cast<int>(tag >> 3);
    std::uint64_t v64 = 0;
    std::uint32_t v32 = 0;
    switch (tag & 7) {
      case 0:
        if (!in.ReadVarint64(&v64)) return {};
        continue;
      case 1:
        if (!in.ReadLittleEndian64(&v64)) return {};
        continue;
      case 5:
        if (!in.ReadLittleEndian32(&v32)) return {};
        continue;
      case 2:
        break;
      default:
        return {};  // groups or garbage
    }
    std::uint32_t length = 0;
    std::string bytes;
    if (!in.ReadVarint32(&length) || !in.ReadString(&bytes, static_cast<int>(length))) return {};
    const FieldDescriptor* field = type ? type->FindFieldByNumber(number) : nullptr;
    if (!field) continue;
    std::string path = prefix + field->name();
    if (field->is_repeated()) path += "[" + std::to_string(seen[number]++) + "]";
    if (field->type() == FieldDescriptor::TYPE_STRING && !isValidUtf8(bytes)) return path;
    if (field->type() == FieldDescriptor::TYPE_MESSAGE && depth < kMaxDepth) {
      std::string inner = walk(field->message_type(), bytes, path + ".", depth + 1);
      if (!inner.empty()) return inner;
    }
  }
}

}  // namespace

std::string findInvalidUtf8Field(const google::protobuf::Descriptor* type, std::string_view wire) {
  return walk(type, wire, "", 0);
}

}  // namespace depot::server
