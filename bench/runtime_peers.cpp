// runtime_peers: pitlane's runtime vs ONNX Runtime vs libtorch on the same PilotNet models, in
// the same run: batch 1 and 64, 1 and 2 threads, valid and same padding; prints medians and the
// ratios (pitlane / peer; below 1 = pitlane faster), checks that the outputs agree.
//
//   build/bench/runtime_peers [--runs 300] [--warmup 30] [--rounds 3] [--out build/bench_models]
//                             [--batches 1,64] [--threads 1,2] [--models valid,same] [--no-torch]
//
// Each configuration runs `rounds` times, the three runtimes one after the other in each round
// (so that a noisy machine hits them alike); the table shows the median of the round medians.
//
// ONNX Runtime runs in node (tools/interop/ort_run.js, npm onnxruntime-node 1.30): its figures
// include the JavaScript binding's per-call overhead (an async session.run() from node), which is
// reported as measured, not subtracted; the program measures that overhead on a one-value
// Identity model and prints it beside the table. libtorch 1.13 runs the same weights as torch::nn
// ops.
#include <torch/torch.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "onnx_builder.h"
#include "peers.h"
#include "pitlane/core/stats.h"
#include "pitlane/core/table.h"
#include "pitlane/runtime/benchmark.h"
#include "pitlane/runtime/npy.h"

namespace fs = std::filesystem;
using namespace pitlane;
using namespace pitlane::runtime;
using pitlane::bench::max_diff;
using pitlane::bench::parse_list;
using pitlane::bench::PeerResult;
using pitlane::bench::seeded_input;

namespace {

const Value& weight(const Graph& g, const std::string& name) {
  for (const Value& v : g.values)
    if (v.name == name) return v;
  throw std::runtime_error("no initializer " + name);
}

torch::Tensor tensor_of(const Value& v) {
  return torch::from_blob(const_cast<float*>(v.f32.data()),
                          std::vector<int64_t>(v.shape.begin(), v.shape.end()), torch::kFloat32)
      .clone();
}

// PilotNet in libtorch with the ONNX file's weights (as written by pilotnet_onnx, pitlane style).
struct TorchPilotNet {
  torch::Tensor bn_scale, bn_bias, bn_mean, bn_var;
  std::vector<torch::Tensor> cw, cb, fw, fb;
  std::vector<std::array<int64_t, 4>> pads;  // top, left, bottom, right
  std::vector<int64_t> strides = {2, 2, 2, 1, 1};

  TorchPilotNet(const Graph& g, bool same) {
    bn_scale = tensor_of(weight(g, "bn.scale"));
    bn_bias = tensor_of(weight(g, "bn.bias"));
    bn_mean = tensor_of(weight(g, "bn.mean"));
    bn_var = tensor_of(weight(g, "bn.var"));
    int64_t h = 66, w = 200;
    for (int i = 1; i <= 5; ++i) {
      cw.push_back(tensor_of(weight(g, "conv" + std::to_string(i) + ".weight")));
      cb.push_back(tensor_of(weight(g, "conv" + std::to_string(i) + ".bias")));
      const int64_t k = cw.back().size(2), s = strides[i - 1];
      if (same) {
        const auto [pt, pb] = testing::same_pads(h, k, s);
        const auto [pl, pr] = testing::same_pads(w, k, s);
        pads.push_back({pt, pl, pb, pr});
        h = (h + s - 1) / s;
        w = (w + s - 1) / s;
      } else {
        pads.push_back({0, 0, 0, 0});
      }
    }
    for (int i = 1; i <= 5; ++i) {
      fw.push_back(tensor_of(weight(g, "fc" + std::to_string(i) + ".weight")));
      fb.push_back(tensor_of(weight(g, "fc" + std::to_string(i) + ".bias")));
    }
  }

  torch::Tensor forward(const torch::Tensor& image) const {
    namespace F = torch::nn::functional;
    auto x = torch::batch_norm(image, bn_scale, bn_bias, bn_mean, bn_var, false, 0.0, 1e-3, false);
    for (size_t i = 0; i < 5; ++i) {
      const auto& p = pads[i];
      if (p[0] || p[1] || p[2] || p[3]) x = F::pad(x, F::PadFuncOptions({p[1], p[3], p[0], p[2]}));
      x = torch::relu(torch::conv2d(x, cw[i], cb[i], strides[i]));
    }
    x = x.flatten(1);
    for (size_t i = 0; i < 5; ++i) {
      x = torch::linear(x, fw[i], fb[i]);
      if (i < 4) x = torch::relu(x);
    }
    return x;
  }
};

PeerResult run_torch(const TorchPilotNet& net, const std::vector<float>& x, int64_t batch,
                     int threads, int runs, int warmup) {
  torch::NoGradGuard no_grad;
  at::set_num_threads(threads);
  auto input = torch::from_blob(const_cast<float*>(x.data()), {batch, 3, 66, 200}, torch::kFloat32);
  PeerResult r;
  torch::Tensor y;
  for (int i = 0; i < warmup; ++i) y = net.forward(input);
  std::vector<double> lat;
  for (int i = 0; i < runs; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    y = net.forward(input);
    lat.push_back(
        std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count());
  }
  r.median_us = percentile(lat, 50);
  y = y.contiguous();
  r.output.assign(y.data_ptr<float>(), y.data_ptr<float>() + y.numel());
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"pitlane runtime vs ONNX Runtime vs libtorch on PilotNet (same run, same weights)"};
  int runs = 300, warmup = 30, rounds = 3;
  std::string out_dir = "build/bench_models", batches_s = "1,64", threads_s = "1,2",
              models_s = "valid,same", json_path;
  bool no_torch = false, no_ort = false;
  app.add_option("--runs", runs, "timed runs per configuration");
  app.add_option("--warmup", warmup, "warm-up runs");
  app.add_option("--rounds", rounds, "rounds per configuration (median of round medians)");
  app.add_option("--out", out_dir, "folder for the model and input files");
  app.add_option("--batches", batches_s, "comma-separated batch sizes");
  app.add_option("--threads", threads_s, "comma-separated thread counts");
  app.add_option("--models", models_s, "valid,same");
  app.add_option("--json", json_path, "also write the results as JSON");
  app.add_flag("--no-torch", no_torch, "skip libtorch");
  app.add_flag("--no-ort", no_ort, "skip ONNX Runtime");
  CLI11_PARSE(app, argc, argv);

