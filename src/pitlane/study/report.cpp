#include "pitlane/study/report.h"

#include <algorithm>
#include <map>
#include <tuple>

#include "pitlane/core/stats.h"
#include "pitlane/core/table.h"
#include "pitlane/sim/metrics.h"

namespace pitlane::study {
namespace {

using Json = nlohmann::ordered_json;

constexpr double kConfidence = 0.95;  // of every interval and verdict in the results

double mb(const Json& bytes) {
  return bytes.get<double>() / 1e6;
}

std::string slowdown_label(double f) {
  if (f == 1.0) return "x1";
  return "x" + format_fixed(f, f == static_cast<int>(f) ? 0 : 1);
}

// Closed-loop runs grouped per circuit, then per (model, slowdown, direction), in run order.
Json summarize_runs(const std::vector<DriveRun>& runs) {
  using Key = std::tuple<std::string, std::string, double, std::string>;
  std::vector<Key> order;
  std::map<Key, std::vector<const DriveRun*>> groups;
  for (const auto& r : runs) {
    const Key k{r.circuit, r.model, r.slowdown, r.direction};
    if (!groups.count(k)) order.push_back(k);
    groups[k].push_back(&r);
  }
  Json out = Json::array();
  for (const auto& k : order) {
    const auto& g = groups[k];
    double n = static_cast<double>(g.size());
    int completed = 0, contacts = 0;
    double fraction = 0, speed = 0, dev = 0, dev_max = 0, bm = 0, hz = 0, inf = 0, ds = 0;
    for (const DriveRun* r : g) {
      const Json& m = r->metrics;  // sim::to_json(RunMetrics)
      completed += m["termination"] == "completed" ? 1 : 0;
      contacts += m["wall_contacts"].get<int>();
      fraction += m["completed_fraction"].get<double>() / n;
      speed += m["average_speed_mps"].get<double>() / n;
      dev += m["deviation_mean_m"].get<double>() / n;
      dev_max = std::max(dev_max, m["deviation_max_m"].get<double>());
      bm += m["bm_deviation_score"].get<double>() / n;
      hz += m["brain_hz"].get<double>() / n;
      inf += m["inference_ms_p50"].get<double>() / n;
      ds += m["driving_score"].get<double>() / n;
    }
    out.push_back({{"circuit", std::get<0>(k)},
                   {"model", std::get<1>(k)},
                   {"slowdown", std::get<2>(k)},
                   {"direction", std::get<3>(k)},
                   {"runs", g.size()},
                   {"completed_runs", completed},
                   {"completed_fraction_mean", fraction},
                   {"driving_score", ds},
                   {"average_speed_mps", speed},
                   {"deviation_mean_m", dev},
                   {"deviation_max_m", dev_max},
                   {"bm_deviation_score", bm},
                   {"brain_hz", hz},
                   {"inference_ms", inf},
                   {"wall_contacts", contacts}});
  }
  return out;
}

Json interval_json(const Interval& i) {
  return {{"estimate", i.estimate}, {"low", i.low}, {"high", i.high}};
}

// One verdict row per (model, device) over every circuit, direction and repetition: each
// metric's mean with its 95% t interval, the completion rate with its Wilson interval, and the
// driving score paired with the baseline's on the same episodes (same circuit, direction,
// repetition and device: the same seeds).
Json verdicts(const std::vector<DriveRun>& runs) {
  using Episode = std::tuple<std::string, std::string, int>;  // circuit, direction, repetition
  using Variant = std::pair<std::string, double>;             // model, slowdown
  std::vector<Variant> order;
  std::map<Variant, std::map<Episode, const Json*>> episodes;
  for (const auto& r : runs) {
    const Variant v{r.model, r.slowdown};
    if (!episodes.count(v)) order.push_back(v);
    episodes[v][{r.circuit, r.direction, r.repetition}] = &r.metrics;
  }
  // Each metric with its natural range: a t interval over few episodes can reach past it.
  struct Metric {
    const char* name;
    double low, high;
  };
  constexpr double kUnbounded = 1e300;
  const Metric metrics[] = {{"driving_score", 0, 100},
                            {"completed_fraction", 0, 1},
                            {"average_speed_mps", 0, kUnbounded},
                            {"deviation_mean_m", 0, kUnbounded},
                            {"infractions_per_km", 0, kUnbounded},
                            {"suddenness", 0, kUnbounded},
                            {"brain_hz", 0, kUnbounded}};
  Json out = Json::array();
  for (const Variant& v : order) {
    const auto& mine = episodes[v];
    Json row = {{"model", v.first}, {"slowdown", v.second}, {"episodes", mine.size()}};
    int completed = 0;
    for (const auto& [episode, m] : mine) completed += m->at("termination") == "completed";
    row["completed"] = completed;
    row["completion"] =
        interval_json(wilson_interval(completed, static_cast<int>(mine.size()), kConfidence));
    for (const Metric& metric : metrics) {
      std::vector<double> values;
      for (const auto& [episode, m] : mine) values.push_back(m->at(metric.name).get<double>());
      Interval i = mean_interval(values, kConfidence);
      i.low = std::max(i.low, metric.low);
      i.high = std::min(i.high, metric.high);
      row[metric.name] = interval_json(i);
    }
    const Variant base{"baseline", v.second};
    if (v.first != "baseline" && episodes.count(base)) {
      std::vector<double> a, b;
      for (const auto& [episode, m] : mine) {
        const auto it = episodes[base].find(episode);
        if (it == episodes[base].end()) continue;
        a.push_back(m->at("driving_score").get<double>());
        b.push_back(it->second->at("driving_score").get<double>());
      }
      if (!a.empty()) {
        const PairedComparison c = compare_paired(a, b, kConfidence);
        row["vs_baseline"] = {{"metric", "driving_score"},
                              {"pairs", a.size()},
                              {"difference", interval_json(c.difference)},
                              {"verdict", verdict_name(c.verdict)}};
      }
    }
    out.push_back(row);
  }
  return out;
}

}  // namespace

Json build_results(const StudyConfig& config, const StudyStages& stages, const Json& wall_clock) {
  return build_results(config.name, to_json(config), stages, wall_clock);
}

Json build_results(const std::string& study, const Json& config, const StudyStages& stages,
                   const Json& wall_clock) {
  Json r;
  r["study"] = study;
  r["config"] = config;

  // Training: the baseline's own run and each DAgger round, without file lists.
  Json training;
  Json base = to_json(stages.train);
  base.erase("files");
  training["initial"] = base;
  Json rounds = Json::array();
  for (const auto& round : stages.dagger.rounds) rounds.push_back(to_json(round));
  training["dagger_rounds"] = rounds;
  training["baseline_model"] = stages.dagger.model;
  r["training"] = training;

  // Offline: evaluation joined with the benchmarked latency.
  std::map<std::string, const LatencyRow*> latency;
  for (const auto& row : stages.benchmark.latency) latency[row.model] = &row;
  Json offline = Json::array();
  for (const auto& evaluated : stages.evaluate.offline) {
    Json row = to_json(evaluated);
    if (latency.count(evaluated.model)) {
      const Json l = to_json(*latency[evaluated.model]);
      row["latency_ms"] = l["latency_ms"];
      row["wall_clock"]["latency"] = l["wall_clock"];
    }
    offline.push_back(row);
  }
  r["offline"] = offline;
  if (latency.count("expert")) r["expert_latency"] = to_json(*latency["expert"]);

  Json runs = Json::array();
  for (const auto& run : stages.drive.runs) runs.push_back(to_json(run));
  r["closed_loop"] = runs;
  r["closed_loop_summary"] = summarize_runs(stages.drive.runs);
  r["metric_version"] = sim::kDrivingScoreVersion;
  r["confidence"] = kConfidence;
  r["closed_loop_verdicts"] = verdicts(stages.drive.runs);

  Json wall = wall_clock;
  for (const auto& [name, stage_s] :
       std::vector<std::pair<std::string, double>>{{"record", stages.record.stage_s},
                                                   {"train", stages.train.stage_s},
                                                   {"dagger", stages.dagger.stage_s},
                                                   {"optimize", stages.optimize.stage_s},
                                                   {"evaluate", stages.evaluate.stage_s},
                                                   {"benchmark", stages.benchmark.stage_s},
                                                   {"drive", stages.drive.stage_s}}) {
    wall["stage_s"][name] = stage_s;
  }
  r["wall_clock"] = wall;
  return r;
}

std::string results_tables(const Json& results, bool markdown) {
  auto render = [&](const Table& t) { return markdown ? t.render_markdown() : t.render(); };
  std::string out;
  out += markdown ? "## Offline (test recordings)\n\n" : "Offline (test recordings)\n";
  Table off({"model", "recipe", "size MB", "gzip MB", "MSE", "MAE", "MAE w rad/s",
             "latency ms (median)", "p99 ms", "fixed latency ms"});
  for (const auto& row : results["offline"]) {
    const Json lat = row["wall_clock"].value("latency", Json::object());
    off.add({row["model"], row["recipe"], format_fixed(mb(row["bytes"]), 2),
             format_fixed(mb(row["gzip_bytes"]), 2), format_fixed(row["mse"], 5),
             format_fixed(row["mae"], 4), format_fixed(row["mae_w_radps"], 3),
             lat.contains("median_ms") ? format_fixed(lat["median_ms"], 3) : "-",
             lat.contains("p99_ms") ? format_fixed(lat["p99_ms"], 3) : "-",
             row.contains("latency_ms") ? format_fixed(row["latency_ms"], 2) : "-"});
  }
  out += render(off);

  // The verdicts: every variant over all its episodes, against the baseline on the same seeds.
  if (results.contains("closed_loop_verdicts") && !results["closed_loop_verdicts"].empty()) {
    out += markdown ? "\n## Closed loop: verdicts (" : "\nClosed loop: verdicts (";
    out += results["metric_version"].get<std::string>() + ", mean [95% CI])\n" +
           std::string(markdown ? "\n" : "");
    Table v({"model", "device", "completed", "driving score", "vs baseline", "verdict",
             "avg speed m/s", "deviation m", "infractions/km"});
    auto ci = [](const Json& i, int decimals) {
      return format_fixed(i["estimate"], decimals) + " [" + format_fixed(i["low"], decimals) +
             ", " + format_fixed(i["high"], decimals) + "]";
    };
    for (const auto& row : results["closed_loop_verdicts"]) {
      const bool paired = row.contains("vs_baseline");
      v.add({row["model"], slowdown_label(row["slowdown"]),
             std::to_string(row["completed"].get<int>()) + "/" +
                 std::to_string(row["episodes"].get<int>()),
             ci(row["driving_score"], 1), paired ? ci(row["vs_baseline"]["difference"], 1) : "-",
             paired ? row["vs_baseline"]["verdict"].get<std::string>() : "-",
             ci(row["average_speed_mps"], 2), ci(row["deviation_mean_m"], 3),
             ci(row["infractions_per_km"], 2)});
    }
    out += render(v);
  }

  // One table per circuit, in the order the circuits were driven.
  std::vector<std::string> circuits;
  for (const auto& s : results["closed_loop_summary"]) {
    if (std::find(circuits.begin(), circuits.end(), s["circuit"]) == circuits.end()) {
      circuits.push_back(s["circuit"]);
    }
  }
  for (const auto& circuit : circuits) {
    Table t({"model", "device", "dir", "completed", "progress %", "score", "avg speed m/s",
             "deviation m", "max dev m", "BM score", "Hz", "inference ms", "wall contacts"});
    for (const auto& s : results["closed_loop_summary"]) {
      if (s["circuit"] != circuit) continue;
      t.add({s["model"], slowdown_label(s["slowdown"]), s["direction"],
             std::to_string(s["completed_runs"].get<int>()) + "/" +
                 std::to_string(s["runs"].get<int>()),
             format_fixed(100 * s["completed_fraction_mean"].get<double>(), 1),
             format_fixed(s["driving_score"], 1), format_fixed(s["average_speed_mps"], 2),
             format_fixed(s["deviation_mean_m"], 3), format_fixed(s["deviation_max_m"], 2),
             format_fixed(s["bm_deviation_score"], 2), format_fixed(s["brain_hz"], 1),
             format_fixed(s["inference_ms"], 2), std::to_string(s["wall_contacts"].get<int>())});
    }
    out += (markdown ? "\n## Closed loop: " : "\nClosed loop: ") + circuit + "\n" +
           (markdown ? "\n" : "") + render(t);
  }
  return out;
}

std::string results_markdown(const Json& results) {
  std::string md = "# Study " + results["study"].get<std::string>() + "\n\n";
  md +=
      "Models trained on the training circuits only, evaluated offline on recordings of the test "
      "circuits and driven in closed loop on them. `device` x1 drives with each model's "
      "benchmarked latency; xN emulates a device N times slower. `completed` counts runs that "
      "finished their laps; deviation is the mean distance to the centre line; BM score is "
      "BehaviorMetrics' mean of 1000^d. The driving score (pitlane-ds/1, docs/simulator.md) is "
      "route completion x on-road share x infraction penalties, 0..100. Every model drives the "
      "same seeded episodes (repetition 0 nominal, later ones perturbed), so each variant is "
      "compared with the baseline pair by pair: the verdict is worse or better when the 95% "
      "interval of the mean difference excludes zero, equal otherwise.\n\n";
  md += results_tables(results, /*markdown=*/true);
  return md;
}

Json without_wall_clock(const Json& json) {
  if (json.is_object()) {
    Json out = Json::object();
    for (const auto& [k, v] : json.items()) {
      if (k != "wall_clock") out[k] = without_wall_clock(v);
    }
    return out;
  }
  if (json.is_array()) {
    Json out = Json::array();
    for (const auto& v : json) out.push_back(without_wall_clock(v));
    return out;
  }
  return json;
}

}  // namespace pitlane::study
