#include "pitlane/autotune/autotune.h"

#include <algorithm>
#include <cmath>
#include <iostream>
#include <map>
#include <set>

#include "pitlane/core/error.h"
#include "pitlane/core/files.h"
#include "pitlane/core/stats.h"
#include "pitlane/core/table.h"
#include "pitlane/drive/drive_runner.h"
#include "pitlane/onnx/edit.h"
#include "pitlane/onnx/model_file.h"
#include "pitlane/quant/calibrate.h"
#include "pitlane/quant/recipes.h"
#include "pitlane/runtime/benchmark.h"
#include "pitlane/sim/metrics.h"
#include "pitlane/track/circuit.h"

namespace pitlane::autotune {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using Images = std::vector<std::vector<float>>;

// The tensor holding a layer's result in `model`: its output, or the Relu's right after it.
std::string result_tensor(const ::onnx::ModelProto& model, const std::string& layer) {
  const ::onnx::GraphProto& g = model.graph();
  for (const auto& n : g.node()) {
    if (quant::layer_name(n) != layer) continue;
    const auto readers = onnx::readers_of(g, n.output(0));
    if (readers.size() == 1 && g.node(readers[0]).op_type() == "Relu" &&
        !onnx::is_graph_output(g, n.output(0)))
      return g.node(readers[0]).output(0);
    return n.output(0);
  }
  throw RunError("layer '" + layer + "' has no node");
}

// The episodes of the drive set, nominal ones first: repetition-major, then direction, then
// circuit, so the first N episodes are the nominal runs of the first direction.
std::vector<Episode> drive_set(const AutotuneOptions& o) {
  std::vector<Episode> out;
  for (int rep = 0; rep < o.repetitions; ++rep)
    for (const auto& d : o.directions)
      for (const auto& c : o.circuits)
        out.push_back({.circuit = c,
                       .direction = d,
                       .repetition = rep,
                       .seed = o.quant.seed + static_cast<uint64_t>(rep)});
  return out;
}

// InputError for options no search can run with, before any work.
void check_options(const AutotuneOptions& o) {
  if (o.circuits.empty()) throw InputError("--circuits is empty; name circuits to drive");
  for (const auto& c : o.circuits) (void)track::load_circuit(c);  // InputError naming it
  if (o.directions.empty()) throw InputError("--directions is empty; use cw, ccw or both");
  for (const auto& d : o.directions) (void)track::parse_direction(d);
  std::set<std::string> seen;
  for (const auto& c : o.circuits)
    for (const auto& d : o.directions)
      if (!seen.insert(c + " " + d).second)
        throw InputError("circuit " + c + " " + d + " is listed twice; list each once");
  if (o.repetitions < 1 || o.repetitions > 1000)
    throw InputError("--repetitions must be 1 to 1000");
  if (o.laps < 1 || o.laps > 100) throw InputError("--laps must be 1 to 100");
  if (!(o.timeout_s >= 0.0 && std::isfinite(o.timeout_s)))
    throw InputError("--timeout must be a finite number of seconds >= 0");
  if (!o.timing.deterministic())
    throw InputError("--timing " + o.timing.describe() +
                     " is not reproducible; the auto recipe compares candidates on the same "
                     "episodes: use fixed:MS");
  if (o.threads < 1) throw InputError("--threads must be at least 1");
  if (o.jobs < 1) throw InputError("--jobs must be at least 1");
  if (o.bench_runs < 1 || o.bench_rounds < 1)
    throw InputError("--bench-runs and --bench-rounds must be at least 1");
}

double median_of(std::vector<double> v) {
  return percentile(v, 50);
}

// The real hooks: candidates cut from the prepared parent, driven, compared and timed.
class Candidates {
 public:
  Candidates(const quant::StaticBase& base, fs::path parent_file, const AutotuneOptions& o,
             const std::vector<Episode>& episodes, fs::path work)
      : base_(base),
        parent_file_(std::move(parent_file)),
        o_(o),
        episodes_(episodes),
        work_(std::move(work)),
        fp32_model_(runtime::Model::load(parent_file_)) {
    const std::string out = base_.prepared.graph().output(0).name();
    fp32_outputs_.resize(base_.images.size());
    (void)quant::probe(base_.prepared, {out}, base_.images,
                       [&](size_t i, size_t, std::span<const float> v) {
                         fp32_outputs_[i].assign(v.begin(), v.end());
                       });
    const auto& names = base_.meta.outputs.names;
    const auto w = std::find(names.begin(), names.end(), "w");
    steering_ = w != names.end() ? static_cast<int>(w - names.begin()) : -1;
  }