  fs::create_directories(out_dir);
  Table table({"model", "batch", "threads", "pitlane_us", "ort_us", "torch_us", "pitlane/ort",
               "pitlane/torch", "max|d| ort", "max|d| torch"});
  nlohmann::json results = nlohmann::json::array();
  for (std::string model_name : {"valid", "same"}) {
    if (models_s.find(model_name) == std::string::npos) continue;
    const bool same = model_name == "same";
    const fs::path model_path = fs::path(out_dir) / ("pilotnet_" + model_name + ".onnx");
    const std::string bytes = testing::pilotnet_onnx(
        same ? testing::Padding::same : testing::Padding::valid, testing::Exporter::pitlane, 17, 1);
    std::ofstream(model_path, std::ios::binary) << bytes;
    const Model model = Model::load(model_path);
    const TorchPilotNet torch_net(model.graph(), same);
    for (int64_t batch : parse_list(batches_s)) {
      const auto x = seeded_input(batch * 3 * 66 * 200);
      const fs::path input_path = fs::path(out_dir) / ("x_b" + std::to_string(batch) + ".npy");
      write_npy(input_path, std::vector<int64_t>{batch, 3, 66, 200}, x);
      for (int64_t threads : parse_list(threads_s)) {
        const int n = batch >= 64 ? std::max(20, runs / 10) : runs;
        const int w = batch >= 64 ? std::max(5, warmup / 5) : warmup;
        std::vector<double> pl, ol, tl;
        PeerResult ort, tor;
        for (int round = 0; round < rounds; ++round) {
          const BenchResult p = benchmark(
              model,
              {.backend = Backend::onednn, .threads = static_cast<int>(threads), .batch = batch},
              {.runs = n, .warmup = w, .profile_runs = 0});
          pl.push_back(p.median_us);
          if (!no_ort) {
            ort = bench::run_ort(model_path, "image", input_path, "vw",
                                 fs::path(out_dir) / "ort_out", threads, n, w);
            ol.push_back(ort.median_us);
          }
          if (!no_torch) {
            tor = run_torch(torch_net, x, batch, threads, n, w);
            tl.push_back(tor.median_us);
          }
        }
        struct {
          double median_us;
        } p{percentile(pl, 50)};
        if (!no_ort) ort.median_us = percentile(ol, 50);
        if (!no_torch) tor.median_us = percentile(tl, 50);
        Session s(
            model,
            {.backend = Backend::onednn, .threads = static_cast<int>(threads), .batch = batch});
        std::vector<float> y(s.outputs()[0].element_count());
        s.run(x, y);
        auto ratio = [&](double peer) {
          return peer > 0 ? format_fixed(p.median_us / peer, 2) : std::string("-");
        };
        auto us = [](double v) { return v > 0 ? format_fixed(v, 1) : std::string("-"); };
        table.add(
            {model_name, std::to_string(batch), std::to_string(threads), us(p.median_us),
             us(ort.median_us), us(tor.median_us), ratio(ort.median_us), ratio(tor.median_us),
             ort.output.empty() ? "-" : format_fixed(max_diff(y, ort.output) * 1e6, 2) + "e-6",
             tor.output.empty() ? "-" : format_fixed(max_diff(y, tor.output) * 1e6, 2) + "e-6"});
        results.push_back({{"model", model_name},
                           {"batch", batch},
                           {"threads", threads},
                           {"runs", n},
                           {"rounds", rounds},
                           {"pitlane_median_us", p.median_us},
                           {"pitlane_round_medians_us", pl},
                           {"ort_round_medians_us", ol},
                           {"torch_round_medians_us", tl},
                           {"ort_median_us", ort.median_us},
                           {"torch_median_us", tor.median_us}});
        std::cerr << model_name << " batch " << batch << " threads " << threads << " done\n";
      }
    }
  }
  std::cout << table.render_markdown();
  if (!no_ort) {
    // The JavaScript binding's own cost per session.run(): a one-value Identity model.
    testing::OnnxBuilder b(17);
    b.input("image", {1});
    b.node("Identity", {"image"}, {"vw"});
    b.output("vw");
    const fs::path tiny = fs::path(out_dir) / "identity.onnx";
    std::ofstream(tiny, std::ios::binary) << b.bytes();
    const fs::path one = fs::path(out_dir) / "one.npy";
    write_npy(one, std::vector<int64_t>{1}, std::vector<float>{1.0f});
    const PeerResult o =
        bench::run_ort(tiny, "image", one, "vw", fs::path(out_dir) / "ort_out", 1, runs, warmup);
    std::cout << "\nONNX Runtime per-call overhead through node (Identity on one value): median "
              << format_fixed(o.median_us, 1) << " us (included in ort_us above, not subtracted)\n";
  }
  if (!json_path.empty()) std::ofstream(json_path) << results.dump(2) << "\n";
  return 0;
}
