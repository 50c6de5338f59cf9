// The zero-skipping int8 Gemm (kernels/zero_skip_gemm/int8.h): the kernel against an
// integer oracle written from the QGemm definition (exact: the same integers for every output
// type), on awkward shapes, uint8 and int8 inputs with their zero points, an odd number of
// listed inputs, AVX-512 and portable, 1 and 2 threads; in a plan: QGemm graphs and the
// quantized PilotNet against the reference backend, and no allocation per inference.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "alloc_hooks.h"
#include "onnx_builder.h"
#include "pitlane/runtime/kernels/zero_skip_gemm/int8.h"
#include "pitlane/runtime/kernels/zero_skip_gemm/microkernels.h"
#include "test_util.h"

namespace pitlane::runtime {
namespace {

using namespace testing;
using kernels::QuantizedGemmParams;
using kernels::ZeroSkipGemmInt8;

struct Case {
  int64_t m, n, k;
  bool x_signed;
  int32_t x_zero;
  bool requantize, y_signed, relu;
};

// y as the QGemm definition gives it, one element at a time (int64 sums).
float oracle(const Case& c, const QuantizedGemmParams& q, const std::vector<int32_t>& x,
             const std::vector<float>& w, const std::vector<float>& bias, int64_t b, int64_t j) {
  int64_t acc = static_cast<int64_t>(bias[j]);
  for (int64_t i = 0; i < c.k; ++i)
    acc += (x[b * c.k + i] - c.x_zero) * static_cast<int64_t>(w[j * c.k + i]);
  const float w_scale = q.w_scale[q.w_scale.size() == 1 ? 0 : j];
  if (!c.requantize) {
    const float v = static_cast<float>(acc) * (q.alpha * q.x_scale * w_scale);
    return c.relu ? std::max(v, 0.0f) : v;
  }
  const float r =
      std::nearbyint(static_cast<float>(acc) * (q.alpha * q.x_scale * w_scale / q.y_scale));
  const float qmin = c.y_signed ? -128.0f : 0.0f, qmax = c.y_signed ? 127.0f : 255.0f;
  const float lo = c.relu ? std::max(qmin, static_cast<float>(q.y_zero)) : qmin;
  return std::min(std::max(r + static_cast<float>(q.y_zero), lo), qmax);
}

TEST(ZeroSkipGemmInt8, MatchesTheDefinitionExactly) {
  const Case cases[] = {
      {1, 1, 1, false, 0, true, false, true},     {1, 17, 3, false, 128, true, false, false},
      {2, 64, 37, true, -7, true, true, false},   {3, 100, 300, false, 3, true, false, true},
      {4, 130, 301, true, 0, false, false, true}, {1, 70, 1000, false, 0, false, false, false},
      {4, 5, 64, false, 255, true, true, true}};
  for (const Case& c : cases) {
    std::mt19937 rng(static_cast<uint32_t>(c.n * 7 + c.k));
    std::uniform_int_distribution<int> weight(-127, 127), bias_value(-3000, 3000),
        input(c.x_signed ? -128 : 0, c.x_signed ? 127 : 255);
    std::bernoulli_distribution at_zero(0.45);
    std::vector<float> w(c.n * c.k), bias(c.n);
    for (float& v : w) v = static_cast<float>(weight(rng));
    for (float& v : bias) v = static_cast<float>(bias_value(rng));
    std::vector<int32_t> x(c.m * c.k);
    for (int32_t& v : x) v = at_zero(rng) ? c.x_zero : input(rng);
    std::vector<uint8_t> x_bytes(x.size());
    for (size_t i = 0; i < x.size(); ++i) x_bytes[i] = static_cast<uint8_t>(x[i]);
    QuantizedGemmParams q{.x_scale = 0.02f,
                          .x_zero = c.x_zero,
                          .x_signed = c.x_signed,
                          .w_scale = std::vector<float>(c.n),
                          .alpha = 1.0f,
                          .requantize = c.requantize,
                          .y_scale = 0.9f,
                          .y_zero = c.y_signed ? -3 : 12,
                          .y_signed = c.y_signed,
                          .relu = c.relu};
    std::uniform_real_distribution<float> scale(0.001f, 0.01f);
    for (float& s : q.w_scale) s = scale(rng);
    const std::string what =
        "m " + std::to_string(c.m) + " n " + std::to_string(c.n) + " k " + std::to_string(c.k);
    for (int threads : {1, 2}) {
      ZeroSkipGemmInt8 g =
          kernels::make_zero_skip_gemm_int8(w.data(), c.n, c.k, bias.data(), q, c.m, threads);
      EXPECT_EQ(g.avx512, kernels::zero_skip_int8_avx512_runs(cpu_features()));
      std::vector<float> workspace(g.workspace_floats);
      for_each_instruction_set(g, [&](const std::string& isa) {
        std::vector<float> y_float(c.m * c.n, NAN);
        std::vector<uint8_t> y_bytes(c.m * c.n, 0xAB);
        kernels::run_zero_skip_gemm_int8(
            g, x_bytes.data(),
            c.requantize ? static_cast<void*>(y_bytes.data()) : static_cast<void*>(y_float.data()),
            workspace.data());
        for (int64_t b = 0; b < c.m; ++b)
          for (int64_t j = 0; j < c.n; ++j) {
            const uint8_t byte = y_bytes[b * c.n + j];
            const float got = !c.requantize ? y_float[b * c.n + j]
                              : c.y_signed  ? static_cast<float>(static_cast<int8_t>(byte))
                                            : static_cast<float>(byte);
            ASSERT_EQ(got, oracle(c, q, x, w, bias, b, j))
                << what << isa << " threads " << threads << " at " << b << "," << j;
          }
      });
    }
  }
}

// The run positions put every output in its own lane: a permutation of 0..63.
TEST(ZeroSkipGemmInt8, PairPositionsArePermutation) {
  std::vector<int> seen(64, 0);
  for (int64_t j = 0; j < 64; ++j) ++seen.at(kernels::pair_position(j));
  for (int s : seen) EXPECT_EQ(s, 1);
}

bool has_int8_zero_skip_step(const Session& s) {
  for (size_t i = 0; i < s.num_steps(); ++i)
    if (s.step_name(i).ends_with("zero-skipping) [int8]")) return true;
  return false;
}

// A QDQ Conv + Relu + Flatten + int8 Gemm (float output): at batch <= 4 the Gemm takes the
// kernel; its result equals oneDNN's inner product on the same plan and stays within the
// quantization steps of the reference backend.
TEST(ZeroSkipGemmInt8, QGemmInAPlanMatchesOnednnAndReference) {
  const Model model = Model::from_bytes(qdq_conv_gemm_onnx(3), "qdq.onnx");
  for (int64_t batch : {1, 3}) {
    const auto x = random_input(batch * 3 * 10 * 12, static_cast<uint32_t>(batch));
    Session skip(model, {.backend = Backend::onednn, .batch = batch});
    Session dense(model, {.backend = Backend::onednn, .batch = batch, .skip_zero_inputs = false});
    EXPECT_EQ(has_int8_zero_skip_step(skip), batch == 1) << batch;  // 640 weights: batch 1 only
    EXPECT_FALSE(has_int8_zero_skip_step(dense));
    std::vector<float> ys(skip.outputs()[0].element_count()), yd(ys.size());
    skip.run(x, ys);
    dense.run(x, yd);
    EXPECT_LE(max_abs_diff(ys, yd), 1e-5f) << batch;
    EXPECT_LE(max_abs_diff(ys, run_model(model, Backend::reference, batch, x)), 0.1f) << batch;
  }
}

TEST(ZeroSkipGemmInt8, RunAllocatesNothing) {
  if (!kCountsAllocations) GTEST_SKIP() << "AddressSanitizer owns malloc: no counting";
  const int64_t n = 100, k = 3000;
  std::mt19937 rng(9);
  std::uniform_int_distribution<int> weight(-127, 127), input(0, 255);
  std::vector<float> w(n * k);
  for (float& v : w) v = static_cast<float>(weight(rng));
  const QuantizedGemmParams q{.x_scale = 0.01f, .x_zero = 0, .w_scale = {0.002f}, .y_scale = 0.3f};
  for (auto [batch, threads] : {std::pair<int64_t, int>{1, 1}, {4, 1}, {1, 2}, {3, 2}}) {
    const ZeroSkipGemmInt8 g =
        kernels::make_zero_skip_gemm_int8(w.data(), n, k, nullptr, q, batch, threads);
    std::vector<uint8_t> x(batch * k), y(batch * n);
    for (uint8_t& v : x) v = static_cast<uint8_t>(input(rng) < 120 ? 0 : input(rng));
    std::vector<float> workspace(g.workspace_floats);
    EXPECT_EQ(most_allocations_per_call([&] {
                kernels::run_zero_skip_gemm_int8(g, x.data(), y.data(), workspace.data());
              }),
              0)
        << "batch " << batch << " threads " << threads;
  }
}

}  // namespace
}  // namespace pitlane::runtime
