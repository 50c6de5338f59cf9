#include "pitlane/sim/episode.h"

#include <chrono>
#include <cmath>
#include <deque>
#include <thread>

#include "pitlane/core/rng.h"
#include "pitlane/core/stats.h"

namespace pitlane::sim {
namespace {

constexpr int64_t kTrapCheckUs = 10'000'000;  // BehaviorMetrics checks every 10 s
constexpr double kTrapDistanceM = 0.5;

bool touches_wall(const track::Circuit& circuit, const Pose2& pose, const VehicleModel& vehicle) {
  const double wall = circuit.cross_section().wall_offset_m;
  for (Vec2 p : footprint_points(pose, vehicle)) {
    if (circuit.project(p).distance >= wall) return true;
  }
  return false;
}

struct PendingCommand {
  int64_t effective_us;
  Command command;
};

}  // namespace

EpisodeResult run_episode(const track::Circuit& circuit, Renderer& renderer, sim::Brain& brain,
                          const EpisodeConfig& config, EpisodeObserver* observer) {
  using Clock = std::chrono::steady_clock;
  const auto wall_start = Clock::now();
  Rng rng(config.seed);
  EpisodeResult result;
  const Pose2 start = config.random_start ? track::random_start(circuit, rng, config.perturbation)
                                          : circuit.start_pose();
  result.start = start;
  Rng style_rng(config.seed ^ 0x5717E5ull);
  const RenderStyle style = config.randomize_style ? random_style(style_rng) : config.style;
  Rng disturbance_rng(config.seed ^ 0xD157ull);

  brain.reset();
  MetricsAccumulator metrics(circuit, config.laps, start.position);
  const double timeout_s =
      config.timeout_s > 0 ? config.timeout_s : 1.1 * circuit.reference_lap_s() * config.laps;
  const auto timeout_us = static_cast<int64_t>(timeout_s * 1e6);
  const int64_t dt = config.physics_step_us;

  Pose2 pose = start;
  Command executing;  // the command in effect (the car starts at rest)
  std::deque<PendingCommand> pending;
  Pose2 frame_pose = pose;      // pose at the latest camera capture
  int64_t frame_index = -1;     // capture index of frame_pose
  int64_t rendered_index = -2;  // capture index of the frame in `frame`
  cv::Mat frame;
  int64_t next_brain_us = 0;
  bool in_contact = false;
  Vec2 trap_anchor = pose.position;
  int64_t next_trap_check = kTrapCheckUs;
  int64_t disturbance_until = -1, next_disturbance = -1;
  double disturbance_w = 0.0;
  if (config.disturbance.mean_interval_s > 0) {
    next_disturbance =
        static_cast<int64_t>(rng.uniform(0.5, 1.5) * config.disturbance.mean_interval_s * 1e6);
  }
  std::vector<double> brain_ms, render_ms;
  int iteration = 0;
  int64_t t = 0;
  bool trapped = false, timed_out = false;

  while (!trapped && !timed_out) {
    if (t % kCameraPeriodUs == 0) {
      frame_pose = pose;
      frame_index = t / kCameraPeriodUs;
    }
    if (t >= next_brain_us) {
      if (rendered_index != frame_index) {
        const auto r0 = Clock::now();
        renderer.render(frame_pose, style,
                        config.seed * 1'000'003ull + static_cast<uint64_t>(frame_index), frame);
        render_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - r0).count());
        rendered_index = frame_index;
      }
      const auto b0 = Clock::now();
      const Command command = brain.act(frame);
      const double iteration_ms =
          std::chrono::duration<double, std::milli>(Clock::now() - b0).count();
      const double inference_ms = brain.last_inference_ms();
      brain_ms.push_back(inference_ms);
      const int64_t latency = config.timing.kind == TimingModel::Kind::kRealtime
                                  ? static_cast<int64_t>(std::llround(iteration_ms * 1000.0))
                                  : config.timing.latency_us(inference_ms);
      pending.push_back({t + latency, command});
      metrics.on_brain(command, static_cast<double>(latency) / 1000.0);
      next_brain_us = t + std::max(kBrainCycleUs, latency);
      if (observer != nullptr) {
        IterationView view;
        view.iteration = iteration;
        view.t_us = t;
        view.frame = &frame;
        view.command = command;
        view.pose = pose;
        view.speed_mps = executing.v;
        view.progress = metrics.progress_fraction();
        view.lateral_m = circuit.project(pose.position).lateral;
        if (!observer->on_iteration(view)) break;
      }
      ++iteration;
      if (config.timing.kind == TimingModel::Kind::kRealtime) {
        // Pace the simulation to the wall clock.
        std::this_thread::sleep_until(wall_start + std::chrono::microseconds(t));
      }
    }
    while (!pending.empty() && pending.front().effective_us <= t) {
      executing = pending.front().command;
      pending.pop_front();
    }
    double w = executing.w;
    if (next_disturbance >= 0 && t >= next_disturbance) {
      disturbance_w = disturbance_rng.uniform(-config.disturbance.max_w, config.disturbance.max_w);
      disturbance_until = t + static_cast<int64_t>(config.disturbance.duration_s * 1e6);
      next_disturbance = t + static_cast<int64_t>(disturbance_rng.uniform(0.5, 1.5) *
                                                  config.disturbance.mean_interval_s * 1e6);
    }
    if (t < disturbance_until) w += disturbance_w;

    const Pose2 next = integrate_pose(pose, executing.v, w, static_cast<double>(dt) * 1e-6);
    if (touches_wall(circuit, next, config.vehicle)) {
      // Against the wall the car stops; a command that turns it free moves it again.
      if (!in_contact) metrics.on_wall_contact();
      in_contact = true;
    } else {
      in_contact = false;
      pose = next;
    }
    t += dt;
    const int laps_done = metrics.on_step(pose, t, dt);
    if (laps_done >= config.laps) break;
    if (t >= next_trap_check) {
      if (distance(pose.position, trap_anchor) < kTrapDistanceM) {
        trapped = true;
      }
      trap_anchor = pose.position;
      next_trap_check += kTrapCheckUs;
    }
    if (t >= timeout_us) {
      timed_out = true;
    }
  }

  RunMetrics m = metrics.finish(t);
  m.trapped = trapped;
  m.timed_out = timed_out;
  m.termination = timed_out ? "timeout" : trapped ? "trapped" : "completed";
  if (m.completed_laps < config.laps && m.termination == "completed") m.termination = "stopped";
  m.circuit = circuit.name();
  m.direction = std::string(track::to_string(circuit.direction()));
  m.brain = brain.name();
  m.seed = config.seed;
  m.timing = config.timing.describe();
  result.metrics = m;

  RunTiming& timing = result.timing;
  timing.wall_time_s = std::chrono::duration<double>(Clock::now() - wall_start).count();
  timing.real_time_factor = timing.wall_time_s > 0 ? m.sim_time_s / timing.wall_time_s : 0.0;
  timing.frames_rendered = static_cast<int64_t>(render_ms.size());
  timing.render_ms_mean = mean(render_ms);
  timing.brain_ms_p50 = percentile(brain_ms, 50);
  timing.brain_ms_p99 = percentile(brain_ms, 99);
  return result;
}

}  // namespace pitlane::sim
