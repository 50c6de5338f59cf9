#include "pitlane/study/closed_loop.h"

#include <gtest/gtest.h>

#include "pitlane/brain/explicit_brain.h"
#include "pitlane/sim/metrics.h"

namespace pitlane::study {
namespace {

TEST(ClosedLoop, QuantizedLatencyRoundsUpToTheQuantum) {
  EXPECT_DOUBLE_EQ(quantize_latency(0.73, 0.5), 1.0);
  EXPECT_DOUBLE_EQ(quantize_latency(2.0, 0.5), 2.0);
  EXPECT_DOUBLE_EQ(quantize_latency(2.01, 0.5), 2.5);
  EXPECT_DOUBLE_EQ(quantize_latency(0.2, 10.0), 10.0);
}

TEST(ClosedLoop, ExpertLatencyIsMeasuredOnRealFrames) {
  brain::ExplicitBrain expert;
  const LatencyStats s = measure_brain_latency(expert, 2, 20);
  EXPECT_EQ(s.runs, 20);
  EXPECT_GT(s.median_ms, 0.0);
  EXPECT_LE(s.min_ms, s.median_ms);
  EXPECT_LE(s.median_ms, s.p99_ms);
  EXPECT_LE(s.p99_ms, s.max_ms);
}

std::vector<DriveJob> expert_jobs() {
  std::vector<DriveJob> jobs;
  for (int rep = 0; rep < 2; ++rep) {
    for (double slowdown : {1.0, 40.0}) {
      DriveJob j;
      j.model = "expert";
      j.timing.fixed_ms = 5.0 * slowdown;
      j.slowdown = slowdown;
      j.circuit = "simple_circuit";
      j.direction = rep == 0 ? "cw" : "ccw";
      j.repetition = rep;
      j.seed = 3 + rep;
      j.timeout_s = 8.0;
      jobs.push_back(j);
    }
  }
  return jobs;
}

TEST(ClosedLoop, ParallelDrivesGiveTheSameResultsInJobOrder) {
  const auto jobs = expert_jobs();
  const auto serial = run_drives(jobs, 1, false);
  const auto parallel = run_drives(jobs, 2, false);
  ASSERT_EQ(serial.size(), jobs.size());
  ASSERT_EQ(parallel.size(), jobs.size());
  for (size_t i = 0; i < jobs.size(); ++i) {
    EXPECT_EQ(serial[i].job.direction, jobs[i].direction);
    EXPECT_EQ(serial[i].metrics.brain, "expert");
    EXPECT_EQ(sim::to_json(serial[i].metrics).dump(), sim::to_json(parallel[i].metrics).dump());
  }
  // A 200 ms latency (a device 40x slower) lowers the brain rate below the 20 Hz camera.
  EXPECT_NEAR(serial[0].metrics.brain_hz, 20.0, 0.5);
  EXPECT_LT(serial[1].metrics.brain_hz, 6.0);
}

TEST(ClosedLoop, AModelThatCannotLoadFailsTheDrives) {
  auto jobs = expert_jobs();
  jobs[1].model = "missing";
  jobs[1].file = "/nonexistent/model.onnx";
  EXPECT_ANY_THROW(run_drives(jobs, 2, false));
}

}  // namespace
}  // namespace pitlane::study
