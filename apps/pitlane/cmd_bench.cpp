// pitlane bench: latency percentiles, throughput, per-layer profile and memory of a model on the
// runtime (one backend, thread count and batch per call).
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "pitlane/core/error.h"
#include "pitlane/core/files.h"
#include "pitlane/core/table.h"
#include "pitlane/data/image_reader.h"
#include "pitlane/runtime/benchmark.h"
#include "pitlane/runtime/npy.h"

#include <opencv2/imgcodecs.hpp>

#include "pitlane/brain/neural_brain.h"

namespace pitlane::cli {

namespace {

struct BenchArgs {
  std::string model, backend = "auto", json, frame, input, sparse = "auto";
  int threads = 1, runs = 200, warmup = 20;
  int64_t batch = 1;
  bool bf16 = false, no_zero_skip = false;
};

// One sample of the model's input: a camera frame through the model's own preprocessing, a
// .npy holding one sample, or (neither given) empty for seeded normals.
std::vector<float> bench_input(const std::string& model, const std::string& frame,
                               const std::string& npy) {
  if (!npy.empty()) return runtime::read_npy(npy).data;
  if (frame.empty()) return {};
  if (!std::filesystem::is_regular_file(frame))
    throw InputError(frame + ": no such file; give a camera frame (PNG or JPEG)");
  return brain::NeuralBrain(model, {}).model_input(data::read_image(frame));
}

// InputError unless a --input .npy holds exactly one sample of the model's first input.
void check_one_sample(const runtime::Model& model, const std::string& npy,
                      const std::vector<float>& input) {
  const runtime::TensorInfo& in = model.inputs().at(0);
  int64_t per_sample = 1;
  for (size_t d = 1; d < in.shape.size(); ++d) per_sample *= in.shape[d];
  if (static_cast<int64_t>(input.size()) != per_sample)
    throw InputError(npy + ": holds " + std::to_string(input.size()) +
                     " values, but one sample of the model's input '" + in.name + "' is " +
                     std::to_string(per_sample) + "; give a single sample");
}

runtime::SessionOptions session_options(const BenchArgs& a) {
  using runtime::SparseGemmMode;
  return {.backend = runtime::parse_backend(a.backend),
          .threads = a.threads,
          .batch = a.batch,
          .bf16 = a.bf16,
          .sparse = a.sparse == "never"    ? SparseGemmMode::never
                    : a.sparse == "always" ? SparseGemmMode::always
                                           : SparseGemmMode::automatic,
          .skip_zero_inputs = !a.no_zero_skip};
}

// Latency percentiles, the per-step profile and memory, as tables.
void print_bench(const BenchArgs& a, const runtime::BenchResult& r, const std::string& input_name) {
  std::cout << a.model << ": backend " << r.backend << (a.bf16 ? " bf16" : " fp32") << ", "
            << r.threads << " thread(s), batch " << r.batch << ", " << a.runs << " runs after "
            << a.warmup << " warm-up, input " << input_name << "\n";
  Table lat({"min_us", "median_us", "p90_us", "p99_us", "max_us", "samples_per_s"});
  lat.add({format_fixed(r.min_us, 1), format_fixed(r.median_us, 1), format_fixed(r.p90_us, 1),
           format_fixed(r.p99_us, 1), format_fixed(r.max_us, 1), format_fixed(r.samples_per_s, 0)});
  std::cout << lat.render();
  Table prof({"step", "median_us", "share_%"});
  double total = 0;
  for (const auto& s : r.steps) total += s.median_us;
  for (const auto& s : r.steps)
    prof.add({s.name, format_fixed(s.median_us, 1),
              format_fixed(total > 0 ? 100 * s.median_us / total : 0, 1)});
  std::cout << prof.render();
  std::cout << "memory: arena " << format_fixed(r.arena_bytes / 1024.0, 1) << " KiB, weights "
            << format_fixed(r.constant_bytes / 1048576.0, 2) << " MiB, process peak RSS "
            << format_fixed(r.peak_rss_bytes / 1048576.0, 1) << " MiB\n";
}

nlohmann::json bench_json(const BenchArgs& a, const runtime::BenchResult& r,
                          const std::string& input_name) {
  nlohmann::json j = {{"model", a.model},
                      {"backend", r.backend},
                      {"precision", a.bf16 ? "bf16" : "fp32"},
                      {"threads", r.threads},
                      {"batch", r.batch},
                      {"runs", a.runs},
                      {"warmup", a.warmup},
                      {"input", input_name},
                      {"zero_skip", !a.no_zero_skip},
                      {"sparse", a.sparse},
                      {"min_us", r.min_us},
                      {"median_us", r.median_us},
                      {"p90_us", r.p90_us},
                      {"p99_us", r.p99_us},
                      {"max_us", r.max_us},
                      {"mean_us", r.mean_us},
                      {"samples_per_s", r.samples_per_s},
                      {"arena_bytes", r.arena_bytes},
                      {"constant_bytes", r.constant_bytes},
                      {"peak_rss_bytes", r.peak_rss_bytes},
                      {"latency_us", r.latency_us}};
  for (const auto& s : r.steps)
    j["steps"].push_back({{"name", s.name}, {"median_us", s.median_us}});
  return j;
}

void run_bench(const BenchArgs& a) {
  const runtime::SessionOptions options = session_options(a);
  if (!a.json.empty()) {
    check_writable(a.json);
    check_not_an_input(a.json, {a.model, a.frame, a.input});
  }
  const runtime::Model model = runtime::Model::load(a.model);
  std::vector<float> input = bench_input(a.model, a.frame, a.input);
  if (!a.input.empty()) check_one_sample(model, a.input, input);
  const std::string input_name = !a.frame.empty()   ? "frame " + a.frame
                                 : !a.input.empty() ? a.input
                                                    : "seeded normals";
  const runtime::BenchResult r = runtime::benchmark(
      model, options, {.runs = a.runs, .warmup = a.warmup, .input = std::move(input)});
  print_bench(a, r, input_name);
  if (!a.json.empty()) write_file_atomic(a.json, bench_json(a, r, input_name).dump(2) + "\n");
}

}  // namespace

void add_bench_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("bench", "Latency benchmark of a model on pitlane's runtime")
                  ->footer(
                      "Examples:\n  pitlane bench --model pilotnet.onnx --backend onednn --threads "
                      "1 --batch 1 --runs 500\n"
                      "  pitlane bench --model pilotnet.onnx --frame rec/montreal_cw/100.png\n"
                      "Warm-up, then min/median/p90/p99/max latency, throughput, a per-layer\n"
                      "profile (separate pass) and memory; --json writes all of it.");
  auto args = std::make_shared<BenchArgs>();
  cmd->add_option("--model", args->model, "ONNX model")->required();
  cmd->add_option("--backend", args->backend, "auto | reference | onednn")->capture_default_str();
  cmd->add_option("--threads", args->threads, "kernel threads")
      ->capture_default_str()
      ->check(CLI::Range(1, 1024));
  cmd->add_option("--batch", args->batch, "batch size")
      ->capture_default_str()
      ->check(CLI::Range(1, 1 << 16));
  cmd->add_option("--runs", args->runs, "timed runs")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000000));
  cmd->add_option("--warmup", args->warmup, "untimed runs first")
      ->capture_default_str()
      ->check(CLI::Range(0, 1000000));
  cmd->add_flag("--bf16", args->bf16, "oneDNN bf16 compute (CPUs with AVX-512 only)");
  auto* frame = cmd->add_option(
      "--frame", args->frame,
      "camera frame (PNG/JPEG) as the input, through the model's preprocessing; the default "
      "input is seeded normals, whose ReLU zeros differ from a real frame's");
  cmd->add_option("--input", args->input, ".npy holding one sample of the input")->excludes(frame);
  cmd->add_option("--sparse", args->sparse,
                  "sparse kernel for pruned Gemm weights: auto (where it pays) | never | always")
      ->capture_default_str()
      ->check(CLI::IsMember({"auto", "never", "always"}));
  cmd->add_flag("--no-zero-skip", args->no_zero_skip,
                "oneDNN's dense inner product for every Gemm (no zero-skipping kernel)");
  cmd->add_option("--json", args->json, "write the results as JSON");
  cmd->callback([args] { run_bench(*args); });
}

}  // namespace pitlane::cli
