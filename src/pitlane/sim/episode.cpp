#include "pitlane/sim/episode.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <deque>
#include <thread>
#include <vector>

#include "pitlane/core/rng.h"
#include "pitlane/core/stats.h"

namespace pitlane::sim {
namespace {

using Clock = std::chrono::steady_clock;

constexpr int64_t kTrapCheckUs = 10'000'000;  // BehaviorMetrics checks every 10 s
constexpr double kTrapDistanceM = 0.5;

bool touches_wall(const track::Circuit& circuit, const Pose2& pose, const VehicleModel& vehicle) {
  const double wall = circuit.cross_section().wall_offset_m;
  for (Vec2 p : footprint_points(pose, vehicle)) {
    if (circuit.project(p).distance >= wall) return true;
  }
  return false;
}

double elapsed_ms(Clock::time_point since) {
  return std::chrono::duration<double, std::milli>(Clock::now() - since).count();
}

struct PendingCommand {
  int64_t effective_us;  // simulated time it takes effect, us
  Command command;
};

// What a run steps against and never changes: the circuit, the config and what is drawn from
// them once at the start.
struct EpisodeWorld {
  const track::Circuit& circuit;
  const EpisodeConfig& config;
  RenderStyle style;       // how every frame looks: config.style or drawn from the seed
  int64_t timeout_us = 0;  // the run ends when the clock reaches it, us
};

// Weather-like variants the renderer can show: overcast or dusk light (darker, a little bluer)
// and haze (fog over 8 to 25 m).
void apply_weather(RenderStyle& style, Rng& rng) {
  style.brightness *= static_cast<float>(rng.uniform(0.55, 0.85));
  style.hue_shift_deg += static_cast<float>(rng.uniform(-8.0, 0.0));
  style.fog_density = std::max(style.fog_density, static_cast<float>(rng.uniform(0.04, 0.12)));
}

EpisodeWorld make_world(const track::Circuit& circuit, const EpisodeConfig& config) {
  Rng style_rng(config.seed ^ 0x5717E5ull);
  const double timeout_s =
      config.timeout_s > 0 ? config.timeout_s : 1.1 * circuit.reference_lap_s() * config.laps;
  RenderStyle style = config.randomize_style ? random_style(style_rng) : config.style;
  if (config.weather) apply_weather(style, style_rng);
  return {circuit, config, style, static_cast<int64_t>(timeout_s * 1e6)};
}

// Everything a run changes as it steps, grouped by the step that writes it.
struct EpisodeState {
  EpisodeState(const EpisodeWorld& world, const Pose2& start, Clock::time_point wall_start)
      : wall_start(wall_start),
        pose(start),
        frame_pose(start),
        disturbance_rng(world.config.seed ^ 0xD157ull),
        trap_anchor(start.position),
        metrics(world.circuit, world.config.laps, start.position) {}

  Clock::time_point wall_start;  // wall clock at the start: realtime pacing, RunTiming
  int64_t t_us = 0;              // simulated time since the start, us

  // Physics.
  Pose2 pose;                          // the car now, world frame (m, rad)
  Command executing;                   // the command in effect (the car starts at rest)
  std::deque<PendingCommand> pending;  // answered commands not yet in effect, by effective_us
  bool in_contact = false;             // the car is against a wall
  double executed_w = 0.0;             // yaw rate of the last step, with any push, rad/s

  // Camera.
  Pose2 frame_pose;             // pose at the latest camera capture
  int64_t frame_index = -1;     // capture index (t / kCameraPeriodUs) of frame_pose
  int64_t rendered_index = -2;  // capture index of the frame in `frame`
  cv::Mat frame;                // the latest rendered frame, BGR height x width

  // Brain.
  Command last_command;           // the brain's latest answer (in effect after its latency)
  double last_latency_ms = 0.0;   // the latency the timing model gave it, ms
  int64_t next_brain_us = 0;      // when the next brain iteration starts, us
  int iteration = 0;              // brain iterations done
  std::vector<double> brain_ms;   // the brain's own inference time per iteration, wall ms
  std::vector<double> render_ms;  // time per rendered frame, wall ms

  // Disturbances (recovery segments).
  Rng disturbance_rng;             // draws each push's strength and the time to the next
  int64_t disturbance_until = -1;  // the current push lasts until here, us
  int64_t next_disturbance = -1;   // the next push starts here, us; -1: none
  double disturbance_w = 0.0;      // yaw rate the current push adds, rad/s

  // Failure checks.
  Vec2 trap_anchor;                        // position at the last trap check, m
  int64_t next_trap_check = kTrapCheckUs;  // time of the next trap check, us
  bool trapped = false;                    // moved < kTrapDistanceM between two checks
  bool timed_out = false;                  // the clock reached world.timeout_us

