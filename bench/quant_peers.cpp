// quant_peers: pitlane's runtime vs ONNX Runtime on the same (quantized) ONNX files, in the same
// run: median latency of each, the ratio (pitlane / ORT; below 1 = pitlane faster) and the
// largest output difference on one input. Written for the models `pitlane optimize` produces.
//
//   build/bench/quant_peers --models pilotnet.onnx,pilotnet_int8.onnx,pilotnet_u8.onnx
//                           [--runs 300] [--warmup 30] [--rounds 5] [--threads 1] [--out DIR]
//
// Each round runs pitlane, then ORT (tools/interop/ort_run.js --bench, npm onnxruntime-node,
// graphOptimizationLevel all), so that a noisy machine hits both alike; the table shows the
// median of the round medians. ORT's figure includes the node binding's per-call cost (an async
// session.run(), about 30 to 40 us), as in runtime_peers. uint8-input models get random pixels,
// float ones seeded normals; --frame gives every model a real camera frame through its own
// preprocessing instead (the zero-skipping Gemm's speed depends on the ReLU zeros a frame makes).
#include <CLI/CLI.hpp>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>

#include "peers.h"
#include "pitlane/core/stats.h"
#include "pitlane/core/table.h"
#include "pitlane/runtime/benchmark.h"

#include <opencv2/imgcodecs.hpp>

#include "pitlane/brain/neural_brain.h"

namespace fs = std::filesystem;
using namespace pitlane;
using namespace pitlane::runtime;

int main(int argc, char** argv) {
  CLI::App app{"pitlane runtime vs ONNX Runtime on the same (quantized) ONNX models"};
  int runs = 300, warmup = 30, rounds = 5, threads = 1;
  std::string models_s, out_dir = "build/bench_quant", json_path, frame;
  app.add_option("--models", models_s, "comma-separated ONNX files")->required();
  app.add_option("--runs", runs, "timed runs per round");
  app.add_option("--warmup", warmup, "warm-up runs");
  app.add_option("--rounds", rounds, "rounds (median of round medians)");
  app.add_option("--threads", threads, "threads for both runtimes");
  app.add_option("--out", out_dir, "folder for inputs and outputs");
  app.add_option("--json", json_path, "also write the results as JSON");
  app.add_option("--frame", frame, "camera frame (PNG) as every model's input")
      ->check(CLI::ExistingFile);
  CLI11_PARSE(app, argc, argv);
  fs::create_directories(out_dir);

  Table table({"model", "input", "pitlane_us", "ort_us", "pitlane/ort", "max|d|"});
  nlohmann::json results = nlohmann::json::array();
  std::stringstream list(models_s);
  for (std::string path; std::getline(list, path, ',');) {
    const Model model = Model::load(path);
    const bool u8 = model.graph().values[model.graph().inputs[0]].dtype == DType::u8;
    Session session(model, {.backend = Backend::onednn, .threads = threads, .batch = 1});
    std::vector<float> x(session.inputs()[0].element_count());
    std::mt19937 rng(7);
    std::normal_distribution<float> normal(0.0f, 1.0f);
    std::uniform_int_distribution<int> pixel(0, 255);
    for (float& v : x) v = u8 ? static_cast<float>(pixel(rng)) : normal(rng);
    if (!frame.empty()) x = brain::NeuralBrain(path, {}).model_input(cv::imread(frame));
    std::vector<int64_t> shape = session.inputs()[0].shape;
    const fs::path input = fs::path(out_dir) / "x.npy";
    testing::write_npy_any(input, {shape, x, u8 ? "|u1" : "<f4"});
    std::vector<double> pl, ol;
    bench::PeerResult ort;
    for (int round = 0; round < rounds; ++round) {
      const BenchResult p =
          benchmark(model, {.backend = Backend::onednn, .threads = threads},
                    {.runs = runs, .warmup = warmup, .profile_runs = 0, .input = x});
      pl.push_back(p.median_us);
      ort = bench::run_ort(path, session.inputs()[0].name, input, session.outputs()[0].name,
                           fs::path(out_dir) / "ort_out", threads, runs, warmup);
      ol.push_back(ort.median_us);
    }
    std::vector<float> y(session.outputs()[0].element_count());
    session.run(x, y);
    float d = -1;
    if (ort.output.size() == y.size()) {
      d = 0;
      for (size_t i = 0; i < y.size(); ++i) d = std::max(d, std::abs(y[i] - ort.output[i]));
    }
    const double p = percentile(pl, 50), o = percentile(ol, 50);
    table.add({fs::path(path).filename().string(), u8 ? "uint8" : "float32", format_fixed(p, 1),
               o > 0 ? format_fixed(o, 1) : "-", o > 0 ? format_fixed(p / o, 2) : "-",
               d >= 0 ? format_fixed(d, 6) : "-"});
    results.push_back({{"model", path},
                       {"pitlane_median_us", p},
                       {"ort_median_us", o},
                       {"pitlane_rounds_us", pl},
                       {"ort_rounds_us", ol},
                       {"max_abs_diff", d},
                       {"threads", threads},
                       {"runs", runs},
                       {"rounds", rounds},
                       {"input", frame.empty() ? "seeded" : frame}});
  }
  std::cout << table.render();
  if (!json_path.empty()) std::ofstream(json_path) << results.dump(2) << "\n";
  return 0;
}
