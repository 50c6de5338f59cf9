#include "pitlane/drive/drive_runner.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <exception>
#include <memory>
#include <mutex>
#include <thread>

#include "pitlane/brain/explicit_brain.h"
#include "pitlane/brain/neural_brain.h"
#include "pitlane/core/progress.h"
#include "pitlane/sim/episode.h"
#include "pitlane/sim/renderer.h"
#include "pitlane/sim/trajectory.h"
#include "pitlane/track/circuit.h"

namespace pitlane::drive {
std::unique_ptr<sim::Brain> make_brain(const DriveJob& job) {
  if (job.file.empty()) return std::make_unique<brain::ExplicitBrain>();
  brain::NeuralBrainOptions options;
  options.backend = job.backend;
  options.threads = job.threads;
  return std::make_unique<brain::NeuralBrain>(job.file, options);
}

sim::EpisodeConfig episode_config(const DriveJob& job) {
  sim::EpisodeConfig config;
  config.laps = job.laps;
  config.seed = job.seed;
  config.timing = job.timing;
  config.random_start = job.perturb_start;
  config.randomize_style = job.perturb_style;
  config.weather = job.weather;
  config.timeout_s = job.timeout_s;
  config.record_trajectory = !job.trajectory.empty();
  return config;
}

namespace {

DriveOutcome drive_one(const DriveJob& job) {
  const track::Circuit circuit =
      track::load_circuit(job.circuit, track::parse_direction(job.direction));
  const std::unique_ptr<sim::Brain> brain = make_brain(job);
  sim::Renderer renderer(circuit);
  const sim::EpisodeResult r = sim::run_episode(circuit, renderer, *brain, episode_config(job));
  if (!job.trajectory.empty()) sim::write_trajectory(job.trajectory, r.trajectory);
  DriveOutcome out{job, r.metrics, r.timing};
  out.metrics.brain = job.model;
  return out;
}

}  // namespace

std::vector<DriveOutcome> run_drives(
    const std::vector<DriveJob>& jobs, int parallel, bool progress,
    const std::function<void(size_t, const DriveOutcome&)>& on_done) {
  std::vector<DriveOutcome> outcomes(jobs.size());
  std::atomic<size_t> next{0};
  std::mutex mutex;  // guards the bar, `done` and `failure`
  size_t done = 0;
  std::exception_ptr failure;
  ProgressBar bar("drive", static_cast<int64_t>(jobs.size()), "runs", progress);

  auto worker = [&] {
    for (;;) {
      const size_t i = next.fetch_add(1);
      if (i >= jobs.size()) return;
      {
        std::lock_guard lock(mutex);
        if (failure) return;
      }
      try {
        outcomes[i] = drive_one(jobs[i]);
        if (on_done) on_done(i, outcomes[i]);
      } catch (...) {
        std::lock_guard lock(mutex);
        if (!failure) failure = std::current_exception();
        return;
      }
      std::lock_guard lock(mutex);
      const DriveOutcome& o = outcomes[i];
      bar.update(
          static_cast<int64_t>(++done),
          o.job.model + " " + o.job.circuit + " " + o.job.direction + " " +
              std::to_string(static_cast<int>(std::lround(100 * o.metrics.completed_fraction))) +
              "%");
    }
  };
  const int n = std::max(1, std::min<int>(parallel, static_cast<int>(jobs.size())));
  std::vector<std::thread> threads;
  for (int t = 0; t < n; ++t) threads.emplace_back(worker);
  for (auto& t : threads) t.join();
  if (failure) std::rethrow_exception(failure);
  bar.finish();
  return outcomes;
}

}  // namespace pitlane::drive
