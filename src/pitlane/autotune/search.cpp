#include "pitlane/autotune/search.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <sstream>

#include "pitlane/core/error.h"
#include "pitlane/core/table.h"

namespace pitlane::autotune {
namespace {

// Drives each (assignment, episode) at most once and counts the laps every drive costs.
class Drives {
 public:
  Drives(const SearchPlan& plan, const SearchHooks& hooks) : plan_(plan), hooks_(hooks) {}

  // Laps that driving `a` on `episodes` would add (episodes driven before are free).
  int cost(const Assignment& a, const std::vector<int>& episodes) const {
    return static_cast<int>(missing(a, episodes).size()) * plan_.laps;
  }

  std::vector<EpisodeResult> drive(const Assignment& a, const std::vector<int>& episodes) {
    const std::vector<int> todo = missing(a, episodes);
    const std::string code = assignment_code(a);
    if (!todo.empty()) {
      const std::vector<EpisodeResult> got = hooks_.drive(a, todo);
      if (got.size() != todo.size())
        throw RunError("the drive hook returned " + std::to_string(got.size()) + " results for " +
                       std::to_string(todo.size()) + " episodes");
      for (size_t i = 0; i < todo.size(); ++i) cache_[{code, todo[i]}] = got[i];
      laps_used_ += static_cast<int>(todo.size()) * plan_.laps;
    }
    std::vector<EpisodeResult> out;
    for (int e : episodes) out.push_back(cache_.at({code, e}));
    return out;
  }

  int laps_used() const { return laps_used_; }

 private:
  std::vector<int> missing(const Assignment& a, const std::vector<int>& episodes) const {
    const std::string code = assignment_code(a);
    std::vector<int> out;
    for (int e : episodes)
      if (!cache_.count({code, e})) out.push_back(e);
    return out;
  }

