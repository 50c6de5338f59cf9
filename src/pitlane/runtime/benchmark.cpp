#include "pitlane/runtime/benchmark.h"

#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <random>

#include "pitlane/core/error.h"
#include "pitlane/core/stats.h"

namespace pitlane::runtime {

BenchResult benchmark(const Model& model, const SessionOptions& options,
                      const BenchOptions& bench) {
  Session session(model, options);
  std::mt19937 rng(1);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<std::vector<float>> ins, outs;
  for (const auto& i : session.inputs()) {
    ins.emplace_back(i.element_count());
    for (float& v : ins.back()) v = normal(rng);
  }
  if (!bench.input.empty()) {
    std::vector<float>& first = ins.at(0);
    if (first.size() % bench.input.size() != 0 ||
        first.size() / bench.input.size() != static_cast<size_t>(options.batch))
      throw InputError("benchmark input holds " + std::to_string(bench.input.size()) +
                       " values; input '" + session.inputs()[0].name + "' takes " +
                       std::to_string(first.size() / options.batch) + " per sample");
    for (size_t at = 0; at < first.size(); at += bench.input.size())
      std::copy(bench.input.begin(), bench.input.end(), first.begin() + at);
  }
  for (const auto& o : session.outputs()) outs.emplace_back(o.element_count());
  const std::vector<std::span<const float>> in_spans(ins.begin(), ins.end());
  const std::vector<std::span<float>> out_spans(outs.begin(), outs.end());

  BenchResult r;
  r.backend = backend_name(session.backend());
  r.threads = options.threads;
  r.batch = options.batch;
  for (int i = 0; i < bench.warmup; ++i) session.run(in_spans, out_spans);
  r.latency_us.reserve(bench.runs);
  for (int i = 0; i < bench.runs; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    session.run(in_spans, out_spans);
    r.latency_us.push_back(
        std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count());
  }
  r.min_us = *std::min_element(r.latency_us.begin(), r.latency_us.end());
  r.max_us = max_value(r.latency_us);
  r.median_us = percentile(r.latency_us, 50);
  r.p90_us = percentile(r.latency_us, 90);
  r.p99_us = percentile(r.latency_us, 99);
  r.mean_us = mean(r.latency_us);
  r.samples_per_s = r.median_us > 0 ? 1e6 * static_cast<double>(options.batch) / r.median_us : 0.0;

  const size_t steps = session.num_steps();
  if (bench.profile_runs > 0) {
    std::vector<std::vector<double>> per_step(steps);
    std::vector<double> step_us(steps);
    for (int i = 0; i < bench.profile_runs; ++i) {
      session.run_profiled(in_spans, out_spans, step_us);
      for (size_t s = 0; s < steps; ++s) per_step[s].push_back(step_us[s]);
    }
    for (size_t s = 0; s < steps; ++s)
      r.steps.push_back({session.step_name(s), percentile(per_step[s], 50)});
  }
  r.arena_bytes = session.arena_bytes();
  r.constant_bytes = session.constant_bytes();
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  r.peak_rss_bytes = static_cast<size_t>(usage.ru_maxrss) * 1024;
  return r;
}

}  // namespace pitlane::runtime
