// Parameters for libpq in binary format, and the string rules of the
// PostgreSQL engine.
//
// Every value is sent binary with an explicit type OID, so nothing is ever
// spliced into SQL text and integers need no formatting or parsing. Arrays
// (int8[], text[], bytea[]) are built in PostgreSQL's binary array format;
// a whole column of a batch travels as one array parameter and is expanded
// server-side with unnest(), which is what makes a batch one statement.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace depot::pg {

// String concatenation for messages and SQL text (absl::StrCat does not take
// std::string_view in this abseil build).
namespace detail {
inline void append(std::string& out, std::string_view v) { out.append(v); }
inline void append(std::string& out, const char* v) { out.append(v != nullptr ? v : ""); }
inline void append(std::string& out, const std::string& v) { out.append(v); }
#if !ABSL_USES_STD_STRING_VIEW
inline void append(std::string& out, absl::string_view v) { out.append(v.data(), v.size()); }
#endif
template <typename T>
requires std::is_integral_v<T>
void append(std::string& out, T v) { out.append(std::to_string(v)); }
}  // namespace detail
template <typename... Args>
std::string cat(const Args&... args) {
  std::string out;
  (detail::append(out, args), ...);
  return out;
}

// Type OIDs (pg_type.dat; fixed since PostgreSQL 7).
inline constexpr unsigned kInt8Oid = 20;
inline constexpr unsigned kTextOid = 25;
inline constexpr unsigned kByteaOid = 17;
inline constexpr unsigned kInt8ArrayOid = 1016;
inline constexpr unsigned kTextArrayOid = 1009;
inline constexpr unsigned kByteaArrayOid = 1001;

// PostgreSQL text must be valid UTF-8 without NUL bytes (the database
// encoding is UTF8). Other engines store any bytes; this one refuses them up
// front with INVALID_ARGUMENT naming `field`, before anything is sent.
bool isStorableText(std::string_view s);
absl::Status checkText(std::string_view s, std::string_view field);

// A one-dimensional array parameter in binary format, built element by
// element. Empty arrays are valid (zero dimensions).
class ArrayBuilder {
 public:
  explicit ArrayBuilder(unsigned element_oid) : m_element_oid(element_oid) {}
  void addInt(std::int64_t v);
  void addBytes(std::string_view v);  // text or bytea element
  void addNull();
  std::size_t size() const { return m_count; }
  unsigned elementOid() const { return m_element_oid; }
  // The encoded array; the builder is empty afterwards.
  std::string finish();

 private:
  unsigned m_element_oid;
  std::size_t m_count = 0;
  std::string m_body;
};

class Params {
 public:
  Params& addInt(std::int64_t v);
  Params& addText(std::string_view v) { return addRaw(kTextOid, std::string(v)); }
  Params& addBytea(std::string_view v) { return addRaw(kByteaOid, std::string(v)); }
  Params& addNull(unsigned oid);
  Params& addIntArray(ArrayBuilder& a) { return addRaw(kInt8ArrayOid, a.finish()); }
  Params& addTextArray(ArrayBuilder& a) { return addRaw(kTextArrayOid, a.finish()); }
  Params& addByteaArray(ArrayBuilder& a) { return addRaw(kByteaArrayOid, a.finish()); }
  int size() const { return static_cast<int>(m_values.size()); }

  // Views for PQsendQueryParams; valid while this object lives unchanged.
  struct Views {
    std::vector<unsigned> types;
    std::vector<const char*> values;
    std::vector<int> lengths;
    std::vector<int> formats;
  };
  Views views() const;

 private:
  Params& addRaw(unsigned oid, std::string bytes);
  std::vector<unsigned> m_types;
  std::vector<std::string> m_values;
  std::vector<bool> m_null;
};

}  // namespace depot::pg
