// zero_skip_bench: the zero-skipping Gemm (runtime/kernels/zero_skip_gemm/f32.h) against oneDNN's
// dense inner product on PilotNet's first dense layers (same padding 14400 -> 1164, valid
// 1152 -> 1164, then 1164 -> 100), with inputs whose zero fraction is set: median latency of
// each, the ratio, and the largest output difference. No zeros is the kernel's worst case.
//
//   build/bench/zero_skip_bench [--zeros 0,25,45,70,90] [--batches 1,4] [--threads 1]
//                               [--runs 300] [--rounds 3] [--json F]
//
// Each round runs dense, then zero-skipping, so that a noisy machine hits both alike; the table
// shows the median of the round medians. Zeros are placed at random (seeded), as a ReLU's are.
#include <CLI/CLI.hpp>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <random>

#include "onnx_builder.h"
#include "peers.h"
#include "pitlane/core/stats.h"
#include "pitlane/core/table.h"
#include "pitlane/runtime/benchmark.h"

using namespace pitlane;
using namespace pitlane::runtime;

namespace {

// x [N,k] -> Gemm (transB = 1, bias) -> Relu -> y [N,n], seeded weights.
std::string dense_layer(int64_t n, int64_t k) {
  std::mt19937 rng(11);
  testing::OnnxBuilder b(17);
  b.input("x", {-1, k});
  b.init("w", {n, k}, testing::random_values(n * k, rng, 0.05f));
  b.init("b", {n}, testing::random_values(n, rng, 0.1f));
  b.node("Gemm", {"x", "w", "b"}, {"g"}, {testing::attr_int("transB", 1)});
  b.node("Relu", {"g"}, {"y"});
  b.output("y");
  return b.bytes();
}

// One sample of k inputs with about `zeros` of them exactly zero, the rest |normal| (ReLU-like).
std::vector<float> input_with_zeros(int64_t k, double zeros, uint32_t seed) {
  std::mt19937 rng(seed);
  std::bernoulli_distribution is_zero(zeros);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> x(k);
  for (float& v : x) v = is_zero(rng) ? 0.0f : std::abs(normal(rng));
  return x;
}

std::vector<float> run_once(const Model& model, const SessionOptions& options,
                            const std::vector<float>& sample) {
  Session s(model, options);
  std::vector<float> x;
  for (int64_t b = 0; b < options.batch; ++b) x.insert(x.end(), sample.begin(), sample.end());
  std::vector<float> y(s.outputs()[0].element_count());
  s.run(x, y);
  return y;
}

int run(int argc, char** argv) {
  CLI::App app{"zero-skipping Gemm vs oneDNN's dense inner product on PilotNet's dense layers"};
  int runs = 300, warmup = 30, rounds = 3;
  std::string zeros_s = "0,25,45,70,90", batches_s = "1,4", threads_s = "1", json_path;
  app.add_option("--zeros", zeros_s, "comma-separated zero fractions of the input, percent");
  app.add_option("--batches", batches_s, "comma-separated batch sizes (1 to 4)");
  app.add_option("--threads", threads_s, "comma-separated thread counts");
  app.add_option("--runs", runs, "timed runs per round");
  app.add_option("--warmup", warmup, "warm-up runs");
  app.add_option("--rounds", rounds, "rounds (median of round medians)");
  app.add_option("--json", json_path, "also write the results as JSON");
  CLI11_PARSE(app, argc, argv);

  struct Layer {
    std::string name;
    int64_t n, k;
  };
  const Layer layers[] = {{"same fc1 14400x1164", 1164, 14400},
                          {"valid fc1 1152x1164", 1164, 1152},
                          {"fc2 1164x100", 100, 1164}};
  Table table(
      {"layer", "zeros_%", "batch", "threads", "dense_us", "skip_us", "skip/dense", "max|d|"});
  nlohmann::json results = nlohmann::json::array();
  for (const Layer& layer : layers) {
    const Model model = Model::from_bytes(dense_layer(layer.n, layer.k), layer.name);
    for (int64_t zeros : bench::parse_list(zeros_s))
      for (int64_t batch : bench::parse_list(batches_s))
        for (int64_t threads : bench::parse_list(threads_s)) {
          const auto x = input_with_zeros(layer.k, zeros / 100.0, static_cast<uint32_t>(zeros));
          const SessionOptions dense{.backend = Backend::onednn,
                                     .threads = static_cast<int>(threads),
                                     .batch = batch,
                                     .skip_zero_inputs = false};
          SessionOptions skip = dense;
          skip.skip_zero_inputs = true;
          const BenchOptions bo{.runs = runs, .warmup = warmup, .profile_runs = 0, .input = x};
          std::vector<double> dense_us, skip_us;
          for (int r = 0; r < rounds; ++r) {
            dense_us.push_back(benchmark(model, dense, bo).median_us);
            skip_us.push_back(benchmark(model, skip, bo).median_us);
          }
          const auto yd = run_once(model, dense, x), ys = run_once(model, skip, x);
          float d = 0.0f;
          for (size_t i = 0; i < yd.size(); ++i) d = std::max(d, std::abs(yd[i] - ys[i]));
          const double dm = percentile(dense_us, 50), sm = percentile(skip_us, 50);
          table.add({layer.name, std::to_string(zeros), std::to_string(batch),
                     std::to_string(threads), format_fixed(dm, 1), format_fixed(sm, 1),
                     format_fixed(sm / dm, 2), format_fixed(d, 6)});
          results.push_back({{"layer", layer.name},
                             {"zeros_percent", zeros},
                             {"batch", batch},
                             {"threads", threads},
                             {"dense_median_us", dm},
                             {"skip_median_us", sm},
                             {"dense_rounds_us", dense_us},
                             {"skip_rounds_us", skip_us},
                             {"max_abs_diff", d}});
        }
  }
  std::cout << table.render();
  if (!json_path.empty()) std::ofstream(json_path) << results.dump(2) << "\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "zero_skip_bench: error: " << e.what() << "\n";
    return 2;
  }
}
