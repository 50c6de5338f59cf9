// The accuracy-controlled search of the auto recipe: the fastest precision assignment that still
// drives, judged by the driving score on paired, seeded episodes.
//
// Nothing here touches a model, the runtime or the simulator: a candidate is an Assignment (one
// precision per quantizable layer) and SearchHooks answer what a candidate scores, how far its
// output is from fp32 and how fast it runs. autotune.h plugs the real ones in (quantized models
// on pitlane's runtime, drives in the simulator); tests plug in fakes.
//
//   1. offline: each layer alone int8, its output's error against fp32 on calibration frames;
//   2. closed loop: fp32 on every episode of the drive set; each layer alone int8 on the first
//      `sensitivity_episodes` of them (the driving score it loses against fp32, pair by pair);
//   3. layers ranked most harmful first: completions lost, score lost, deviation added, then
//      the offline output error;
//   4. start from every layer int8 (the fastest candidate) and return the next most harmful
//      layer to fp32 until a candidate is not worse than fp32 at the confidence (one-sided
//      paired t test, worse_one_sided) and completes every episode fp32 completes.
//
// Every drive counts against the budget (episodes x laps; an assignment's episode is driven at
// most once). A step that the remaining budget cannot pay for, or a candidate that is not
// faster than fp32 by min_speedup, ends the search with fp32 (always "not worse than fp32").
//
//   SearchResult r = search(plan, hooks);
//   r.chosen;   // one Precision per layer
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "pitlane/core/stats.h"

namespace pitlane::autotune {

enum class Precision { int8, fp32 };
const char* precision_name(Precision p);  // "int8" | "fp32"

// One precision per quantizable layer, in graph order.
using Assignment = std::vector<Precision>;
// "I" per int8 layer and "F" per fp32 layer, in order: "IIFII...".
std::string assignment_code(const Assignment& a);

// One paired, seeded closed-loop episode: every candidate drives exactly this.
struct Episode {
  std::string circuit;    // built-in name, generated:SEED or CSV path
  std::string direction;  // "cw" | "ccw"
  int repetition = 0;     // 0: the nominal start and look; later ones perturbed
  uint64_t seed = 0;
};

// What one drive of one episode gave.
struct EpisodeResult {
  double score = 0.0;             // driving score pitlane-ds/1, 0..100
  bool completed = false;         // the requested laps, without a trap or timeout
  double completed_fraction = 0;  // of the requested laps
  double deviation_mean_m = 0.0;  // from the centre line
};

// A candidate's output against fp32's on the calibration frames (the network's outputs).
struct OutputError {
  double sqnr_db = 0.0;        // 10 log10(sum x^2 / sum (x - y)^2); 200 when identical
  double mse = 0.0;            // mean of (x - y)^2 over every output of every frame
  double steering_mse = 0.0;   // the same over the steering output (w) alone
  double layer_sqnr_db = 0.0;  // single-layer candidates: at the layer's own result; else 0
};

// A candidate's latency and fp32's, measured in the same interleaved rounds on the target
// backend (wall clock: reported, never part of the deterministic log).
struct LatencyComparison {
  double median_us = 0.0;
  double fp32_median_us = 0.0;
  double p90_us = 0.0;
};

struct SearchHooks {
  // Drives `a` on the episodes with these indices into SearchPlan::episodes; one result per
  // index, in order.
  std::function<std::vector<EpisodeResult>(const Assignment& a, const std::vector<int>& episodes)>
      drive;
  std::function<OutputError(const Assignment& a)> offline;
  std::function<LatencyComparison(const Assignment& a)> latency;
};

struct SearchPlan {
  std::vector<std::string> layers;  // quantizable layers, graph order
  std::vector<Episode> episodes;    // the drive set (nominal episodes first)
  int sensitivity_episodes = 0;     // the first N episodes rank layers in closed loop (0: none)
  int laps = 1;                     // per episode
  int budget_laps = 200;            // every drive of every phase, episodes x laps
  double confidence = 0.95;         // of the one-sided "worse than fp32" test
  double margin = 0.0;              // score points a candidate may lose before it is worse
  double min_speedup = 1.1;         // fp32 median / candidate median needed to keep int8
};

// The minimum budget a plan needs: fp32 and the all-int8 candidate on every episode, and each
// layer on the sensitivity episodes.
int required_laps(const SearchPlan& plan);

struct LayerSensitivity {
  std::string layer;
  OutputError offline;  // only this layer int8
  // Closed loop, on the sensitivity episodes (zeros when there are none).
  double score_drop = 0.0;             // mean of fp32 score - this score, pair by pair
  int completions_lost = 0;            // episodes fp32 completes and this one does not
  double deviation_increase_m = 0.0;   // mean of this deviation - fp32's
  std::vector<EpisodeResult> results;  // per sensitivity episode
  int rank = 0;                        // 1 = returned to fp32 first
};

struct Step {
  int index = 0;  // 0: every layer int8
  Assignment assignment;
  std::string returned_layer;  // the layer this step returned to fp32 ("" for step 0)
  OutputError offline;
  LatencyComparison latency;           // wall clock
  bool faster = false;                 // fp32 median >= min_speedup x this median
  bool driven = false;                 // false: ended before driving (not faster, or no budget)
  std::vector<EpisodeResult> results;  // per episode, when driven
  Interval score;                      // mean driving score and its two-sided interval
  PairedComparison vs_fp32;            // score - fp32's, pair by pair
  bool worse = false;                  // worse_one_sided at the plan's confidence and margin
  int completions_lost = 0;            // episodes fp32 completes and this one does not
  bool accepted = false;
  std::string decision;  // one line: why this step was accepted, or what comes next
  int laps_used = 0;     // budget spent after this step, all phases
};

struct Correlation {
  std::string offline;      // "output_sqnr_db", "output_mse", "steering_mse", "layer_sqnr_db"
  std::string closed_loop;  // "score_drop", "deviation_increase_m"
  std::optional<double> spearman;  // nullopt: a side without variation (all ties)
};

struct SearchResult {
  // "accepted": a quantized candidate drives as fp32; "budget": the next step did not fit the
  // budget; "not_faster": the candidate that would be next was not faster than fp32;
  // "all_fp32": every layer had to return to fp32. Every status but "accepted" chooses fp32.
  std::string status;
  Assignment chosen;
  std::vector<LayerSensitivity> layers;  // graph order
  std::vector<EpisodeResult> fp32;       // per episode
  Interval fp32_score;
  std::vector<Step> steps;
  std::vector<Correlation> correlations;  // over the layers (offline vs closed loop)
  int laps_used = 0;
  std::string summary;  // one paragraph: what was chosen and why
};

// InputError (one line, naming the option to change) when the plan is malformed (no layers, no
// episodes, more sensitivity episodes than episodes, confidence outside (0.5, 1), ...) or its
// budget is below required_laps().
void check_plan(const SearchPlan& plan);

// check_plan's InputError when the plan is malformed (no layers, no episodes, more sensitivity
// episodes than episodes, confidence outside (0.5, 1), ...) or its budget is below required_laps().
SearchResult search(const SearchPlan& plan, const SearchHooks& hooks);

// Spearman's rank correlation of x and y (average ranks for ties; the Pearson correlation of the
// ranks). nullopt with fewer than two values or when either side is constant.
std::optional<double> spearman(const std::vector<double>& x, const std::vector<double>& y);
// 1-based ranks, ties sharing the average of their positions: {10, 20, 20, 5} -> {2, 3.5, 3.5, 1}.
std::vector<double> average_ranks(const std::vector<double>& v);

}  // namespace pitlane::autotune
