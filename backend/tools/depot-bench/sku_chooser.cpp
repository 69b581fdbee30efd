#include "sku_chooser.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>

namespace depot::bench {

namespace {
std::uint64_t splitmix(std::uint64_t& x) {
  std::uint64_t z = (x += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}
std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
}  // namespace

Rng::Rng(std::uint64_t seed) {
  for (auto& s : m_s) s = splitmix(seed);
}

std::uint64_t Rng::next() {
  const std::uint64_t result = rotl(m_s[1] * 5, 7) * 9;
  const std::uint64_t t = m_s[1] << 17;
  m_s[2] ^= m_s[0];
  m_s[3] ^= m_s[1];
  m_s[1] ^= m_s[2];
  m_s[0] ^= m_s[3];
  m_s[2] ^= t;
  m_s[3] = rotl(m_s[3], 45);
  return result;
}

Rng& threadRng() {
  static std::atomic<std::uint64_t> counter{
      static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count())};
  thread_local Rng rng(counter.fetch_add(0x632be59bd9b4e019ull));
  return rng;
}

std::string skuName(std::uint64_t index) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "sku-%07llu", static_cast<unsigned long long>(index));
  return buf;
}

absl::StatusOr<std::shared_ptr<const SkuChooser>> SkuChooser::create(const std::string& spec,
                                                                     std::uint64_t skus) {
  if (skus == 0) return absl::InvalidArgumentError("--skus: must be > 0");
  if (spec == "uniform") {
    return std::shared_ptr<const SkuChooser>(new SkuChooser(Kind::kUniform, spec, skus));
  }
  if (spec == "hot") return std::shared_ptr<const SkuChooser>(new SkuChooser(Kind::kHot, spec, skus));
  if (spec.rfind("zipf:", 0) == 0) {
    char* end = nullptr;
    const std::string num = spec.substr(5);
    const double s = std::strtod(num.c_str(), &end);
    if (num.empty() || end == nullptr || *end != '\0' || !std::isfinite(s)) {
      return absl::InvalidArgumentError("--dist: zipf needs a number, as in zipf:1.1; got '" +
                                        spec + "'");
    }
    if (s <= 0) {
      return absl::InvalidArgumentError("--dist: the Zipf exponent must be > 0; got '" + spec +
                                        "'");
    }
    if (skus > 50'000'000) return absl::InvalidArgumentError("--skus: at most 50,000,000 with zipf");
    auto chooser = std::shared_ptr<SkuChooser>(new SkuChooser(Kind::kZipf, spec, skus));
    chooser->m_cdf.resize(skus);
    double sum = 0;
    for (std::uint64_t k = 1; k <= skus; ++k) {
      sum += 1.0 / std::pow(static_cast<double>(k), s);
      chooser->m_cdf[k - 1] = sum;
    }
    for (auto& c : chooser->m_cdf) c /= sum;
    return std::shared_ptr<const SkuChooser>(std::move(chooser));
  }
  return absl::InvalidArgumentError("--dist: expected uniform, zipf:S or hot; got '" + spec + "'");
}

std::uint64_t SkuChooser::pick(Rng& rng) const {
  switch (m_kind) {
    case Kind::kUniform: return rng.below(m_skus);
    case Kind::kHot: return 0;
    case Kind::kZipf: {
      const double u = rng.uniform01();
      const auto it = std::lower_bound(m_cdf.begin(), m_cdf.end(), u);
      return std::min<std::uint64_t>(static_cast<std::uint64_t>(it - m_cdf.begin()), m_skus - 1);
    }
  }
  return 0;
}

}  // namespace depot::bench
