// Helpers shared by the runtime tests: running a model on a backend, comparing outputs.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "pitlane/runtime/model.h"

namespace pitlane::runtime::testing {

inline std::vector<float> run_model(const Model& model, Backend backend, int64_t batch,
                                    const std::vector<float>& x, int threads = 1) {
  Session s(model, {.backend = backend, .threads = threads, .batch = batch});
  std::vector<float> y(s.outputs()[0].element_count());
  s.run(x, y);
  return y;
}

inline float max_abs_diff(std::span<const float> a, std::span<const float> b) {
  EXPECT_EQ(a.size(), b.size());
  float d = 0.0f;
  for (size_t i = 0; i < std::min(a.size(), b.size()); ++i) {
    if (std::isnan(a[i]) != std::isnan(b[i])) return INFINITY;
    d = std::max(d, std::abs(a[i] - b[i]));
  }
  return d;
}

inline std::vector<float> random_input(int64_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  std::vector<float> v(n);
  for (float& x : v) x = dist(rng);
  return v;
}

// Runs `check(name)` once per instruction set that one of pitlane's own kernels (kernels/) has and
// the CPU runs: the portable loops, then AVX-512 where the CPU has it (kernel.avx512 says which).
template <class Kernel, class Check>
void for_each_instruction_set(Kernel& kernel, Check check) {
  const bool avx512 = kernel.avx512;
  for (bool use_avx512 : {false, true}) {
    if (use_avx512 && !avx512) continue;
    kernel.avx512 = use_avx512;
    check(std::string(use_avx512 ? " avx512" : " portable"));
  }
  kernel.avx512 = avx512;
}

}  // namespace pitlane::runtime::testing
