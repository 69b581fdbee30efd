// Which SKU a request names: uniform over K SKUs, Zipf(s) over K SKUs (rank
// 1 = SKU index 0, the peers' random_zipfian), or one hot SKU (index 0).
// The bench data set names SKU index i "sku-%07d" and has the locations
// "bench/A" and "bench/B" (load.cpp creates them).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace depot::bench {

// xoshiro256** seeded by splitmix64: fast, good enough for load generation.
class Rng {
 public:
  explicit Rng(std::uint64_t seed);
  std::uint64_t next();
  double uniform01() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
  std::uint64_t below(std::uint64_t n) { return n == 0 ? 0 : next() % n; }

 private:
  std::uint64_t m_s[4];
};

// A per-thread Rng, seeded differently in each thread.
Rng& threadRng();

std::string skuName(std::uint64_t index);
inline constexpr const char* kLocationA = "bench/A";
inline constexpr const char* kLocationB = "bench/B";

class SkuChooser {
 public:
  // spec: "uniform", "zipf:S" (S > 0) or "hot". INVALID_ARGUMENT otherwise,
  // or when skus == 0.
  static absl::StatusOr<std::shared_ptr<const SkuChooser>> create(const std::string& spec,
                                                                   std::uint64_t skus);
  std::uint64_t pick(Rng& rng) const;
  const std::string& spec() const { return m_spec; }

 private:
  enum class Kind { kUniform, kZipf, kHot };
  SkuChooser(Kind kind, std::string spec, std::uint64_t skus) : m_kind(kind), m_spec(std::move(spec)), m_skus(skus) {}
  Kind m_kind;
  std::string m_spec;
  std::uint64_t m_skus;
  std::vector<double> m_cdf;  // zipf only: cumulative probability of ranks 1..K
};

}  // namespace depot::bench
