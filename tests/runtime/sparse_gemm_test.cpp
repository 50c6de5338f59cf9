// The sparse fp32 Gemm kernel (kernels/sparse_gemm/f32.h): agreement with the
// reference backend on random sparse matrices of awkward sizes (fan-in not a multiple of 16,
// empty rows, fully dense rows, chunk boundaries, batch 1 to 70, 1 and 2 threads), the AVX-512
// and portable kernels against each other, a magnitude-pruned PilotNet, the load-time choice
// between sparse and dense, and no allocation per inference.
#include <gtest/gtest.h>

#include "alloc_hooks.h"
#include "onnx_builder.h"
#include "pitlane/runtime/kernels/sparse_gemm/f32.h"
#include "pitlane/runtime/kernels/sparse_gemm/microkernels.h"
#include "pruning.h"
#include "test_util.h"

namespace pitlane::runtime {
namespace {

using namespace testing;

// W [n,k] with about `zeros` of its entries exactly 0; row 0 is empty and row n-1 fully dense.
std::vector<float> sparse_weight(int64_t n, int64_t k, double zeros, uint32_t seed) {
  std::mt19937 rng(seed);
  std::bernoulli_distribution is_zero(zeros);
  auto w = random_values(n * k, rng);
  for (int64_t r = 0; r < n; ++r)
    for (int64_t c = 0; c < k; ++c) {
      const bool zero = n > 1 && (r == 0 || (r != n - 1 && is_zero(rng)));
      if (zero) w[r * k + c] = 0.0f;
    }
  return w;
}

// x [N,k] -> Gemm (transB = 1, bias) -> activation -> y [N,n].
std::string gemm_onnx(int64_t n, int64_t k, const std::vector<float>& w,
                      const std::string& activation = "Relu") {
  std::mt19937 rng(7);
  OnnxBuilder b(17);
  b.input("x", {-1, k});
  b.init("w", {n, k}, w);
  b.init("b", {n}, random_values(n, rng, 0.5f));
  b.node("Gemm", {"x", "w", "b"}, {activation.empty() ? "y" : "g"}, {attr_int("transB", 1)});
  if (!activation.empty()) b.node(activation, {"g"}, {"y"});
  b.output("y");
  return b.bytes();
}

// |a - b| <= 1e-4 * max(1, |b|) everywhere.
void expect_close(std::span<const float> got, std::span<const float> want,
                  const std::string& what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  for (size_t i = 0; i < got.size(); ++i)
    ASSERT_LE(std::abs(got[i] - want[i]), 1e-4f * std::max(1.0f, std::abs(want[i])))
        << what << " at " << i << ": " << got[i] << " vs " << want[i];
}

std::vector<std::string> step_names(const Session& s) {
  std::vector<std::string> names;
  for (size_t i = 0; i < s.num_steps(); ++i) names.push_back(s.step_name(i));
  return names;
}

bool has_sparse_step(const Session& s) {
  for (const auto& name : step_names(s))
    if (name.find("sparse") != std::string::npos) return true;
  return false;
}

TEST(SparseGemm, MatchesReferenceOnAwkwardShapes) {
  struct Case {
    int64_t n, k;
    double zeros;
  };
  const Case cases[] = {{1, 1, 0.0},     {7, 15, 0.5},   {33, 37, 0.8},    {5, 100, 0.9},
                        {33, 1163, 0.8}, {9, 2100, 0.7}, {16, 4097, 0.95}, {3, 64, 0.0}};
  for (const auto& [n, k, zeros] : cases) {
    const Model model = Model::from_bytes(gemm_onnx(n, k, sparse_weight(n, k, zeros, 3)), "g.onnx");
    for (int64_t batch : {1, 2, 3, 4, 5, 17, 64, 70}) {
      const auto x = random_input(batch * k, static_cast<uint32_t>(batch));
      const auto want = run_model(model, Backend::reference, batch, x);
      for (int threads : {1, 2}) {
        Session s(model, {.backend = Backend::onednn,
                          .threads = threads,
                          .batch = batch,
                          .sparse = SparseGemmMode::always});
        ASSERT_TRUE(has_sparse_step(s));
        std::vector<float> y(s.outputs()[0].element_count());
        s.run(x, y);
        expect_close(y, want,
                     "n " + std::to_string(n) + " k " + std::to_string(k) + " batch " +
                         std::to_string(batch) + " threads " + std::to_string(threads));
      }
    }
  }
}

TEST(SparseGemm, ActivationsOtherThanRelu) {
  const int64_t n = 20, k = 50;
  for (const std::string act : {"", "Sigmoid", "Tanh", "Elu"}) {
    const Model model =
        Model::from_bytes(gemm_onnx(n, k, sparse_weight(n, k, 0.6, 4), act), "g.onnx");
    for (int64_t batch : {1, 9}) {
      const auto x = random_input(batch * k, 5);
      Session s(model,
                {.backend = Backend::onednn, .batch = batch, .sparse = SparseGemmMode::always});
      ASSERT_TRUE(has_sparse_step(s));
      std::vector<float> y(s.outputs()[0].element_count());
      s.run(x, y);
      expect_close(y, run_model(model, Backend::reference, batch, x), act);
    }
  }
}

// Both instruction sets compute the same sums (the portable one runs on every CPU).
TEST(SparseGemm, PortableAndAvx512KernelsAgree) {
  const int64_t n = 19, k = 1163;
  const auto w = sparse_weight(n, k, 0.8, 6);
  for (int64_t m : {1, 3, 4, 5, 33, 64}) {
    const auto x = random_input(m * k, 8);
    std::vector<float> bias(n, 0.25f), naive(m * n);
    for (int64_t b = 0; b < m; ++b)
      for (int64_t r = 0; r < n; ++r) {
        double sum = bias[r];
        for (int64_t c = 0; c < k; ++c) sum += static_cast<double>(w[r * k + c]) * x[b * k + c];
        naive[b * n + r] = static_cast<float>(sum);
      }
    kernels::SparseGemm g = kernels::make_sparse_gemm(w.data(), n, k, bias.data(), {}, m, 1);
    EXPECT_NEAR(g.zero_fraction(), 0.8, 0.05);
    EXPECT_EQ(g.avx512, kernels::sparse_gemm_avx512_runs(cpu_features()));
    std::vector<float> workspace(g.workspace_floats), y(m * n);
    for_each_instruction_set(g, [&](const std::string& isa) {
      std::fill(y.begin(), y.end(), NAN);
      kernels::run_sparse_gemm(g, x.data(), y.data(), workspace.data());
      expect_close(y, naive, isa + " batch " + std::to_string(m));
    });
  }
}

TEST(SparseGemm, PrunedPilotNetMatchesReference) {
  for (Padding padding : {Padding::same, Padding::valid}) {
    const Model model = Model::from_bytes(
        prune_weights(pilotnet_onnx(padding, Exporter::pitlane, 17, 1), 0.8), "pruned.onnx");
    for (int64_t batch : {1, 3}) {
      const auto x = random_input(batch * 3 * 66 * 200, 11);
      const auto want = run_model(model, Backend::reference, batch, x);
      for (int threads : {1, 2}) {
        Session s(model, {.backend = Backend::onednn, .threads = threads, .batch = batch});
        EXPECT_TRUE(has_sparse_step(s));
        std::vector<float> y(s.outputs()[0].element_count());
        s.run(x, y);
        expect_close(y, want, "batch " + std::to_string(batch));
      }
    }
  }
}

TEST(SparseGemm, LoadTimeChoice) {
  const std::string dense = pilotnet_onnx(Padding::same, Exporter::pitlane, 17, 1);
  const Model dense_model = Model::from_bytes(dense, "dense.onnx");
  const Model pruned = Model::from_bytes(prune_weights(dense, 0.8), "pruned.onnx");
  for (int64_t batch : {1, 64}) {
    // Dense weights stay on oneDNN's primitive.
    EXPECT_FALSE(
        has_sparse_step(Session(dense_model, {.backend = Backend::onednn, .batch = batch})));
    // Batch 1: every pruned layer takes the zero-skipping kernel's compressed runs. Batch 64: the
    // large 80%-sparse layer goes to the sparse kernel, the small ones (in cache) stay dense.
    const Session s(pruned, {.backend = Backend::onednn, .batch = batch});
    const auto names = step_names(s);
    const std::string fc1 =
        batch == 1 ? "fc1 (Gemm+relu, sparse 80%, zero-skipping)" : "fc1 (Gemm+relu, sparse 80%)";
    EXPECT_NE(std::find(names.begin(), names.end(), fc1), names.end()) << "batch " << batch;
    for (const auto& name : names) {
      if (name.starts_with("fc3") || name.starts_with("fc4") || name.starts_with("fc5")) {
        EXPECT_EQ(name.find("sparse") != std::string::npos, batch == 1) << name;
      }
    }
    // The plan holds the pruned weight in far fewer bytes.
    const Session d(dense_model, {.backend = Backend::onednn, .batch = batch});
    EXPECT_LT(s.constant_bytes(), d.constant_bytes() / 3);
    // Forced dense.
    EXPECT_FALSE(has_sparse_step(Session(
        pruned, {.backend = Backend::onednn, .batch = batch, .sparse = SparseGemmMode::never})));
  }
}

TEST(SparseGemm, RunAllocatesNothing) {
  if (!kCountsAllocations) GTEST_SKIP() << "AddressSanitizer owns malloc: no counting";
  const int64_t n = 40, k = 1000;
  const Model model = Model::from_bytes(gemm_onnx(n, k, sparse_weight(n, k, 0.8, 9)), "g.onnx");
  for (auto [batch, threads] : {std::pair<int64_t, int>{1, 1}, {64, 1}, {3, 2}, {64, 2}}) {
    Session s(model, {.backend = Backend::onednn,
                      .threads = threads,
                      .batch = batch,
                      .sparse = SparseGemmMode::always});
    const auto x = random_input(batch * k, 1);
    std::vector<float> y(s.outputs()[0].element_count());
    EXPECT_EQ(most_allocations_per_call([&] { s.run(x, y); }), 0)
        << "batch " << batch << " threads " << threads;
  }
}

}  // namespace
}  // namespace pitlane::runtime