  std::set<std::string> int8_layers(const Assignment& a) const {
    std::set<std::string> s;
    for (size_t i = 0; i < a.size(); ++i)
      if (a[i] == Precision::int8) s.insert(base_.layers[i]);
    return s;
  }

  bool all_fp32(const Assignment& a) const {
    return std::all_of(a.begin(), a.end(), [](Precision p) { return p == Precision::fp32; });
  }

  // The model of `a` with its metadata: recipe auto, the parent, the layers' precisions and
  // `search` (the outcome, for the final model). Every fp32: the parent's own graph.
  ::onnx::ModelProto model(const Assignment& a, const json& search,
                           quant::MixedModel* mixed) const {
    quant::MixedModel m;
    if (all_fp32(a)) {
      m.model = base_.parent;
      m.params = base_.params;
      json precision = json::object();
      for (const auto& l : base_.layers) precision[l] = "fp32";
      m.params["layer_precision"] = precision;
    } else {
      m = quant::quantize_layers(base_, int8_layers(a));
    }
    data::ModelMetadata meta = base_.meta;
    meta.recipe = "auto";
    meta.parent = base_.parent_name + " sha256:" + base_.parent_sha256;
    for (const auto& [k, v] : data::to_props(meta)) onnx::set_metadata(m.model, k, v);
    json params = m.params;
    params["recipe"] = "auto";
    if (!search.is_null()) params["search"] = search;
    onnx::set_metadata(m.model, "pitlane.optimize", params.dump());
    m.model.set_producer_name("pitlane optimize");
    if (mixed) *mixed = m;
    return m.model;
  }

  std::vector<EpisodeResult> drive(const Assignment& a, const std::vector<int>& ids) {
    const std::string code = assignment_code(a);
    fs::path file = parent_file_;
    if (!all_fp32(a)) {
      file = work_ / (code + ".onnx");
      if (!fs::exists(file)) onnx::write_model(model(a, json(), nullptr), file);
    }
    std::vector<drive::DriveJob> jobs;
    for (int id : ids) {
      const Episode& e = episodes_[static_cast<size_t>(id)];
      drive::DriveJob job;
      job.model = all_fp32(a) ? "fp32" : code;
      job.file = file;
      job.backend = o_.backend;
      job.threads = o_.threads;
      job.timing = o_.timing;
      job.circuit = e.circuit;
      job.direction = e.direction;
      job.seed = e.seed;
      job.perturb_start = e.repetition > 0;
      job.perturb_style = e.repetition > 0;
      job.laps = o_.laps;
      job.timeout_s = o_.timeout_s;
      jobs.push_back(job);
    }
    std::vector<EpisodeResult> out;
    for (const auto& d : drive::run_drives(jobs, o_.jobs, o_.progress)) {
      const sim::RunMetrics& m = d.metrics;
      out.push_back({.score = m.driving_score,
                     .completed = m.completed_laps >= m.laps_requested,
                     .completed_fraction = m.completed_fraction,
                     .deviation_mean_m = m.deviation_mean_m});
    }
    return out;
  }

