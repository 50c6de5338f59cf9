// The zero-skipping fp32 Gemm (kernels/zero_skip_gemm/f32.h): the kernel against
// a double-precision sum on awkward shapes (outputs not a multiple of 16 or 64, batch 1 to 4,
// no zeros, half zeros, only zeros, -0, NaN; pruned weights as dense and as compressed runs),
// the AVX-512 and portable kernels, 1 and 2 threads;
// in a plan: where it is chosen, agreement with the reference backend behind a ReLU and on
// PilotNet valid and same, and no allocation per inference.
#include <gtest/gtest.h>

#include <cstring>

#include "alloc_hooks.h"
#include "onnx_builder.h"
#include "pitlane/runtime/kernels/zero_skip_gemm/f32.h"
#include "pitlane/runtime/kernels/zero_skip_gemm/microkernels.h"
#include "test_util.h"

namespace pitlane::runtime {
namespace {

using namespace testing;

// x [m,k] with about `zeros` of its entries exactly zero (half of them -0).
std::vector<float> sparse_input(int64_t m, int64_t k, double zeros, uint32_t seed) {
  std::mt19937 rng(seed);
  std::bernoulli_distribution is_zero(zeros), negative(0.5);
  auto x = random_input(m * k, seed);
  for (float& v : x)
    if (is_zero(rng)) v = negative(rng) ? -0.0f : 0.0f;
  return x;
}

// act(x W^T + bias) summed in double: the oracle.
std::vector<float> oracle(const std::vector<float>& x, const std::vector<float>& w,
                          const std::vector<float>& bias, int64_t m, int64_t n, int64_t k,
                          bool relu) {
  std::vector<float> y(m * n);
  for (int64_t b = 0; b < m; ++b)
    for (int64_t r = 0; r < n; ++r) {
      double sum = bias[r];
      for (int64_t c = 0; c < k; ++c) sum += static_cast<double>(w[r * k + c]) * x[b * k + c];
      y[b * n + r] = relu ? std::max(0.0f, static_cast<float>(sum)) : static_cast<float>(sum);
    }
  return y;
}

// |a - b| <= 1e-4 * max(1, |b|) everywhere; NaN where the oracle has NaN.
void expect_close(std::span<const float> got, std::span<const float> want,
                  const std::string& what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  for (size_t i = 0; i < got.size(); ++i) {
    if (std::isnan(want[i])) {
      ASSERT_TRUE(std::isnan(got[i])) << what << " at " << i;
      continue;
    }
    ASSERT_LE(std::abs(got[i] - want[i]), 1e-4f * std::max(1.0f, std::abs(want[i])))
        << what << " at " << i << ": " << got[i] << " vs " << want[i];
  }
}

// Runs the kernel with each instruction set the CPU has and each thread count.
void expect_kernel_matches(const std::vector<float>& x, const std::vector<float>& w, int64_t m,
                           int64_t n, int64_t k, const std::string& what) {
  const auto bias = random_input(n, static_cast<uint32_t>(k));
  const auto want = oracle(x, w, bias, m, n, k, /*relu=*/true);
  using kernels::ZeroSkipWeights;
  for (auto [threads, format] :
       {std::pair{1, ZeroSkipWeights::dense}, std::pair{2, ZeroSkipWeights::dense},
        std::pair{1, ZeroSkipWeights::sparse}, std::pair{2, ZeroSkipWeights::sparse}}) {
    kernels::ZeroSkipGemm g = kernels::make_zero_skip_gemm(
        w.data(), n, k, bias.data(), {.kind = Activation::relu}, m, threads, format);
    EXPECT_EQ(g.avx512, kernels::zero_skip_f32_avx512_runs(cpu_features()));
    std::vector<float> workspace(g.workspace_floats), y(m * n);
    for_each_instruction_set(g, [&](const std::string& isa) {
      std::fill(y.begin(), y.end(), NAN);
      kernels::run_zero_skip_gemm(g, x.data(), y.data(), workspace.data());
      expect_close(y, want,
                   what + isa + " threads " + std::to_string(threads) +
                       (format == ZeroSkipWeights::sparse ? " compressed runs" : ""));
    });
  }
}

TEST(ZeroSkipGemm, MatchesDoubleSumOnAwkwardShapes) {
  const std::pair<int64_t, int64_t> shapes[] = {{1, 1},      {15, 37},   {17, 100}, {64, 33},
                                                {100, 1000}, {130, 257}, {200, 64}};
  for (const auto& [n, k] : shapes) {
    // About 60% of the weights pruned, and a third of the first panel's runs empty.
    auto w = random_input(n * k, static_cast<uint32_t>(n + k));
    std::mt19937 rng(static_cast<uint32_t>(n));
    std::bernoulli_distribution pruned(0.6);
    for (int64_t i = 0; i < n * k; ++i)
      if (pruned(rng) || (i / k < 64 && i % k < k / 3)) w[i] = 0.0f;
    for (int64_t m = 1; m <= kernels::kZeroSkipMaxBatch; ++m)
      for (double zeros : {0.0, 0.5, 1.0}) {
        const auto x = sparse_input(m, k, zeros, static_cast<uint32_t>(m + 10 * zeros));
        expect_kernel_matches(x, w, m, n, k,
                              "n " + std::to_string(n) + " k " + std::to_string(k) + " m " +
                                  std::to_string(m) + " zeros " + std::to_string(zeros));
      }
  }
}

// bf16 runs: the weights rounded to nearest even bf16, inputs and sums fp32. The oracle rounds the
// weights itself (by the float's bits: keep the top 16, rounding the rest half to even).
TEST(ZeroSkipGemm, Bf16RunsMatchASumOverRoundedWeights) {
  auto to_bf16 = [](float v) {
    uint32_t bits;
    std::memcpy(&bits, &v, 4);
    const uint32_t rest = bits & 0xffffu, keep = bits & 0xffff0000u;
    const bool up = rest > 0x8000u || (rest == 0x8000u && (keep & 0x10000u));
    const uint32_t rounded = keep + (up ? 0x10000u : 0u);
    float r;
    std::memcpy(&r, &rounded, 4);
    return r;
  };
  for (auto [m, n, k] :
       {std::tuple<int64_t, int64_t, int64_t>{1, 17, 100}, {3, 130, 257}, {4, 64, 1000}}) {
    const auto w = random_input(n * k, static_cast<uint32_t>(n));
    std::vector<float> rounded(w.size());
    for (size_t i = 0; i < w.size(); ++i) rounded[i] = to_bf16(w[i]);
    const auto bias = random_input(n, 5);
    const auto x = sparse_input(m, k, 0.5, 6);
    const auto want = oracle(x, rounded, bias, m, n, k, /*relu=*/false);
    kernels::ZeroSkipGemm g = kernels::make_zero_skip_gemm(w.data(), n, k, bias.data(), {}, m, 1,
                                                           kernels::ZeroSkipWeights::bf16);
    std::vector<float> workspace(g.workspace_floats), y(m * n);
    for_each_instruction_set(g, [&](const std::string& isa) {
      std::fill(y.begin(), y.end(), NAN);
      kernels::run_zero_skip_gemm(g, x.data(), y.data(), workspace.data());
      expect_close(y, want, "bf16" + isa + " n " + std::to_string(n));
    });
  }
}

// A column is skipped only when every batch row is zero there, and NaN is not zero.
TEST(ZeroSkipGemm, SkipsOnlyColumnsZeroInEveryRowAndKeepsNaN) {
  const int64_t m = 3, n = 70, k = 50;
  const auto w = random_input(n * k, 2);
  std::vector<float> x(m * k, 0.0f);
  x[0 * k + 5] = 2.0f;    // only row 0 has column 5
  x[2 * k + 49] = -1.0f;  // only row 2 has the last column
  x[1 * k + 20] = NAN;    // row 1 becomes NaN, rows 0 and 2 do not (0 * w is 0 for finite w)
  expect_kernel_matches(x, w, m, n, k, "mixed rows");
}

// x [N,k] -> Relu -> Gemm (transB = 1, bias) -> Relu -> y [N,n]: the Gemm sees ReLU zeros.
// relu_input false: no leading Relu (a oneDNN primitive, which allocates per call in 2.6).
std::string relu_gemm_onnx(int64_t n, int64_t k, bool relu_input = true) {
  std::mt19937 rng(7);
  OnnxBuilder b(17);
  b.input("x", {-1, k});
  b.node(relu_input ? "Relu" : "Identity", {"x"}, {"h"});
  b.init("w", {n, k}, random_values(n * k, rng));
  b.init("b", {n}, random_values(n, rng, 0.5f));
  b.node("Gemm", {"h", "w", "b"}, {"g"}, {attr_int("transB", 1)});
  b.node("Relu", {"g"}, {"y"});
  b.output("y");
  return b.bytes();
}

bool has_zero_skip_step(const Session& s) {
  for (size_t i = 0; i < s.num_steps(); ++i)
    if (s.step_name(i).find("zero-skipping") != std::string::npos) return true;
  return false;
}

TEST(ZeroSkipGemm, ChosenForLargeGemmsAtSmallBatchesAndMatchesReference) {
  const int64_t n = 300, k = 1000;  // 300K weights: beyond L2
  const Model model = Model::from_bytes(relu_gemm_onnx(n, k), "g.onnx");
  for (int64_t batch : {1, 2, 4, 5, 64}) {
    const auto x = random_input(batch * k, static_cast<uint32_t>(batch));
    const auto want = run_model(model, Backend::reference, batch, x);
    for (int threads : {1, 2}) {
      Session s(model, {.backend = Backend::onednn, .threads = threads, .batch = batch});
      EXPECT_EQ(has_zero_skip_step(s), batch <= kernels::kZeroSkipMaxBatch) << batch;
      std::vector<float> y(s.outputs()[0].element_count());
      s.run(x, y);
      expect_close(y, want, "batch " + std::to_string(batch));
    }
  }
  // Off on request. A Gemm whose weights stay in L2 takes it at batch 1 only.
  EXPECT_FALSE(
      has_zero_skip_step(Session(model, {.backend = Backend::onednn, .skip_zero_inputs = false})));
  const Model small = Model::from_bytes(relu_gemm_onnx(20, 50), "small.onnx");
  EXPECT_TRUE(has_zero_skip_step(Session(small, {.backend = Backend::onednn})));
  EXPECT_FALSE(has_zero_skip_step(Session(small, {.backend = Backend::onednn, .batch = 2})));
}

TEST(ZeroSkipGemm, PilotNetMatchesReference) {
  for (Padding padding : {Padding::valid, Padding::same}) {
    const Model model =
        Model::from_bytes(pilotnet_onnx(padding, Exporter::pitlane, 17, 3), "pilotnet.onnx");
    const auto x = random_input(3 * 66 * 200, 4);
    Session s(model, {.backend = Backend::onednn});
    ASSERT_TRUE(has_zero_skip_step(s));
    std::vector<float> y(s.outputs()[0].element_count());
    s.run(x, y);
    expect_close(y, run_model(model, Backend::reference, 1, x), "pilotnet");
  }
}

TEST(ZeroSkipGemm, RunAllocatesNothing) {
  if (!kCountsAllocations) GTEST_SKIP() << "AddressSanitizer owns malloc: no counting";
  const Model model = Model::from_bytes(relu_gemm_onnx(300, 1000, false), "g.onnx");
  for (auto [batch, threads] : {std::pair<int64_t, int>{1, 1}, {4, 1}, {1, 2}, {3, 2}}) {
    Session s(model, {.backend = Backend::onednn, .threads = threads, .batch = batch});
    ASSERT_TRUE(has_zero_skip_step(s));
    const auto x = sparse_input(batch, 1000, 0.5, 1);
    std::vector<float> y(s.outputs()[0].element_count());
    EXPECT_EQ(most_allocations_per_call([&] { s.run(x, y); }), 0)
        << "batch " << batch << " threads " << threads;
  }
}

}  // namespace
}  // namespace pitlane::runtime