  const SearchPlan& plan_;
  const SearchHooks& hooks_;
  std::map<std::pair<std::string, int>, EpisodeResult> cache_;
  int laps_used_ = 0;
};

std::vector<int> first(int n) {
  std::vector<int> v(static_cast<size_t>(n));
  std::iota(v.begin(), v.end(), 0);
  return v;
}

std::vector<double> scores(const std::vector<EpisodeResult>& r) {
  std::vector<double> s;
  for (const auto& e : r) s.push_back(e.score);
  return s;
}

// Episodes fp32 completes and the candidate does not.
int completions_lost(const std::vector<EpisodeResult>& candidate,
                     const std::vector<EpisodeResult>& fp32) {
  int lost = 0;
  for (size_t i = 0; i < candidate.size(); ++i)
    lost += fp32[i].completed && !candidate[i].completed;
  return lost;
}

std::string episode_name(const Episode& e) {
  return e.circuit + " " + e.direction + " r" + std::to_string(e.repetition);
}

std::string fixed(double v, int decimals) {
  return format_fixed(v, decimals);
}

std::string interval_text(const Interval& i, int decimals) {
  return fixed(i.estimate, decimals) + " [" + fixed(i.low, decimals) + ", " +
         fixed(i.high, decimals) + "]";
}

}  // namespace

void check_plan(const SearchPlan& plan) {
  if (plan.layers.empty()) throw InputError("the model has no layer to quantize");
  if (plan.episodes.empty()) throw InputError("the drive set is empty; give circuits to drive");
  const int episodes = static_cast<int>(plan.episodes.size());
  if (plan.sensitivity_episodes < 0 || plan.sensitivity_episodes > episodes)
    throw InputError("--sensitivity-episodes " + std::to_string(plan.sensitivity_episodes) +
                     " is outside 0.." + std::to_string(episodes) +
                     " (the drive set's episodes: circuits x directions x repetitions)");
  if (plan.laps < 1) throw InputError("--laps must be at least 1");
  if (!(plan.confidence > 0.5 && plan.confidence < 1.0))
    throw InputError("--confidence " + fixed(plan.confidence, 4) + " is outside (0.5, 1)");
  if (!(plan.margin >= 0.0 && plan.margin <= 100.0))
    throw InputError("--margin must be 0 to 100 driving-score points");
  if (!(plan.min_speedup >= 1.0 && std::isfinite(plan.min_speedup)))
    throw InputError("--min-speedup must be at least 1");
  const int need = required_laps(plan);
  if (plan.budget_laps < need)
    throw InputError(
        "--budget-laps " + std::to_string(plan.budget_laps) + " is below the " +
        std::to_string(need) + " laps the search needs at least (fp32 and every layer int8 on " +
        std::to_string(episodes) + " episodes, " + std::to_string(plan.layers.size()) +
        " layers alone on " + std::to_string(plan.sensitivity_episodes) + ", " +
        std::to_string(plan.laps) +
        " lap(s) each); raise --budget-laps or lower --repetitions or --sensitivity-episodes");
}

namespace {

// The offline error of each layer alone, and its closed-loop loss on the sensitivity episodes.
std::vector<LayerSensitivity> measure_layers(const SearchPlan& plan, const SearchHooks& hooks,
                                             Drives& drives,
                                             const std::vector<EpisodeResult>& fp32) {
  const size_t n = plan.layers.size();
  const std::vector<int> sens = first(plan.sensitivity_episodes);
  std::vector<LayerSensitivity> layers(n);
  for (size_t i = 0; i < n; ++i) {
    Assignment a(n, Precision::fp32);
    a[i] = Precision::int8;
    LayerSensitivity& l = layers[i];
    l.layer = plan.layers[i];
    l.offline = hooks.offline(a);
    if (sens.empty()) continue;
    l.results = drives.drive(a, sens);
    double drop = 0.0, dev = 0.0;
    for (size_t k = 0; k < sens.size(); ++k) {
      drop += fp32[k].score - l.results[k].score;
      dev += l.results[k].deviation_mean_m - fp32[k].deviation_mean_m;
    }
    l.score_drop = drop / static_cast<double>(sens.size());
    l.deviation_increase_m = dev / static_cast<double>(sens.size());
    l.completions_lost = completions_lost(
        l.results, std::vector<EpisodeResult>(fp32.begin(), fp32.begin() + sens.size()));
  }
  return layers;
}

// Layer indices, the most harmful first: completions lost, driving score lost (closed loop),
// then the output's offline error, then graph order.
std::vector<size_t> rank_layers(std::vector<LayerSensitivity>& layers) {
  std::vector<size_t> order(layers.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    const LayerSensitivity& x = layers[a];
    const LayerSensitivity& y = layers[b];
    if (x.completions_lost != y.completions_lost) return x.completions_lost > y.completions_lost;
    if (x.score_drop != y.score_drop) return x.score_drop > y.score_drop;
    return x.offline.mse > y.offline.mse;
  });
  for (size_t r = 0; r < order.size(); ++r) layers[order[r]].rank = static_cast<int>(r) + 1;
  return order;
}

// Why a layer is returned at its rank, in words.
std::string rank_reason(const LayerSensitivity& l, bool closed_loop) {
  std::string s = "rank " + std::to_string(l.rank) + ": ";
  if (closed_loop) {
    if (l.completions_lost > 0)
      s += "alone in int8 it loses " + std::to_string(l.completions_lost) + " completion(s), ";
    s += "score drop " + fixed(l.score_drop, 2) + " alone, ";
  }
  return s + "output MSE " + fixed(l.offline.mse * 1e6, 2) + "e-6 alone";
}

std::vector<Correlation> correlations(const std::vector<LayerSensitivity>& layers) {
  std::vector<double> sqnr, mse, steer, own, drop, dev;
  for (const auto& l : layers) {
    sqnr.push_back(-l.offline.sqnr_db);  // oriented: a lower SQNR is more damage
    mse.push_back(l.offline.mse);
    steer.push_back(l.offline.steering_mse);
    own.push_back(-l.offline.layer_sqnr_db);
    drop.push_back(l.score_drop);
    dev.push_back(l.deviation_increase_m);
  }
  std::vector<Correlation> out;
  const std::pair<const char*, const std::vector<double>*> offline[] = {{"output_sqnr_db", &sqnr},
                                                                        {"output_mse", &mse},
                                                                        {"steering_mse", &steer},
                                                                        {"layer_sqnr_db", &own}};
  const std::pair<const char*, const std::vector<double>*> closed[] = {
      {"score_drop", &drop}, {"deviation_increase_m", &dev}};
  for (const auto& [cn, cv] : closed)
    for (const auto& [on, ov] : offline) out.push_back({on, cn, spearman(*ov, *cv)});
  return out;
}

// Drives one candidate and judges it against fp32.
void judge(Step& st, const SearchPlan& plan, const std::vector<EpisodeResult>& fp32) {
  const std::vector<double> s = scores(st.results), f = scores(fp32);
  st.score = mean_interval(s, plan.confidence);
  st.vs_fp32 = compare_paired(s, f, plan.confidence);
  st.worse = worse_one_sided(s, f, plan.confidence, plan.margin);
  st.completions_lost = completions_lost(st.results, fp32);
  st.accepted = !st.worse && st.completions_lost == 0;
  const std::string conf = fixed(100 * plan.confidence, 0) + "%";
  const std::string diff = "score difference " + interval_text(st.vs_fp32.difference, 2);
  if (st.accepted) {
    st.decision = "accepted: " + diff + ", not worse than fp32 at " + conf +
                  " (one-sided paired t" +
                  (plan.margin > 0 ? ", margin " + fixed(plan.margin, 2) : std::string()) +
                  "), completes every episode fp32 completes";
    return;
  }
  std::string why;
  if (st.worse) why = "worse than fp32 at " + conf + " (one-sided paired t): " + diff;
  if (st.completions_lost > 0) {
    std::string which;
    for (size_t i = 0; i < st.results.size(); ++i)
      if (fp32[i].completed && !st.results[i].completed)
        which += (which.empty() ? "" : ", ") + episode_name(plan.episodes[i]) + " (" +
                 fixed(100 * st.results[i].completed_fraction, 0) + "%)";
    why += (why.empty() ? "" : "; ") + std::string("does not complete ") + which +
           ", which fp32 completes";
    if (!st.worse) why += " (" + diff + ")";
  }
  st.decision = "rejected: " + why;
}

std::string join_fp32(const std::vector<LayerSensitivity>& layers, const Assignment& a) {
  std::string s;
  for (size_t i = 0; i < a.size(); ++i)
    if (a[i] == Precision::fp32) s += (s.empty() ? "" : ", ") + layers[i].layer;
  return s.empty() ? "none" : s;
}

std::string summarize(const SearchResult& r, const SearchPlan& plan) {
  const size_t n = r.chosen.size();
  const auto int8 =
      static_cast<size_t>(std::count(r.chosen.begin(), r.chosen.end(), Precision::int8));
  std::string s;
  if (r.status == "accepted") {
    const Step& st = r.steps.back();
    s = std::to_string(int8) + " of " + std::to_string(n) +
        " layers int8 (fp32: " + join_fp32(r.layers, r.chosen) + "), step " +
        std::to_string(st.index) + ": driving score " + interval_text(st.score, 2) +
        " against fp32's " + interval_text(r.fp32_score, 2) + " on " +
        std::to_string(plan.episodes.size()) + " paired episodes; " + st.decision;
  } else if (r.status == "budget") {
    s = "fp32 kept: the next candidate did not fit the budget of " +
        std::to_string(plan.budget_laps) +
        " laps, and no quantized candidate was shown to drive "
        "as fp32 before";
  } else if (r.status == "not_faster") {
    s = "fp32 kept: the next candidate was not " + fixed(plan.min_speedup, 2) +
        "x faster than fp32, and returning more layers to fp32 would not make it faster";
  } else {
    s = "fp32 kept: every layer had to return to fp32";
  }
  return s + " (" + std::to_string(r.laps_used) + " of " + std::to_string(plan.budget_laps) +
         " laps driven)";
}

}  // namespace