  OutputError offline(const Assignment& a) const {
    quant::MixedModel m = quant::quantize_layers(base_, int8_layers(a));
    const std::string out = base_.prepared.graph().output(0).name();
    std::vector<std::string> tensors = {out};
    // A single int8 layer: its own result as well.
    std::string layer_float;
    if (std::count(a.begin(), a.end(), Precision::int8) == 1) {
      const size_t i =
          static_cast<size_t>(std::find(a.begin(), a.end(), Precision::int8) - a.begin());
      layer_float = result_tensor(base_.prepared, base_.layers[i]);
      const auto it = m.renamed.find(layer_float);
      tensors.push_back(it != m.renamed.end() && layer_float != out ? it->second : layer_float);
    }
    Images layer_reference(base_.images.size());
    if (!layer_float.empty())
      (void)quant::probe(base_.prepared, {layer_float}, base_.images,
                         [&](size_t i, size_t, std::span<const float> v) {
                           layer_reference[i].assign(v.begin(), v.end());
                         });
    double xx = 0, ee = 0, see = 0, lxx = 0, lee = 0;
    int64_t n = 0, ns = 0;
    (void)quant::probe(
        m.model, tensors, base_.images, [&](size_t i, size_t t, std::span<const float> v) {
          const auto& x = t == 0 ? fp32_outputs_[i] : layer_reference[i];
          for (size_t k = 0; k < std::min(x.size(), v.size()); ++k) {
            const double d = static_cast<double>(x[k]) - v[k];
            if (t == 1) {
              lxx += static_cast<double>(x[k]) * x[k];
              lee += d * d;
              continue;
            }
            xx += static_cast<double>(x[k]) * x[k];
            ee += d * d;
            ++n;
            const size_t outputs = base_.meta.outputs.names.size();
            if (steering_ < 0 || (outputs > 0 && k % outputs == static_cast<size_t>(steering_))) {
              see += d * d;
              ++ns;
            }
          }
        });
    auto sqnr = [](double s, double e) { return e > 0 ? 10.0 * std::log10(s / e) : 200.0; };
    OutputError r;
    r.sqnr_db = sqnr(xx, ee);
    r.mse = n > 0 ? ee / static_cast<double>(n) : 0.0;
    r.steering_mse = ns > 0 ? see / static_cast<double>(ns) : 0.0;
    r.layer_sqnr_db = layer_float.empty() ? 0.0 : sqnr(lxx, lee);
    return r;
  }

  // fp32 and the candidate alternating, `rounds` times: the median of the round medians.
  LatencyComparison latency(const ::onnx::ModelProto& candidate, int rounds) const {
    const runtime::Model m = runtime::Model::from_bytes(candidate.SerializeAsString(), "candidate");
    const runtime::SessionOptions s{.backend = o_.backend, .threads = o_.threads, .batch = 1};
    runtime::BenchOptions b{.runs = o_.bench_runs, .warmup = 20, .profile_runs = 0};
    if (!base_.images.empty()) b.input = base_.images[0];
    std::vector<double> fp32, cand, p90;
    for (int r = 0; r < rounds; ++r) {
      fp32.push_back(runtime::benchmark(fp32_model_, s, b).median_us);
      const runtime::BenchResult c = runtime::benchmark(m, s, b);
      cand.push_back(c.median_us);
      p90.push_back(c.p90_us);
    }
    return {
        .median_us = median_of(cand), .fp32_median_us = median_of(fp32), .p90_us = median_of(p90)};
  }

  LatencyComparison latency(const Assignment& a) const {
    return latency(model(a, json(), nullptr), o_.bench_rounds);
  }

