// Explains why a request failed to parse, in terms of its fields, so that a
// malformed request gets a message naming the field (invariant 7) instead of
// a bare parse failure.
#pragma once

#include <string>
#include <string_view>

#include <google/protobuf/descriptor.h>

namespace depot::server {

// The path ("movements[0].sku") of the first string field of `type` whose
// bytes in `wire` are not valid UTF-8; "" when there is none or the bytes are
// not even well-formed protobuf.
std::string findInvalidUtf8Field(const google::protobuf::Descriptor* type, std::string_view wire);

}  // namespace depot::server
