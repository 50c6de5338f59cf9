#include "pitlane/report/run_data.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <tuple>

#include "pitlane/core/error.h"
#include "pitlane/core/files.h"
#include "pitlane/core/stats.h"
#include "pitlane/core/table.h"
#include "pitlane/report/pareto.h"
#include "pitlane/track/circuit.h"

namespace pitlane::report {
namespace {

namespace fs = std::filesystem;

// Rounded to 1/scale: the nearest double to a short decimal, which JSON prints short.
double rounded(double value, double scale) {
  return std::round(value * scale) / scale;
}

Json interval_json(const Interval& i) {
  return {{"estimate", i.estimate}, {"low", i.low}, {"high", i.high}};
}

double number_or(const Json& object, const char* key, double fallback) {
  if (!object.is_object() || !object.contains(key) || !object[key].is_number()) return fallback;
  return object[key].get<double>();
}

// The closed-loop runs grouped per (model, slowdown), in the order they first appear.
std::vector<std::vector<const Json*>> group_runs(const Json& runs) {
  std::vector<std::pair<std::string, double>> order;
  std::map<std::pair<std::string, double>, std::vector<const Json*>> groups;
  for (const auto& run : runs) {
    const std::pair<std::string, double> key{run.value("model", ""), run.value("slowdown", 1.0)};
    if (!groups.count(key)) order.push_back(key);
    groups[key].push_back(&run);
  }
  std::vector<std::vector<const Json*>> out;
  out.reserve(order.size());
  for (const auto& key : order) out.push_back(groups[key]);
  return out;
}

Json metric_interval(const std::vector<const Json*>& runs, const char* key) {
  std::vector<double> values;
  for (const Json* run : runs) {
    const Json& m = (*run)["metrics"];
    if (m.contains(key) && m[key].is_number()) values.push_back(m[key].get<double>());
  }
  if (values.size() != runs.size() || values.empty()) return nullptr;
  return interval_json(mean_interval(values, 0.95));
}

const Json* offline_row(const Json& results, const std::string& model) {
  for (const auto& row : results["offline"]) {
    if (row.value("model", "") == model) return &row;
  }
  return nullptr;
}

Json read_json_file(const fs::path& path) {
  std::ifstream in(path);
  return Json::parse(in);
}

}  // namespace

Json read_results(const fs::path& run_dir) {
  const fs::path path = run_dir / "results.json";
  if (!fs::is_regular_file(path)) {
    throw InputError(path.string() +
                     ": not found; name a study's run folder (runs/NAME) once `pitlane study` "
                     "has finished");
  }
  Json results;
  try {
    results = Json::parse(read_file(path));
  } catch (const nlohmann::json::exception& e) {
    throw InputError(path.string() + ": not valid JSON (" + e.what() +
                     "); rerun the study (pitlane study CONFIG) to write it again");
  }
  for (const char* key : {"study", "config", "offline", "closed_loop"}) {
    const bool ok =
        results.is_object() && results.contains(key) &&
        (std::string(key) == "study" || std::string(key) == "config" || results[key].is_array());
    if (!ok) {
      throw InputError(path.string() + ": has no '" + key +
                       "' (not a results file of pitlane study?); rerun the study to write it");
    }
  }
  return results;
}

std::string metric_version(const Json& results) {
  if (results.contains("metric_version") && results["metric_version"].is_string())
    return results["metric_version"];
  for (const auto& run : results["closed_loop"]) {
    const Json& m = run.value("metrics", Json::object());
    if (m.contains("driving_score_version")) return m["driving_score_version"];
  }
  return "unknown";
}

Json offline_table(const Json& results) {
  Json rows = Json::array();
  for (const auto& r : results["offline"]) {
    Json row = {{"model", r.value("model", "")},
                {"recipe", r.value("recipe", "")},
                {"bytes", r.value("bytes", Json())},
                {"gzip_bytes", r.value("gzip_bytes", Json())},
                {"mse", r.value("mse", Json())},
                {"mae", r.value("mae", Json())},
                {"mae_w_radps", r.value("mae_w_radps", Json())},
                {"latency_ms", r.value("latency_ms", Json())}};
    const Json wall = r.value("wall_clock", Json::object());
    row["latency"] = wall.value("latency", Json());
    rows.push_back(row);
  }
  return rows;
}

Json closed_loop_table(const Json& results) {
  if (results.contains("closed_loop_verdicts") && results["closed_loop_verdicts"].is_array()) {
    return {{"source", "closed_loop_verdicts"}, {"rows", results["closed_loop_verdicts"]}};
  }
  Json rows = Json::array();
  for (const auto& runs : group_runs(results["closed_loop"])) {
    int completed = 0;
    for (const Json* run : runs) {
      completed += (*run)["metrics"].value("termination", "") == "completed" ? 1 : 0;
    }
    const int episodes = static_cast<int>(runs.size());
    rows.push_back({{"model", (*runs[0]).value("model", "")},
                    {"slowdown", (*runs[0]).value("slowdown", 1.0)},
                    {"episodes", episodes},
                    {"completed", completed},
                    {"completion", interval_json(wilson_interval(completed, episodes, 0.95))},
                    {"driving_score", metric_interval(runs, "driving_score")},
                    {"average_speed_mps", metric_interval(runs, "average_speed_mps")},
                    {"deviation_mean_m", metric_interval(runs, "deviation_mean_m")},
                    {"infractions_per_km", metric_interval(runs, "infractions_per_km")}});
  }
  return {{"source", "closed_loop"}, {"rows", rows}};
}

Json latency_table(const Json& results) {
  Json rows = Json::array();
  auto add = [&](const std::string& model, const Json& summary, const Json& fixed_ms) {
    if (!summary.is_object()) return;
    Json row = {{"model", model}};
    for (const char* key : {"min_ms", "median_ms", "p90_ms", "p99_ms", "max_ms", "runs"})
      row[key] = summary.value(key, Json());
    row["fixed_ms"] = fixed_ms;
    rows.push_back(row);
  };
  if (results.contains("expert_latency")) {
    const Json& e = results["expert_latency"];
    add("expert", e.value("wall_clock", Json()), e.value("latency_ms", Json()));
  }
  for (const auto& r : results["offline"]) {
    add(r.value("model", ""), r.value("wall_clock", Json::object()).value("latency", Json()),
        r.value("latency_ms", Json()));
  }
  return rows;
}

Json pareto_points(const Json& results, const Json& closed_loop) {
  // The latency each (model, slowdown) drove with: the mean of what the timing model applied.
  std::map<std::pair<std::string, double>, double> latency;
  for (const auto& runs : group_runs(results["closed_loop"])) {
    double sum = 0.0;
    for (const Json* run : runs) sum += number_or((*run)["metrics"], "inference_ms_p50", 0.0);
    latency[{(*runs[0]).value("model", ""), (*runs[0]).value("slowdown", 1.0)}] =
        sum / static_cast<double>(runs.size());
  }
  Json points = Json::array();
  std::vector<ParetoPoint> values;
  for (const auto& row : closed_loop["rows"]) {
    const std::string model = row.value("model", "");
    const double slowdown = row.value("slowdown", 1.0);
    const Json* offline = offline_row(results, model);
    const Json score = row.value("driving_score", Json());
    if (!offline || !offline->contains("bytes") || !score.is_object()) continue;
    const auto it = latency.find({model, slowdown});
    if (it == latency.end()) continue;
    const ParetoPoint p{.latency_ms = it->second,
                        .driving_score = score.value("estimate", 0.0),
                        .bytes = (*offline)["bytes"].get<double>()};
    values.push_back(p);
    points.push_back({{"model", model},
                      {"slowdown", slowdown},
                      {"label", variant_label(model, slowdown)},
                      {"recipe", offline->value("recipe", "")},
                      {"latency_ms", p.latency_ms},
                      {"driving_score", p.driving_score},
                      {"bytes", p.bytes}});
  }
  const std::vector<bool> front = pareto_front(values);
  for (size_t i = 0; i < front.size(); ++i) points[i]["front"] = static_cast<bool>(front[i]);
  return points;
}

Json quantization_layers(const fs::path& run_dir, const Json& results) {
  Json out = Json::array();
  for (const auto& r : results["offline"]) {
    const std::string recipe = r.value("recipe", "");
    const std::string file = r.value("file", "");
    if (recipe == "baseline" || recipe == "user" || !file.ends_with(".onnx")) continue;
    const fs::path report_path =
        run_dir / (file.substr(0, file.size() - std::string(".onnx").size()) + ".report.json");
    if (!fs::is_regular_file(report_path)) continue;
    Json report;
    try {
      report = read_json_file(report_path);
    } catch (const nlohmann::json::exception&) {
      out.push_back({{"model", r.value("model", "")},
                     {"recipe", recipe},
                     {"note", report_path.filename().string() + " is not valid JSON"}});
      continue;
    }
    Json error_layers = Json::array(), sparsity_layers = Json::array();
    for (const auto& l : report.value("layers", Json::array())) {
      // Every figure the report has for the layer: sqnr_db, cosine, max_abs_error, and where
      // the recipe wrote them the layer's own error (own_sqnr_db), its precision and MSE.
      if (l.contains("sqnr_db")) error_layers.push_back(l);
      if (l.contains("sparsity")) {
        sparsity_layers.push_back({{"layer", l.value("layer", "")},
                                   {"sparsity", l["sparsity"]},
                                   {"clusters", l.value("max_values_per_channel", Json())},
                                   {"weights", l.value("weights", Json())}});
      }
    }
    out.push_back({{"model", r.value("model", "")},
                   {"recipe", recipe},
                   {"report", fs::relative(report_path, run_dir).generic_string()},
                   {"error_layers", error_layers},
                   {"sparsity_layers", sparsity_layers},
                   {"worst_layers", report.value("worst_layers", Json::array())},
                   {"sparsity", report.value("sparsity", Json())}});
  }
  return out;
}

Json trajectory_series(std::span<const sim::TrajectorySample> samples, double circuit_length_m,
                       size_t max_points) {
  Json x = Json::array(), y = Json::array(), v = Json::array(), lateral = Json::array(),
       progress = Json::array(), t = Json::array();
  const size_t n = samples.size();
  const size_t stride = std::max<size_t>(1, (n + max_points - 1) / std::max<size_t>(1, max_points));
  double p = 0.0;
  for (size_t i = 0; i < n; ++i) {
    if (i > 0) {
      double ds = samples[i].s_m - samples[i - 1].s_m;
      if (circuit_length_m > 0) {
        if (ds > circuit_length_m / 2) ds -= circuit_length_m;
        if (ds < -circuit_length_m / 2) ds += circuit_length_m;
      }
      p += ds;
    }
    if (i % stride != 0 && i + 1 != n) continue;
    const sim::TrajectorySample& s = samples[i];
    x.push_back(rounded(s.x_m, 100));
    y.push_back(rounded(s.y_m, 100));
    v.push_back(rounded(s.v_mps, 100));
    lateral.push_back(rounded(s.lateral_m, 1000));
    progress.push_back(rounded(p, 10));
    t.push_back(rounded(s.t_s, 100));
  }
  return {{"x", x}, {"y", y}, {"v", v}, {"lateral", lateral}, {"progress", progress}, {"t", t}};
}

Json centre_line(const std::string& circuit, const std::string& direction, double step_m) {
  const track::Circuit c = track::load_circuit(circuit, track::parse_direction(direction));
  const auto stride =
      static_cast<size_t>(std::max(1.0, std::round(step_m / std::max(1e-9, c.spacing()))));
  Json points = Json::array();
  const auto pts = c.points();
  for (size_t i = 0; i < pts.size(); i += stride) {
    points.push_back({rounded(pts[i].x, 100), rounded(pts[i].y, 100)});
  }
  if (!pts.empty()) points.push_back({rounded(pts[0].x, 100), rounded(pts[0].y, 100)});
  return points;
}

RunKey run_key(const Json& run) {
  return {.model = run.value("model", ""),
          .slowdown = run.value("slowdown", 1.0),
          .circuit = run.value("circuit", ""),
          .direction = run.value("direction", ""),
          .repetition = run.value("repetition", 0)};
}

std::string variant_label(const std::string& model, double slowdown) {
  if (slowdown == 1.0) return model;
  return model + " x" + format_fixed(slowdown, slowdown == std::floor(slowdown) ? 0 : 1);
}

}  // namespace pitlane::report