 private:
  const quant::StaticBase& base_;
  fs::path parent_file_;
  const AutotuneOptions& o_;
  const std::vector<Episode>& episodes_;
  fs::path work_;
  runtime::Model fp32_model_;
  Images fp32_outputs_;  // the prepared model's output per calibration frame
  int steering_ = -1;    // index of the steering output (w), -1 if none
};

json to_json(const Interval& i) {
  return {{"mean", i.estimate}, {"low", i.low}, {"high", i.high}, {"n", i.n}};
}

json to_json(const OutputError& e, bool single_layer) {
  json j = {{"sqnr_db", e.sqnr_db}, {"mse", e.mse}, {"steering_mse", e.steering_mse}};
  if (single_layer) j["layer_sqnr_db"] = e.layer_sqnr_db;
  return j;
}

json to_json(const std::vector<EpisodeResult>& r) {
  json a = json::array();
  for (const auto& e : r)
    a.push_back({{"score", e.score},
                 {"completed", e.completed},
                 {"completed_fraction", e.completed_fraction},
                 {"deviation_mean_m", e.deviation_mean_m}});
  return a;
}

int completed(const std::vector<EpisodeResult>& r) {
  return static_cast<int>(
      std::count_if(r.begin(), r.end(), [](const auto& e) { return e.completed; }));
}

json precision_json(const std::vector<std::string>& layers, const Assignment& a) {
  json j = json::object();
  for (size_t i = 0; i < a.size(); ++i) j[layers[i]] = precision_name(a[i]);
  return j;
}

json plan_json(const AutotuneOptions& o, const SearchPlan& plan, const quant::StaticBase& base) {
  json episodes = json::array();
  for (const auto& e : plan.episodes)
    episodes.push_back({{"circuit", e.circuit},
                        {"direction", e.direction},
                        {"repetition", e.repetition},
                        {"seed", e.seed}});
  return {{"circuits", o.circuits},
          {"directions", o.directions},
          {"repetitions", o.repetitions},
          {"perturb", json::array({"start", "style"})},
          {"laps", o.laps},
          {"timeout_s", o.timeout_s},
          {"timing", o.timing.describe()},
          {"seed", o.quant.seed},
          {"sensitivity_episodes", plan.sensitivity_episodes},
          {"budget_laps", plan.budget_laps},
          {"confidence", plan.confidence},
          {"margin", plan.margin},
          {"min_speedup", plan.min_speedup},
          {"backend", runtime::backend_name(o.backend)},
          {"threads", o.threads},
          {"calibration", base.params},
          {"episodes", episodes}};
}

// Why each layer ended in its precision.
json layer_reasons(const SearchResult& r) {
  json out = json::object();
  std::map<std::string, int> returned_at;
  for (const auto& st : r.steps)
    if (!st.returned_layer.empty()) returned_at[st.returned_layer] = st.index;
  for (size_t i = 0; i < r.layers.size(); ++i) {
    const LayerSensitivity& l = r.layers[i];
    const std::string rank = " (sensitivity rank " + std::to_string(l.rank) + ")";
    std::string why;
    if (r.status != "accepted") {
      why = "fp32: no quantized candidate was accepted (" + r.status + ")";
    } else if (r.chosen[i] == Precision::int8) {
      why = "int8: the candidate of step " + std::to_string(r.steps.back().index) +
            " drives as fp32 with it in int8" + rank;
    } else {
      why = "fp32: returned at step " + std::to_string(returned_at[l.layer]) + " because step " +
            std::to_string(returned_at[l.layer] - 1) + " was rejected; it was next" + rank;
    }
    out[l.layer] = why;
  }
  return out;
}

json log_json(const AutotuneOptions& o, const SearchPlan& plan, const quant::StaticBase& base,
              const SearchResult& r) {
  json layers = json::array();
  for (const auto& l : r.layers)
    layers.push_back({{"layer", l.layer},
                      {"rank", l.rank},
                      {"offline", to_json(l.offline, true)},
                      {"closed_loop",
                       {{"score_drop", l.score_drop},
                        {"completions_lost", l.completions_lost},
                        {"deviation_increase_m", l.deviation_increase_m},
                        {"episodes", to_json(l.results)}}}});
  json corr = json::array();
  for (const auto& c : r.correlations)
    corr.push_back({{"offline", c.offline},
                    {"closed_loop", c.closed_loop},
                    {"spearman", c.spearman ? json(*c.spearman) : json(nullptr)}});
  json steps = json::array();
  for (const auto& st : r.steps) {
    json s = {
        {"index", st.index},
        {"returned_layer", st.returned_layer},
        {"code", assignment_code(st.assignment)},
        {"layer_precision", precision_json(base.layers, st.assignment)},
        {"offline", to_json(st.offline, false)},
        {"faster", st.faster},
        {"driven", st.driven},
        {"decision", st.decision},
        {"laps_used", st.laps_used},
        {"wall_clock",
         {{"median_us", st.latency.median_us},
          {"p90_us", st.latency.p90_us},
          {"fp32_median_us", st.latency.fp32_median_us},
          {"speedup",
           st.latency.median_us > 0 ? st.latency.fp32_median_us / st.latency.median_us : 0.0}}}};
    if (st.driven) {
      s["score"] = to_json(st.score);
      s["vs_fp32"] = {{"difference", to_json(st.vs_fp32.difference)},
                      {"verdict", verdict_name(st.vs_fp32.verdict)}};
      s["worse"] = st.worse;
      s["completions_lost"] = st.completions_lost;
      s["completed"] = completed(st.results);
      s["accepted"] = st.accepted;
      s["episodes"] = to_json(st.results);
    }
    steps.push_back(s);
  }
  return {{"recipe", "auto"},
          {"metric_version", sim::kDrivingScoreVersion},
          {"parent", base.parent_name + " sha256:" + base.parent_sha256},
          {"layers", base.layers},
          {"plan", plan_json(o, plan, base)},
          {"fp32",
           {{"score", to_json(r.fp32_score)},
            {"completed", completed(r.fp32)},
            {"episodes", to_json(r.fp32)}}},
          {"sensitivity", {{"layers", layers}, {"correlations", corr}}},
          {"steps", steps},
          {"laps_used", r.laps_used}};
}

void say(const AutotuneOptions& o, const std::string& line) {
  if (o.progress) std::cerr << "auto: " << line << "\n";
}

}  // namespace

