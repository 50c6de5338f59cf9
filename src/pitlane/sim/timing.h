// TimingModel: how long each brain iteration takes in simulated time (DESIGN.md "Timing model").
//
// Brain iteration k starts at t_k with the latest camera frame (20 Hz); its command takes effect
// at t_k + L_k; the next iteration starts at t_k + max(50 ms, L_k). So a slow brain lowers the
// control rate exactly as in BehaviorMetrics (REFERENCE section 3). L_k comes from:
//   fixed:MS         a constant; runs are reproducible to the byte
//   measured[xF]     the brain's own measured inference time, times F (emulates a slower device)
//   realtime         the whole iteration's wall time, and the simulation paced to the wall clock
//
//   TimingModel t = TimingModel::parse("measured x30");
//   int64_t latency = t.latency_us(/*measured_ms=*/1.8);   // 54 ms
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace pitlane::sim {

constexpr int64_t kCameraPeriodUs = 50'000;  // 20 Hz camera
constexpr int64_t kBrainCycleUs = 50'000;    // 50 ms brain cycle

struct TimingModel {
  enum class Kind { kFixed, kMeasured, kRealtime };
  Kind kind = Kind::kFixed;
  double fixed_ms = 5.0;  // kFixed: the latency
  double factor = 1.0;    // kMeasured: slowdown factor applied to the measured time

  // "fixed:5", "measured", "measured x30", "measuredx30", "measured:x30", "realtime".
  static TimingModel parse(std::string_view text);
  bool deterministic() const { return kind == Kind::kFixed; }
  int64_t latency_us(double measured_ms) const;
  std::string describe() const;
};

}  // namespace pitlane::sim
