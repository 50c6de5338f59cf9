#include "pitlane/study/closed_loop.h"

#include <cmath>
#include <vector>

#include "pitlane/core/stats.h"
#include "pitlane/sim/renderer.h"
#include "pitlane/track/circuit.h"

namespace pitlane::study {

LatencyStats measure_brain_latency(sim::Brain& brain, int warmup, int runs) {
  const track::Circuit circuit = track::load_circuit("simple_circuit");
  sim::Renderer renderer(circuit);
  constexpr int kFrames = 20;
  std::vector<cv::Mat> frames(kFrames);
  for (int i = 0; i < kFrames; ++i) {
    const double s = circuit.start_s() + circuit.length() * i / kFrames;
    renderer.render(circuit.pose_at(s), sim::RenderStyle{}, static_cast<uint64_t>(i), frames[i]);
  }
  brain.reset();
  for (int i = 0; i < warmup; ++i) (void)brain.act(frames[i % kFrames]);
  std::vector<double> ms(static_cast<size_t>(runs));
  for (int i = 0; i < runs; ++i) {
    (void)brain.act(frames[i % kFrames]);
    ms[i] = brain.last_inference_ms();
  }
  LatencyStats s;
  s.runs = runs;
  s.median_ms = percentile(ms, 50);
  s.p90_ms = percentile(ms, 90);
  s.p99_ms = percentile(ms, 99);
  s.min_ms = percentile(ms, 0);
  s.max_ms = percentile(ms, 100);
  return s;
}

double quantize_latency(double ms, double quantum_ms) {
  // The small tolerance keeps an exact multiple (2.0 ms with a 0.5 ms quantum) where it is.
  return std::ceil(ms / quantum_ms - 1e-9) * quantum_ms;
}

}  // namespace pitlane::study