std::vector<std::string> default_circuits() {
  return {"simple_circuit", "montmelo", "montreal", "generated:1", "generated:2"};
}

AutotuneResult autotune_model(const fs::path& in, const fs::path& out,
                              const AutotuneOptions& options) {
  check_options(options);
  check_not_an_input(out, {in});
  check_writable(out);
  SearchPlan plan;
  plan.episodes = drive_set(options);
  plan.sensitivity_episodes = options.sensitivity_episodes < 0
                                  ? static_cast<int>(options.circuits.size())
                                  : options.sensitivity_episodes;
  plan.laps = options.laps;
  plan.budget_laps = options.budget_laps;
  plan.confidence = options.confidence;
  plan.margin = options.margin;
  plan.min_speedup = options.min_speedup;
  // The plan's checks (budget, confidence, ...) need the layer count: read it before the
  // calibration, so that a bad plan fails first.
  plan.layers = quant::quantizable_layers(onnx::read_model(in));
  check_plan(plan);
  const quant::StaticBase base = quant::prepare_static(in, options.quant);
  plan.layers = base.layers;
  check_plan(plan);

  StagedDir work(out.parent_path() / (out.filename().string() + ".autotune"));
  Candidates candidates(base, in, options, plan.episodes, work.path());
  say(options, std::to_string(base.layers.size()) + " layers, " +
                   std::to_string(plan.episodes.size()) + " episodes, budget " +
                   std::to_string(plan.budget_laps) + " laps");
  SearchHooks hooks;
  hooks.drive = [&](const Assignment& a, const std::vector<int>& ids) {
    say(options,
        "drive " + assignment_code(a) + " on " + std::to_string(ids.size()) + " episode(s)");
    return candidates.drive(a, ids);
  };
  hooks.offline = [&](const Assignment& a) { return candidates.offline(a); };
  hooks.latency = [&](const Assignment& a) { return candidates.latency(a); };
  AutotuneResult result;
  result.search = search(plan, hooks);
  const SearchResult& r = result.search;
  say(options, r.summary);

  // The chosen model, its latency against fp32 (a final, longer measurement) and the report.
  json search_meta = {{"status", r.status},
                      {"metric_version", sim::kDrivingScoreVersion},
                      {"steps", r.steps.size()},
                      {"laps_used", r.laps_used},
                      {"budget_laps", plan.budget_laps},
                      {"confidence", plan.confidence},
                      {"circuits", options.circuits},
                      {"directions", options.directions},
                      {"repetitions", options.repetitions},
                      {"timing", options.timing.describe()},
                      {"summary", r.summary}};
  quant::MixedModel chosen;
  const ::onnx::ModelProto model = candidates.model(r.chosen, search_meta, &chosen);
  onnx::check_model(model, out.string());
  const LatencyComparison final_latency =
      candidates.latency(model, std::max(options.bench_rounds, 5));
  result.report = quant::compare_report(base.parent, base.prepared, model, chosen.renamed, {},
                                        base.report_images, base.report_images);
  result.report["recipe"] = "auto";
  result.report["parent"] = base.parent_name + " sha256:" + base.parent_sha256;
  result.report["parameters"] = json::parse(onnx::metadata(model).at("pitlane.optimize"));
  result.report["frames"] = base.report_frames;
  result.size_bytes = static_cast<int64_t>(model.ByteSizeLong());
  result.fp32_size_bytes = static_cast<int64_t>(base.parent.ByteSizeLong());
  result.report["size_bytes"] = result.size_bytes;
  result.report["parent_size_bytes"] = result.fp32_size_bytes;

  result.log = log_json(options, plan, base, r);
  const bool accepted = r.status == "accepted";
  json chosen_json = {{"status", r.status},
                      {"summary", r.summary},
                      {"layer_precision", precision_json(base.layers, r.chosen)},
                      {"why", layer_reasons(r)},
                      {"size_bytes", result.size_bytes},
                      {"fp32_size_bytes", result.fp32_size_bytes},
                      {"fp32_score", to_json(r.fp32_score)},
                      {"fp32_completed", completed(r.fp32)},
                      {"episodes", r.fp32.size()},
                      {"wall_clock",
                       {{"median_us", final_latency.median_us},
                        {"p90_us", final_latency.p90_us},
                        {"fp32_median_us", final_latency.fp32_median_us},
                        {"speedup", final_latency.median_us > 0
                                        ? final_latency.fp32_median_us / final_latency.median_us
                                        : 0.0},
                        {"rounds", std::max(options.bench_rounds, 5)},
                        {"runs", options.bench_runs}}}};
  if (accepted) {
    const Step& st = r.steps.back();
    chosen_json["score"] = to_json(st.score);
    chosen_json["difference"] = to_json(st.vs_fp32.difference);
    chosen_json["completed"] = completed(st.results);
  } else {
    chosen_json["score"] = to_json(r.fp32_score);
    chosen_json["completed"] = completed(r.fp32);
  }
  result.log["chosen"] = chosen_json;
  onnx::write_model(model, out);
  return result;
}

