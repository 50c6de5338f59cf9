#include "pitlane/study/report.h"

#include <algorithm>
#include <map>
#include <tuple>

#include "pitlane/core/table.h"

namespace pitlane::study {
namespace {

using Json = nlohmann::ordered_json;

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
    double fraction = 0, speed = 0, dev = 0, dev_max = 0, bm = 0, hz = 0, inf = 0;
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
    }
    out.push_back({{"circuit", std::get<0>(k)},
                   {"model", std::get<1>(k)},
                   {"slowdown", std::get<2>(k)},
                   {"direction", std::get<3>(k)},
                   {"runs", g.size()},
                   {"completed_runs", completed},
                   {"completed_fraction_mean", fraction},
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

}  // namespace

Json build_results(const StudyConfig& config, const StudyStages& stages, const Json& wall_clock) {
  Json r;
  r["study"] = config.name;
  r["config"] = to_json(config);

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

  // One table per circuit, in the order the circuits were driven.
  std::vector<std::string> circuits;
  for (const auto& s : results["closed_loop_summary"]) {
    if (std::find(circuits.begin(), circuits.end(), s["circuit"]) == circuits.end()) {
      circuits.push_back(s["circuit"]);
    }
  }
  for (const auto& circuit : circuits) {
    Table t({"model", "device", "dir", "completed", "progress %", "avg speed m/s", "deviation m",
             "max dev m", "BM score", "Hz", "inference ms", "wall contacts"});
    for (const auto& s : results["closed_loop_summary"]) {
      if (s["circuit"] != circuit) continue;
      t.add({s["model"], slowdown_label(s["slowdown"]), s["direction"],
             std::to_string(s["completed_runs"].get<int>()) + "/" +
                 std::to_string(s["runs"].get<int>()),
             format_fixed(100 * s["completed_fraction_mean"].get<double>(), 1),
             format_fixed(s["average_speed_mps"], 2), format_fixed(s["deviation_mean_m"], 3),
             format_fixed(s["deviation_max_m"], 2), format_fixed(s["bm_deviation_score"], 2),
             format_fixed(s["brain_hz"], 1), format_fixed(s["inference_ms"], 2),
             std::to_string(s["wall_contacts"].get<int>())});
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
      "BehaviorMetrics' mean of 1000^d.\n\n";
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