  MetricsAccumulator metrics;
  std::vector<TrajectorySample> trajectory;  // one per camera frame, when recorded
};

// The seeded start, or the circuit's own.
Pose2 start_pose(const track::Circuit& circuit, const EpisodeConfig& config, Rng& rng) {
  return config.random_start ? track::random_start(circuit, rng, config.perturbation)
                             : circuit.start_pose();
}

// The first push comes after 0.5..1.5 mean intervals, drawn from the start's generator.
void schedule_first_disturbance(const Disturbance& disturbance, Rng& rng, EpisodeState& s) {
  if (disturbance.mean_interval_s > 0) {
    s.next_disturbance =
        static_cast<int64_t>(rng.uniform(0.5, 1.5) * disturbance.mean_interval_s * 1e6);
  }
}

// The camera captures the car's pose every kCameraPeriodUs; it is rendered only when read.
// The trajectory, when recorded, is sampled at the same instants.
void capture_camera(const EpisodeWorld& world, EpisodeState& s) {
  if (s.t_us % kCameraPeriodUs != 0) return;
  s.frame_pose = s.pose;
  s.frame_index = s.t_us / kCameraPeriodUs;
  if (world.config.record_trajectory) {
    s.trajectory.push_back({.t_s = static_cast<double>(s.t_us) * 1e-6,
                            .x_m = s.pose.position.x,
                            .y_m = s.pose.position.y,
                            .heading_rad = s.pose.yaw,
                            .s_m = s.metrics.arc_length(),
                            .lateral_m = world.circuit.project(s.pose.position).lateral,
                            .v_cmd_mps = s.last_command.v,
                            .w_cmd_radps = s.last_command.w,
                            .v_mps = s.in_contact ? 0.0 : s.executing.v,
                            .w_radps = s.in_contact ? 0.0 : s.executed_w,
                            .latency_ms = s.last_latency_ms});
  }
}

void render_if_stale(const EpisodeWorld& world, Renderer& renderer, EpisodeState& s) {
  if (s.rendered_index == s.frame_index) return;
  const auto r0 = Clock::now();
  renderer.render(s.frame_pose, world.style,
                  world.config.seed * 1'000'003ull + static_cast<uint64_t>(s.frame_index), s.frame);
  s.render_ms.push_back(elapsed_ms(r0));
  s.rendered_index = s.frame_index;
}

IterationView make_view(const EpisodeWorld& world, const EpisodeState& s, const Command& command) {
  IterationView view;
  view.iteration = s.iteration;
  view.t_us = s.t_us;
  view.frame = &s.frame;
  view.command = command;
  view.pose = s.pose;
  view.speed_mps = s.executing.v;
  view.progress = s.metrics.progress_fraction();
  view.lateral_m = world.circuit.project(s.pose.position).lateral;
  return view;
}

// One brain iteration: it reads the latest frame, its command is queued to take effect after
// the timing model's latency, and the next iteration waits max(brain cycle, latency).
// Returns false when the observer ends the run.
bool brain_iteration(const EpisodeWorld& world, Renderer& renderer, Brain& brain,
                     EpisodeObserver* observer, EpisodeState& s) {
  const TimingModel& timing = world.config.timing;
  render_if_stale(world, renderer, s);
  const auto b0 = Clock::now();
  const Command command = brain.act(s.frame);
  const double iteration_ms = elapsed_ms(b0);
  const double inference_ms = brain.last_inference_ms();
  s.brain_ms.push_back(inference_ms);
  const int64_t latency = timing.kind == TimingModel::Kind::kRealtime
                              ? static_cast<int64_t>(std::llround(iteration_ms * 1000.0))
                              : timing.latency_us(inference_ms);
  s.pending.push_back({s.t_us + latency, command});
  s.last_command = command;
  s.last_latency_ms = static_cast<double>(latency) / 1000.0;
  s.metrics.on_brain(command, static_cast<double>(latency) / 1000.0);
  s.next_brain_us = s.t_us + std::max(kBrainCycleUs, latency);
  if (observer != nullptr && !observer->on_iteration(make_view(world, s, command))) return false;
  ++s.iteration;
  if (timing.kind == TimingModel::Kind::kRealtime) {
    // Pace the simulation to the wall clock.
    std::this_thread::sleep_until(s.wall_start + std::chrono::microseconds(s.t_us));
  }
  return true;
}

// Commands whose latency has passed take effect, in the order they were answered.
void apply_due_commands(EpisodeState& s) {
  while (!s.pending.empty() && s.pending.front().effective_us <= s.t_us) {
    s.executing = s.pending.front().command;
    s.pending.pop_front();
  }
}

// The yaw rate the car executes: the command's, plus a push while one lasts. Starts the next
// push when it is due.
double disturbed_w(const Disturbance& disturbance, EpisodeState& s) {
  double w = s.executing.w;
  if (s.next_disturbance >= 0 && s.t_us >= s.next_disturbance) {
    s.disturbance_w = s.disturbance_rng.uniform(-disturbance.max_w, disturbance.max_w);
    s.disturbance_until = s.t_us + static_cast<int64_t>(disturbance.duration_s * 1e6);
    s.next_disturbance = s.t_us + static_cast<int64_t>(s.disturbance_rng.uniform(0.5, 1.5) *
                                                       disturbance.mean_interval_s * 1e6);
  }
  if (s.t_us < s.disturbance_until) w += s.disturbance_w;
  return w;
}

// One physics step of physics_step_us: the car moves along its arc unless that would touch a
// wall, and the clock advances. Returns the laps completed so far.
int step_physics(const EpisodeWorld& world, EpisodeState& s) {
  const EpisodeConfig& config = world.config;
  const int64_t dt = config.physics_step_us;
  apply_due_commands(s);
  const double w = disturbed_w(config.disturbance, s);
  s.executed_w = w;
  const Pose2 next = integrate_pose(s.pose, s.executing.v, w, static_cast<double>(dt) * 1e-6);
  if (touches_wall(world.circuit, next, config.vehicle)) {
    // Against the wall the car stops; a command that turns it free moves it again.
    if (!s.in_contact) s.metrics.on_wall_contact();
    s.in_contact = true;
  } else {
    s.in_contact = false;
    s.pose = next;
  }
  s.t_us += dt;
  return s.metrics.on_step(s.pose, s.t_us, dt);
}

// Trapped: moved less than kTrapDistanceM since the last check. Timed out: past the limit.
void check_failures(const EpisodeWorld& world, EpisodeState& s) {
  if (s.t_us >= s.next_trap_check) {
    if (distance(s.pose.position, s.trap_anchor) < kTrapDistanceM) {
      s.trapped = true;
    }
    s.trap_anchor = s.pose.position;
    s.next_trap_check += kTrapCheckUs;
  }
  if (s.t_us >= world.timeout_us) {
    s.timed_out = true;
  }
}

RunMetrics finish_metrics(const EpisodeWorld& world, const Brain& brain, const EpisodeState& s) {
  const EpisodeConfig& config = world.config;
  RunMetrics m = s.metrics.finish(s.t_us);
  m.trapped = s.trapped;
  m.timed_out = s.timed_out;
  m.termination = s.timed_out ? "timeout" : s.trapped ? "trapped" : "completed";
  if (m.completed_laps < config.laps && m.termination == "completed") m.termination = "stopped";
  m.circuit = world.circuit.name();
  m.direction = std::string(track::to_string(world.circuit.direction()));
  m.brain = brain.name();
  m.seed = config.seed;
  m.timing = config.timing.describe();
  score_run(m);
  return m;
}

RunTiming finish_timing(const EpisodeState& s, double sim_time_s) {
  RunTiming timing;
  timing.wall_time_s = std::chrono::duration<double>(Clock::now() - s.wall_start).count();
  timing.real_time_factor = timing.wall_time_s > 0 ? sim_time_s / timing.wall_time_s : 0.0;
  timing.frames_rendered = static_cast<int64_t>(s.render_ms.size());
  timing.render_ms_mean = mean(s.render_ms);
  timing.brain_ms_p50 = percentile(s.brain_ms, 50);
  timing.brain_ms_p99 = percentile(s.brain_ms, 99);
  return timing;
}

}  // namespace

EpisodeResult run_episode(const track::Circuit& circuit, Renderer& renderer, sim::Brain& brain,
                          const EpisodeConfig& config, EpisodeObserver* observer) {
  const auto wall_start = Clock::now();
  Rng rng(config.seed);
  const Pose2 start = start_pose(circuit, config, rng);
  const EpisodeWorld world = make_world(circuit, config);
  brain.reset();
  EpisodeState s(world, start, wall_start);
  schedule_first_disturbance(config.disturbance, rng, s);

  while (!s.trapped && !s.timed_out) {
    capture_camera(world, s);
    if (s.t_us >= s.next_brain_us && !brain_iteration(world, renderer, brain, observer, s)) break;
    if (step_physics(world, s) >= config.laps) break;
    check_failures(world, s);
  }

  EpisodeResult result;
  result.start = start;
  result.metrics = finish_metrics(world, brain, s);
  result.timing = finish_timing(s, result.metrics.sim_time_s);
  result.trajectory = std::move(s.trajectory);
  return result;
}

}  // namespace pitlane::sim