const char* precision_name(Precision p) {
  return p == Precision::int8 ? "int8" : "fp32";
}

std::string assignment_code(const Assignment& a) {
  std::string s;
  for (Precision p : a) s += p == Precision::int8 ? 'I' : 'F';
  return s;
}

int required_laps(const SearchPlan& plan) {
  const int e = static_cast<int>(plan.episodes.size());
  return plan.laps * (2 * e + static_cast<int>(plan.layers.size()) * plan.sensitivity_episodes);
}

std::vector<double> average_ranks(const std::vector<double>& v) {
  std::vector<size_t> order(v.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return v[a] < v[b]; });
  std::vector<double> ranks(v.size());
  for (size_t i = 0; i < order.size();) {
    size_t j = i;
    while (j + 1 < order.size() && v[order[j + 1]] == v[order[i]]) ++j;
    const double r = (static_cast<double>(i) + static_cast<double>(j)) / 2.0 + 1.0;
    for (size_t k = i; k <= j; ++k) ranks[order[k]] = r;
    i = j + 1;
  }
  return ranks;
}

std::optional<double> spearman(const std::vector<double>& x, const std::vector<double>& y) {
  if (x.size() != y.size() || x.size() < 2) return std::nullopt;
  const std::vector<double> rx = average_ranks(x), ry = average_ranks(y);
  const double mx = mean(rx), my = mean(ry);
  double sxy = 0, sxx = 0, syy = 0;
  for (size_t i = 0; i < rx.size(); ++i) {
    sxy += (rx[i] - mx) * (ry[i] - my);
    sxx += (rx[i] - mx) * (rx[i] - mx);
    syy += (ry[i] - my) * (ry[i] - my);
  }
  if (sxx == 0 || syy == 0) return std::nullopt;
  return sxy / std::sqrt(sxx * syy);
}