std::string decision_table(const nlohmann::json& log, bool markdown) {
  auto render = [&](const Table& t) { return markdown ? t.render_markdown() : t.render(); };
  auto num = [](const json& v, int d) {
    return v.is_number() ? format_fixed(v.get<double>(), d) : std::string("-");
  };
  auto interval = [&](const json& i, int d) {
    return num(i["mean"], d) + " [" + num(i["low"], d) + ", " + num(i["high"], d) + "]";
  };
  std::string text;
  const std::string h = markdown ? "### " : "";
  const json& plan = log["plan"];
  text += h + "auto recipe: " + log.value("parent", std::string()) + "\n";
  text += "drive set: " + std::to_string(plan["episodes"].size()) + " episodes (" +
          std::to_string(plan["circuits"].size()) + " circuits x " +
          std::to_string(plan["directions"].size()) + " directions x " +
          std::to_string(plan["repetitions"].get<int>()) + " repetitions, " +
          std::to_string(plan["laps"].get<int>()) + " lap(s), timing " +
          plan["timing"].get<std::string>() + "), target " + plan["backend"].get<std::string>() +
          " " + std::to_string(plan["threads"].get<int>()) + " thread(s)\n";
  text += "fp32: driving score " + interval(log["fp32"]["score"], 2) + ", completed " +
          std::to_string(log["fp32"]["completed"].get<int>()) + "/" +
          std::to_string(plan["episodes"].size()) + "\n\n";

  text += h + "layer sensitivity (each layer alone int8; closed loop on the first " +
          std::to_string(plan["sensitivity_episodes"].get<int>()) + " episodes)\n";
  Table s({"layer", "rank", "output SQNR dB", "output MSE", "steering MSE", "layer SQNR dB",
           "score drop", "completions lost", "deviation +m"});
  for (const auto& l : log["sensitivity"]["layers"])
    s.add({l["layer"].get<std::string>(), std::to_string(l["rank"].get<int>()),
           num(l["offline"]["sqnr_db"], 1), num(l["offline"]["mse"], 8),
           num(l["offline"]["steering_mse"], 8), num(l["offline"]["layer_sqnr_db"], 1),
           num(l["closed_loop"]["score_drop"], 2),
           std::to_string(l["closed_loop"]["completions_lost"].get<int>()),
           num(l["closed_loop"]["deviation_increase_m"], 4)});
  text += render(s);
  if (!log["sensitivity"]["correlations"].empty()) {
    text +=
        "\nSpearman rank correlation over the layers (+1: the offline error ranks the layers "
        "as driving does; SQNR oriented so that lower is worse):\n";
    Table c({"offline signal", "closed-loop signal", "Spearman"});
    for (const auto& k : log["sensitivity"]["correlations"])
      c.add({k["offline"].get<std::string>(), k["closed_loop"].get<std::string>(),
             k["spearman"].is_number() ? format_fixed(k["spearman"].get<double>(), 3)
                                       : "n/a (no variation)"});
    text += render(c);
  }

  text += "\n" + h + "search (one-sided paired t at " + num(plan["confidence"], 2) + ", margin " +
          num(plan["margin"], 2) + "; budget " + std::to_string(plan["budget_laps"].get<int>()) +
          " laps)\n";
  Table t({"step", "returned to fp32", "int8 layers", "score [CI]", "diff vs fp32 [CI]",
           "completed", "latency us", "speedup", "laps", "decision"});
  for (const auto& st : log["steps"]) {
    const std::string code = st["code"].get<std::string>();
    const auto int8 = std::count(code.begin(), code.end(), 'I');
    const bool driven = st["driven"].get<bool>();
    t.add({std::to_string(st["index"].get<int>()),
           st["returned_layer"].get<std::string>().empty()
               ? "-"
               : st["returned_layer"].get<std::string>(),
           std::to_string(int8) + "/" + std::to_string(code.size()),
           driven ? interval(st["score"], 2) : "-",
           driven ? interval(st["vs_fp32"]["difference"], 2) : "-",
           driven ? std::to_string(st["completed"].get<int>()) + "/" +
                        std::to_string(st["episodes"].size())
                  : "-",
           num(st["wall_clock"]["median_us"], 0), num(st["wall_clock"]["speedup"], 2) + "x",
           std::to_string(st["laps_used"].get<int>()), st["decision"].get<std::string>()});
  }
  text += render(t);
  if (log.contains("chosen")) {
    const json& c = log["chosen"];
    text += "\n" + h + "chosen: " + c["status"].get<std::string>() + "\n";
    Table p({"layer", "precision", "why"});
    for (const auto& l : log["layers"]) {
      const std::string name = l.get<std::string>();
      p.add(
          {name, c["layer_precision"][name].get<std::string>(), c["why"][name].get<std::string>()});
    }
    text += render(p);
    const json& w = c["wall_clock"];
    text += "\nmodel vs fp32: size " + std::to_string(c["size_bytes"].get<int64_t>()) + " / " +
            std::to_string(c["fp32_size_bytes"].get<int64_t>()) + " bytes; latency " +
            num(w["median_us"], 1) + " / " + num(w["fp32_median_us"], 1) + " us median (" +
            num(w["speedup"], 2) + "x, " + plan["backend"].get<std::string>() + ", " +
            std::to_string(w["rounds"].get<int>()) + " alternating rounds of " +
            std::to_string(w["runs"].get<int>()) + " runs); driving score " +
            interval(c["score"], 2) + " / " + interval(c["fp32_score"], 2) + "; completed " +
            std::to_string(c["completed"].get<int>()) + " / " +
            std::to_string(c["fp32_completed"].get<int>()) + " of " +
            std::to_string(c["episodes"].get<int>()) + "\n";
    text += c["summary"].get<std::string>() + "\n";
  }
  return text;
}

}  // namespace pitlane::autotune
