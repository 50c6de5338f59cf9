// Pieces the peer benchmarks share (runtime_peers, quant_peers, sparse_peers): ONNX Runtime
// driven through node (tools/interop/ort_run.js --bench, npm onnxruntime-node), seeded inputs,
// comma-separated lists and output comparison.
//
//   const PeerResult ort = run_ort(model, "image", x_npy, "vw", out_dir / "ort_out", 1, 300, 30);
//   ort.median_us, ort.p90_us, ort.output   // -1 / empty when ONNX Runtime could not run
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "ort_oracle.h"
#include "pitlane/core/stats.h"

namespace pitlane::bench {

struct PeerResult {
  double median_us = -1, p90_us = -1;
  std::vector<float> output;  // the peer's output on the benchmark input
};

// ONNX Runtime on `model` with one input file; times include the node binding's per-call cost.
inline PeerResult run_ort(const std::filesystem::path& model, const std::string& input_name,
                          const std::filesystem::path& input, const std::string& output_name,
                          const std::filesystem::path& out, int threads, int runs, int warmup) {
  const std::filesystem::path script =
      std::filesystem::path(PITLANE_SOURCE_DIR) / "tools/interop/ort_run.js";
  const std::string cmd = "node " + script.string() + " " + model.string() + " " + out.string() +
                          " " + input_name + "=" + input.string() + " --threads " +
                          std::to_string(threads) + " --bench " + std::to_string(runs) +
                          " --warmup " + std::to_string(warmup);
  PeerResult r;
  FILE* pipe = popen(cmd.c_str(), "r");
  if (!pipe) return r;
  std::string text;
  char buf[4096];
  while (size_t n = fread(buf, 1, sizeof buf, pipe)) text.append(buf, n);
  if (pclose(pipe) != 0 || text.find('{') == std::string::npos) return r;
  const auto j = nlohmann::json::parse(text.substr(text.find('{')));
  const auto latency = j.at("latency_us").get<std::vector<double>>();
  r.median_us = percentile(latency, 50);
  r.p90_us = percentile(latency, 90);
  r.output = runtime::testing::read_npy_any(out / (output_name + ".npy")).data;
  return r;
}

// n standard normals from a fixed seed: every runtime sees the same input.
inline std::vector<float> seeded_input(int64_t n, uint32_t seed = 42) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> d(0.0f, 1.0f);
  std::vector<float> v(n);
  for (float& x : v) x = d(rng);
  return v;
}

// "1,64" -> {1, 64}
inline std::vector<int64_t> parse_list(const std::string& s) {
  std::vector<int64_t> out;
  std::stringstream ss(s);
  for (std::string item; std::getline(ss, item, ',');) out.push_back(std::stoll(item));
  return out;
}

// Largest |a - b|; -1 when the sizes differ or nothing was compared.
inline float max_diff(const std::vector<float>& a, const std::vector<float>& b) {
  if (a.size() != b.size() || a.empty()) return -1.0f;
  float d = 0;
  for (size_t i = 0; i < a.size(); ++i) d = std::max(d, std::abs(a[i] - b[i]));
  return d;
}

}  // namespace pitlane::bench
