// pitlane bench: latency percentiles, throughput, per-layer profile and memory of a model on the
// runtime (one backend, thread count and batch per call).
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "pitlane/core/files.h"
#include "pitlane/core/table.h"
#include "pitlane/runtime/benchmark.h"

namespace pitlane::cli {

void add_bench_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("bench", "Latency benchmark of a model on pitlane's runtime")
                  ->footer(
                      "Example:\n  pitlane bench --model pilotnet.onnx --backend onednn --threads "
                      "1 --batch 1 --runs 500\n"
                      "Warm-up, then min/median/p90/p99/max latency, throughput, a per-layer\n"
                      "profile (separate pass) and memory; --json writes all of it.");
  struct Args {
    std::string model, backend = "auto", json;
    int threads = 1, runs = 200, warmup = 20;
    int64_t batch = 1;
    bool bf16 = false;
  };
  auto args = std::make_shared<Args>();
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
  cmd->add_option("--json", args->json, "write the results as JSON");
  cmd->callback([args] {
    using namespace pitlane::runtime;
    const Backend backend = parse_backend(args->backend);
    if (!args->json.empty()) check_writable(args->json);
    const Model model = Model::load(args->model);
    const BenchResult r = benchmark(
        model,
        {.backend = backend, .threads = args->threads, .batch = args->batch, .bf16 = args->bf16},
        {.runs = args->runs, .warmup = args->warmup});
    std::cout << args->model << ": backend " << r.backend << (args->bf16 ? " bf16" : " fp32")
              << ", " << r.threads << " thread(s), batch " << r.batch << ", " << args->runs
              << " runs after " << args->warmup << " warm-up\n";
    Table lat({"min_us", "median_us", "p90_us", "p99_us", "max_us", "samples_per_s"});
    lat.add({format_fixed(r.min_us, 1), format_fixed(r.median_us, 1), format_fixed(r.p90_us, 1),
             format_fixed(r.p99_us, 1), format_fixed(r.max_us, 1),
             format_fixed(r.samples_per_s, 0)});
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
    if (!args->json.empty()) {
      nlohmann::json j = {{"model", args->model},
                          {"backend", r.backend},
                          {"precision", args->bf16 ? "bf16" : "fp32"},
                          {"threads", r.threads},
                          {"batch", r.batch},
                          {"runs", args->runs},
                          {"warmup", args->warmup},
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
      write_file_atomic(args->json, j.dump(2) + "\n");
    }
  });
}

}  // namespace pitlane::cli
