#include "store/postgres/pg_params.h"

#include <limits>

namespace depot::pg {
namespace {

void putU32(std::uint32_t v, std::string* out) {
  for (int shift = 24; shift >= 0; shift -= 8) out->push_back(static_cast<char>((v >> shift) & 0xff));
}

void putI64(std::int64_t v, std::string* out) {
  const auto u = static_cast<std::uint64_t>(v);
  for (int shift = 56; shift >= 0; shift -= 8) out->push_back(static_cast<char>((u >> shift) & 0xff));
}

}  // namespace

bool isStorableText(std::string_view s) {
  std::size_t i = 0;
  const std::size_t n = s.size();
  while (i < n) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c == 0) return false;
    if (c < 0x80) {
      ++i;
      continue;
    }
    std::size_t len = 0;
    std::uint32_t cp = 0;
    if (c >= 0xc2 && c <= 0xdf) {
      len = 2;
      cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
      len = 3;
      cp = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
      len = 4;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (n - i < len) return false;
    for (std::size_t k = 1; k < len; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3f);
    }
    // Overlong forms, surrogates and code points past U+10FFFF.
    if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
        (cp >= 0xd800 && cp <= 0xdfff)) {
      return false;
    }
    i += len;
  }
  return true;
}

absl::Status checkText(std::string_view s, std::string_view field) {
  if (isStorableText(s)) return absl::OkStatus();
  return absl::InvalidArgumentError(
      cat(field, ": the PostgreSQL store keeps strings as UTF-8 text; this one (", s.size(),
          " bytes) has a NUL byte or invalid UTF-8"));
}

void ArrayBuilder::addInt(std::int64_t v) {
  putU32(8, &m_body);
  putI64(v, &m_body);
  ++m_count;
}

void ArrayBuilder::addBytes(std::string_view v) {
  putU32(static_cast<std::uint32_t>(v.size()), &m_body);
  m_body.append(v);
  ++m_count;
}

void ArrayBuilder::addNull() {
  putU32(0xffffffffu, &m_body);  // length -1
  ++m_count;
}

std::string ArrayBuilder::finish() {
  // Header: ndim, has-nulls flag (the server recomputes it), element type,
  // then per dimension its size and lower bound.
  std::string out;
  out.reserve(20 + m_body.size());
  putU32(m_count == 0 ? 0 : 1, &out);
  putU32(0, &out);
  putU32(m_element_oid, &out);
  if (m_count != 0) {
    putU32(static_cast<std::uint32_t>(m_count), &out);
    putU32(1, &out);
  }
  out += m_body;
  m_body.clear();
  m_count = 0;
  return out;
}

Params& Params::addInt(std::int64_t v) {
  std::string bytes;
  putI64(v, &bytes);
  return addRaw(kInt8Oid, std::move(bytes));
}

Params& Params::addNull(unsigned oid) {
  m_types.push_back(oid);
  m_values.emplace_back();
  m_null.push_back(true);
  return *this;
}

Params& Params::addRaw(unsigned oid, std::string bytes) {
  m_types.push_back(oid);
  m_values.push_back(std::move(bytes));
  m_null.push_back(false);
  return *this;
}

Params::Views Params::views() const {
  Views v;
  v.types = m_types;
  for (std::size_t i = 0; i < m_values.size(); ++i) {
    v.values.push_back(m_null[i] ? nullptr : m_values[i].data());
    v.lengths.push_back(static_cast<int>(m_values[i].size()));
    v.formats.push_back(1);
  }
  return v;
}

}  // namespace depot::pg
