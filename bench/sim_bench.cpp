// Simulator benchmarks: renderer frames per second (one core) and the wall time of whole laps.
//
//   build/bench/bench_sim                                   # everything
//   build/bench/bench_sim --benchmark_filter=Render         # frames per second only
//
// Render/<circuit>: frames at 64 places spread around the circuit, default style.
// RenderStyled: the same with noise and fog on (the per-pixel extras).
// RenderPortable: Render/simple_circuit with the portable loops (no AVX2), for comparison.
// ExpertLap/<circuit>/<video>: a whole lap of the expert with timing fixed:5 (render + brain +
// physics); video 0: none, 1: a lap video to lap.webm, 2: to lap.mp4 (LapVideo at 320x240, in
// the system's temporary folder). The video's cost is ExpertLap/0/1 or /0/2 over ExpertLap/0/0,
// in wall time and in CPU time (all threads).
#include <benchmark/benchmark.h>

#include <filesystem>
#include <memory>

#include <unistd.h>

#include "pitlane/brain/explicit_brain.h"
#include "pitlane/sim/episode.h"
#include "pitlane/sim/video.h"

namespace {

using namespace pitlane;

const char* kCircuits[] = {"simple_circuit", "many_curves", "montmelo", "montreal", "nurburgring"};

void BM_Render(benchmark::State& state) {
  const track::Circuit circuit = track::load_circuit(kCircuits[state.range(0)]);
  state.SetLabel(circuit.name());
  sim::Renderer renderer(
      circuit, {}, state.range(2) != 0 ? sim::RenderKernels::kPortable : sim::RenderKernels::kBest);
  cv::Mat frame;
  std::vector<Pose2> poses;
  for (int i = 0; i < 64; ++i)
    poses.push_back(circuit.pose_at(circuit.length() * i / 64.0, 0.1, 0.02));
  sim::RenderStyle style;
  if (state.range(1) != 0) {
    style.noise_sigma = 4.0f;
    style.fog_density = 0.05f;
  }
  size_t i = 0;
  for (auto _ : state) {
    renderer.render(poses[i % poses.size()], style, i, frame);
    ++i;
    benchmark::DoNotOptimize(frame.data);
  }
  state.counters["fps"] =
      benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_Render)->ArgsProduct({{0, 1, 2, 3, 4}, {0}, {0}})->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Render)->Name("BM_RenderStyled")->Args({0, 1, 0})->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Render)->Name("BM_RenderPortable")->Args({0, 0, 1})->Unit(benchmark::kMillisecond);

void BM_ExpertLap(benchmark::State& state) {
  const track::Circuit circuit = track::load_circuit(kCircuits[state.range(0)]);
  const char* video_types[] = {"", ".webm", ".mp4"};
  const std::string video_type = video_types[state.range(1)];
  state.SetLabel(circuit.name() + (video_type.empty() ? "" : " + lap" + video_type));
  const std::filesystem::path video_path =
      std::filesystem::temp_directory_path() /
      ("bench_sim_lap_" + std::to_string(getpid()) + video_type);
  sim::Renderer renderer(circuit);
  brain::ExplicitBrain expert;
  double sim_s = 0.0;
  for (auto _ : state) {
    std::unique_ptr<sim::LapVideo> video;
    if (!video_type.empty()) video = std::make_unique<sim::LapVideo>(video_path, circuit);
    const sim::EpisodeResult r =
        sim::run_episode(circuit, renderer, expert, sim::EpisodeConfig{}, video.get());
    if (video) video->finish();
    sim_s = r.metrics.sim_time_s;
    if (r.metrics.completed_laps != 1) state.SkipWithError("the expert did not finish the lap");
  }
  std::error_code ec;
  std::filesystem::remove(video_path, ec);
  state.counters["sim_s"] = sim_s;
  state.counters["x_realtime"] = benchmark::Counter(sim_s * static_cast<double>(state.iterations()),
                                                    benchmark::Counter::kIsRate);
}
// Wall time (x_realtime per wall second) and the CPU time of all threads (the video's encoder
// runs on its own).
BENCHMARK(BM_ExpertLap)
    ->ArgsProduct({{0}, {0, 1, 2}})
    ->UseRealTime()
    ->MeasureProcessCPUTime()
    ->Unit(benchmark::kSecond)
    ->Iterations(1)
    ->Repetitions(3)
    ->ReportAggregatesOnly(false);

}  // namespace

BENCHMARK_MAIN();
