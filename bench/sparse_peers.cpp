// sparse_peers: magnitude-pruned PilotNet on pitlane's runtime with the dense kernel forced
// (SparseGemmMode::never) and with the load-time choice (the sparse Gemm kernel where it pays),
// against ONNX Runtime on the same files, in the same run. Prints median and p90 latency, the
// speed-up of sparse over dense, pitlane / ONNX Runtime, the weight bytes each plan holds, which
// layers went sparse, and the largest output differences.
//
//   build/bench/sparse_peers [--zeros 0,50,80,90] [--models valid,same] [--batches 1,64]
//                            [--threads 1,2] [--runs 300] [--warmup 30] [--rounds 3]
//                            [--out build/bench_sparse] [--no-ort] [--json F]
//
// Models: the PilotNet graphs of the runtime tests (tests/runtime/onnx_builder.h, seeded random
// weights, opset 17), every Conv and Gemm weight pruned to the given fraction of zeros by
// magnitude (tests/runtime/pruning.h), written to --out. Each round runs dense, sparse and ONNX
// Runtime one after the other; the table shows the median of the round medians (and of the
// round p90s). Batch 64 uses runs/10 timed runs (at least 20).
#include <CLI/CLI.hpp>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "onnx_builder.h"
#include "peers.h"
#include "pitlane/core/stats.h"
#include "pitlane/core/table.h"
#include "pitlane/runtime/benchmark.h"
#include "pitlane/runtime/npy.h"
#include "pruning.h"

namespace fs = std::filesystem;
using namespace pitlane;
using namespace pitlane::runtime;

namespace {

// "fc1 (Gemm+relu, sparse 80%)" -> "fc1"; the layers a session runs sparse, comma-separated.
std::string sparse_layers(const Session& s) {
  std::string out;
  for (size_t i = 0; i < s.num_steps(); ++i) {
    const std::string& name = s.step_name(i);
    if (name.find(", sparse ") == std::string::npos) continue;
    out += (out.empty() ? "" : ",") + name.substr(0, name.find(' '));
  }
  return out.empty() ? "-" : out;
}

std::string mib(size_t bytes) {
  return format_fixed(bytes / 1048576.0, 1);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"pruned PilotNet: pitlane dense vs sparse kernels vs ONNX Runtime"};
  int runs = 300, warmup = 30, rounds = 3;
  std::string out_dir = "build/bench_sparse", zeros_s = "0,50,80,90", batches_s = "1,64",
              threads_s = "1,2", models_s = "valid,same", json_path;
  bool no_ort = false;
  app.add_option("--zeros", zeros_s, "comma-separated pruning levels, percent of zeros");
  app.add_option("--models", models_s, "valid,same");
  app.add_option("--batches", batches_s, "comma-separated batch sizes");
  app.add_option("--threads", threads_s, "comma-separated thread counts");
  app.add_option("--runs", runs, "timed runs per configuration");
  app.add_option("--warmup", warmup, "warm-up runs");
  app.add_option("--rounds", rounds, "rounds per configuration (median of round medians)");
  app.add_option("--out", out_dir, "folder for the model and input files");
  app.add_option("--json", json_path, "also write the results as JSON");
  app.add_flag("--no-ort", no_ort, "skip ONNX Runtime");
  CLI11_PARSE(app, argc, argv);
  fs::create_directories(out_dir);

