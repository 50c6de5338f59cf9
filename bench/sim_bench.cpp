// Simulator benchmarks: renderer frames per second (one core) and the wall time of whole laps.
//
//   build/bench/bench_sim                                   # everything
//   build/bench/bench_sim --benchmark_filter=Render         # frames per second only
//
// Render/<circuit>: frames at 64 places spread around the circuit, default style.
// RenderStyled: the same with noise and fog on (the per-pixel extras).
// ExpertLap/<circuit>: a whole lap of the expert with timing fixed:5 (render + brain + physics).
#include <benchmark/benchmark.h>

#include "pitlane/brain/explicit_brain.h"
#include "pitlane/sim/episode.h"

namespace {

using namespace pitlane;

const char* kCircuits[] = {"simple_circuit", "many_curves", "montmelo", "montreal", "nurburgring"};

void BM_Render(benchmark::State& state) {
  const track::Circuit circuit = track::load_circuit(kCircuits[state.range(0)]);
  state.SetLabel(circuit.name());
  sim::Renderer renderer(circuit);
  cv::Mat frame;
  std::vector<Pose2> poses;
  for (int i = 0; i < 64; ++i) poses.push_back(circuit.pose_at(circuit.length() * i / 64.0, 0.1, 0.02));
  sim::RenderStyle style;
  if (state.range(1) != 0) {
    style.noise_sigma = 4.0f;
    style.fog_density = 0.05f;
  }
  size_t i = 0;
  for (auto _ : state) {
    renderer.render(poses[i++ % poses.size()], style, i, frame);
    benchmark::DoNotOptimize(frame.data);
  }
  state.counters["fps"] = benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_Render)->ArgsProduct({{0, 1, 2, 3, 4}, {0}})->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Render)->Name("BM_RenderStyled")->Args({0, 1})->Unit(benchmark::kMillisecond);

void BM_ExpertLap(benchmark::State& state) {
  const track::Circuit circuit = track::load_circuit(kCircuits[state.range(0)]);
  state.SetLabel(circuit.name());
  sim::Renderer renderer(circuit);
  brain::ExplicitBrain expert;
  double sim_s = 0.0;
  for (auto _ : state) {
    const sim::EpisodeResult r = sim::run_episode(circuit, renderer, expert, sim::EpisodeConfig{});
    sim_s = r.metrics.sim_time_s;
    if (r.metrics.completed_laps != 1) state.SkipWithError("the expert did not finish the lap");
  }
  state.counters["sim_s"] = sim_s;
  state.counters["x_realtime"] = benchmark::Counter(sim_s * static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_ExpertLap)->Arg(0)->Unit(benchmark::kSecond)->Iterations(1)->Repetitions(3)->ReportAggregatesOnly(false);

}  // namespace

BENCHMARK_MAIN();