SearchResult search(const SearchPlan& plan, const SearchHooks& hooks) {
  check_plan(plan);
  const size_t n = plan.layers.size();
  const std::vector<int> all = first(static_cast<int>(plan.episodes.size()));
  Drives drives(plan, hooks);
  SearchResult r;

  r.fp32 = drives.drive(Assignment(n, Precision::fp32), all);
  r.fp32_score = mean_interval(scores(r.fp32), plan.confidence);
  r.layers = measure_layers(plan, hooks, drives, r.fp32);
  const std::vector<size_t> order = rank_layers(r.layers);
  if (plan.sensitivity_episodes > 0) r.correlations = correlations(r.layers);

  Assignment a(n, Precision::int8);
  r.status = "all_fp32";
  for (size_t k = 0; k <= n; ++k) {
    if (k > 0) a[order[k - 1]] = Precision::fp32;
    if (k == n) break;  // every layer fp32: that is fp32 itself
    Step st;
    st.index = static_cast<int>(k);
    st.assignment = a;
    if (k > 0) st.returned_layer = r.layers[order[k - 1]].layer;
    st.offline = hooks.offline(a);
    st.latency = hooks.latency(a);
    st.faster = st.latency.fp32_median_us >= plan.min_speedup * st.latency.median_us;
    const std::string next =
        k + 1 < n ? "; next: return " + r.layers[order[k]].layer + " to fp32 (" +
                        rank_reason(r.layers[order[k]], plan.sensitivity_episodes > 0) + ")"
                  : "; returning the last int8 layer would leave fp32 itself: fp32 is chosen";
    if (!st.faster) {
      st.decision = "not driven: not " + fixed(plan.min_speedup, 2) +
                    "x faster than fp32 on the target; fp32 is chosen";
      st.laps_used = drives.laps_used();
      r.steps.push_back(st);
      r.status = "not_faster";
      break;
    }
    const int cost = drives.cost(a, all);
    if (drives.laps_used() + cost > plan.budget_laps) {
      st.decision = "not driven: its " + std::to_string(cost) + " laps exceed the budget left (" +
                    std::to_string(plan.budget_laps - drives.laps_used()) + " of " +
                    std::to_string(plan.budget_laps) + "); fp32 is chosen";
      st.laps_used = drives.laps_used();
      r.steps.push_back(st);
      r.status = "budget";
      break;
    }
    st.results = drives.drive(a, all);
    st.driven = true;
    judge(st, plan, r.fp32);
    st.laps_used = drives.laps_used();
    if (!st.accepted) st.decision += next;
    r.steps.push_back(st);
    if (st.accepted) {
      r.status = "accepted";
      break;
    }
  }
  r.chosen = r.status == "accepted" ? r.steps.back().assignment : Assignment(n, Precision::fp32);
  r.laps_used = drives.laps_used();
  r.summary = summarize(r, plan);
  return r;
}

}  // namespace pitlane::autotune