  Table table({"model", "zeros", "batch", "threads", "dense_us", "sparse_us", "ort_us",
               "dense/sparse", "sparse/ort", "p90 dense", "p90 sparse", "p90 ort", "weights MiB",
               "sparse layers", "max|d| dense", "max|d| ort"});
  nlohmann::json results = nlohmann::json::array();
  for (const std::string model_name : {"valid", "same"}) {
    if (models_s.find(model_name) == std::string::npos) continue;
    const auto padding =
        model_name == "same" ? runtime::testing::Padding::same : runtime::testing::Padding::valid;
    const std::string dense_bytes =
        runtime::testing::pilotnet_onnx(padding, runtime::testing::Exporter::pitlane, 17, 1);
    for (int64_t zeros : bench::parse_list(zeros_s)) {
      const fs::path model_path =
          fs::path(out_dir) / ("pilotnet_" + model_name + "_z" + std::to_string(zeros) + ".onnx");
      std::ofstream(model_path, std::ios::binary)
          << (zeros > 0 ? runtime::testing::prune_weights(dense_bytes, zeros / 100.0)
                        : dense_bytes);
      const Model model = Model::load(model_path);
      for (int64_t batch : bench::parse_list(batches_s)) {
        const auto x = bench::seeded_input(batch * 3 * 66 * 200);
        const fs::path input_path = fs::path(out_dir) / ("x_b" + std::to_string(batch) + ".npy");
        write_npy(input_path, std::vector<int64_t>{batch, 3, 66, 200}, x);
        for (int64_t threads_l : bench::parse_list(threads_s)) {
          const int threads = static_cast<int>(threads_l);
          const int n = batch >= 64 ? std::max(20, runs / 10) : runs;
          const int w = batch >= 64 ? std::max(5, warmup / 5) : warmup;
          const SessionOptions dense_options{.backend = Backend::onednn,
                                             .threads = threads,
                                             .batch = batch,
                                             .sparse = SparseGemmMode::never};
          SessionOptions sparse_options = dense_options;
          sparse_options.sparse = SparseGemmMode::automatic;
          std::vector<double> dm, dp, sm, sp, om, op;
          bench::PeerResult ort;
          for (int round = 0; round < rounds; ++round) {
            const BenchOptions bo{.runs = n, .warmup = w, .profile_runs = 0};
            const BenchResult d = benchmark(model, dense_options, bo);
            const BenchResult s = benchmark(model, sparse_options, bo);
            dm.push_back(d.median_us), dp.push_back(d.p90_us);
            sm.push_back(s.median_us), sp.push_back(s.p90_us);
            if (!no_ort) {
              ort = bench::run_ort(model_path, "image", input_path, "vw",
                                   fs::path(out_dir) / "ort_out", threads, n, w);
              om.push_back(ort.median_us), op.push_back(ort.p90_us);
            }
          }
          Session dense(model, dense_options), sparse(model, sparse_options);
          std::vector<float> yd(dense.outputs()[0].element_count()), ys(yd.size());
          dense.run(x, yd);
          sparse.run(x, ys);
          const double d50 = percentile(dm, 50), s50 = percentile(sm, 50);
          const double o50 = no_ort ? -1 : percentile(om, 50);
          auto us = [](double v) { return v > 0 ? format_fixed(v, 1) : std::string("-"); };
          const float d_dense = bench::max_diff(ys, yd), d_ort = bench::max_diff(ys, ort.output);
          table.add({model_name, std::to_string(zeros) + "%", std::to_string(batch),
                     std::to_string(threads), us(d50), us(s50), us(o50), format_fixed(d50 / s50, 2),
                     o50 > 0 ? format_fixed(s50 / o50, 2) : "-", us(percentile(dp, 50)),
                     us(percentile(sp, 50)), us(no_ort ? -1 : percentile(op, 50)),
                     mib(dense.constant_bytes()) + " -> " + mib(sparse.constant_bytes()),
                     sparse_layers(sparse), format_fixed(d_dense * 1e6, 2) + "e-6",
                     d_ort >= 0 ? format_fixed(d_ort * 1e6, 2) + "e-6" : "-"});
          results.push_back({{"model", model_name},
                             {"zeros_percent", zeros},
                             {"batch", batch},
                             {"threads", threads},
                             {"runs", n},
                             {"rounds", rounds},
                             {"dense_median_us", d50},
                             {"sparse_median_us", s50},
                             {"ort_median_us", o50},
                             {"dense_round_medians_us", dm},
                             {"sparse_round_medians_us", sm},
                             {"ort_round_medians_us", om},
                             {"dense_weight_bytes", dense.constant_bytes()},
                             {"sparse_weight_bytes", sparse.constant_bytes()},
                             {"sparse_layers", sparse_layers(sparse)}});
          std::cerr << model_name << " zeros " << zeros << "% batch " << batch << " threads "
                    << threads << " done\n";
        }
      }
    }
  }
  std::cout << table.render_markdown();
  if (!json_path.empty()) std::ofstream(json_path) << results.dump(2) << "\n";
  return 0;
}
