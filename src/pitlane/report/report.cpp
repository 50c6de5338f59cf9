#include "pitlane/report/report.h"

#include <unistd.h>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <thread>

#include "pitlane/core/error.h"
#include "pitlane/core/files.h"
#include "pitlane/report/assets.h"
#include "pitlane/report/clip.h"
#include "pitlane/report/compare.h"
#include "pitlane/report/episodes.h"
#include "pitlane/report/html.h"
#include "pitlane/report/run_data.h"
#include "pitlane/track/circuit.h"

namespace pitlane::report {
namespace {

namespace fs = std::filesystem;

// The temporary folder of a report's videos, beside the output; removed whatever happens (the
// study also removes such .partial- leftovers of a killed process at its next start).
class WorkDir {
 public:
  explicit WorkDir(const fs::path& out)
      : path_(out.parent_path() /
              ("." + out.filename().string() + ".partial-" + std::to_string(getpid()))) {}
  ~WorkDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  WorkDir(const WorkDir&) = delete;
  WorkDir& operator=(const WorkDir&) = delete;
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

// The machine writing the report. results.json does not record the study's machine (when it
// does, under "machine", the page shows that too).
Json machine_info() {
  Json m = Json::object();
  std::ifstream cpuinfo("/proc/cpuinfo");
  for (std::string line; std::getline(cpuinfo, line);) {
    if (line.starts_with("model name")) {
      m["cpu"] = line.substr(line.find(':') + 2);
      break;
    }
  }
  m["cores"] = std::thread::hardware_concurrency();
  std::ifstream meminfo("/proc/meminfo");
  for (std::string line; std::getline(meminfo, line);) {
    if (line.starts_with("MemTotal:")) {
      m["memory_gib"] = std::round(std::stod(line.substr(9)) / (1024.0 * 1024.0) * 10) / 10;
      break;
    }
  }
  return m;
}

// The runs filmed: on the first circuit and direction driven, repetition 0, device x1, the
// baseline first and then every other model in the offline table's order (not the expert).
std::vector<const Json*> video_runs(const Json& results, int count,
                                    std::vector<std::string>& notes) {
  const Json& runs = results["closed_loop"];
  if (runs.empty() || count <= 0) return {};
  const std::string circuit = runs[0].value("circuit", "");
  const std::string direction = runs[0].value("direction", "");
  std::vector<std::string> order = {"baseline"};
  for (const auto& row : results["offline"]) {
    const std::string m = row.value("model", "");
    if (m != "baseline") order.push_back(m);
  }
  std::vector<const Json*> picked;
  std::vector<std::string> left_out;
  for (const auto& model : order) {
    for (const auto& run : runs) {
      const RunKey k = run_key(run);
      if (k.model != model || k.circuit != circuit || k.direction != direction ||
          k.repetition != 0 || k.slowdown != 1.0)
        continue;
      if (static_cast<int>(picked.size()) < count) {
        picked.push_back(&run);
      } else {
        left_out.push_back(model);
      }
      break;
    }
  }
  if (!left_out.empty()) {
    std::string list;
    for (const auto& m : left_out) list += (list.empty() ? "" : ", ") + m;
    notes.push_back("Videos: " + std::to_string(count) +
                    " per report (--videos); not filmed: " + list + ".");
  }
  return picked;
}

struct Replayed {
  RunKey key;
  std::vector<sim::TrajectorySample> trajectory;
};

class RunPage {
 public:
  RunPage(fs::path run_dir, const ReportOptions& options, const fs::path& work_dir,
          ReportResult& result)
      : dir_(std::move(run_dir)), opt_(options), work_(work_dir), result_(result) {}

  Json build() {
    const Json results = read_results(dir_);
    Json page;
    page["name"] = results.value("study", "");
    page["dir"] = dir_.string();
    page["config"] = results["config"];
    page["code_version"] = opt_.code_version;
    page["metric_version"] = metric_version(results);
    page["machine"] = results.value("machine", Json());
    page["report_machine"] = machine_info();
    page["offline"] = offline_table(results);
    page["closed_loop"] = closed_loop_table(results);
    if (page["closed_loop"]["source"] != "closed_loop_verdicts") {
      note(
          "results.json has no closed_loop_verdicts (written before the study computed them): "
          "the closed-loop table shows means and 95% intervals computed from the runs, without "
          "paired verdicts.");
    }
    page["pareto"] = pareto_points(results, page["closed_loop"]);
    page["latency"] = latency_table(results);
    note(
        "Latency: results.json keeps the benchmark's summary per brain (min, median, p90, p99, "
        "max), not the single measurements, so the latency chart shows that summary, not a "
        "histogram.");
    page["quantization"] = quantization_layers(dir_, results);
    page["videos"] = videos(results);
    page["circuits"] = circuits(results);
    page["wall_clock"] = results.value("wall_clock", Json());
    page["notes"] = notes_;
    return page;
  }

 private:
  void note(const std::string& text) {
    notes_.push_back(text);
    result_.notes.push_back(dir_.string() + ": " + text);
  }

  void progress(const std::string& line) const {
    if (opt_.progress) std::fprintf(stderr, "report: %s\n", line.c_str());
  }

  Json videos(const Json& results) {
    Json out = Json::array();
    std::vector<std::string> left;
    const std::vector<const Json*> runs = video_runs(results, opt_.videos, left);
    for (const auto& n : left) note(n);
    for (const Json* run : runs) {
      const RunKey key = run_key(*run);
      const std::string label =
          variant_label(key.model, key.slowdown) + " on " + key.circuit + " " + key.direction;
      try {
        const EpisodeSpec spec = episode_spec(dir_, results, *run);
        const auto t0 = std::chrono::steady_clock::now();
        const Replay full = replay(spec);
        ++result_.replays;
        if (!full.matches) {
          ++result_.replay_mismatches;
          note("The re-drive of " + label + " differs from results.json (" + full.difference +
               "): the code changed since the study ran; its video shows today's drive.");
        }
        const double start = clip_start(full.result.trajectory, opt_.video_s);
        const double end = std::min(start + opt_.video_s, full.result.metrics.sim_time_s);
        const Clip clip =
            record_clip(spec, start, end, opt_.video_width, work_ / safe_file_name(label));
        result_.videos += 1;
        result_.video_bytes += clip.bytes.size();
        progress(label + ": re-driven and filmed (" + std::to_string(clip.bytes.size() / 1024) +
                 " kB, " +
                 std::to_string(
                     std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count())
                     .substr(0, 4) +
                 " s)");
        replayed_.push_back({key, full.result.trajectory});
        out.push_back({{"model", key.model},
                       {"label", variant_label(key.model, key.slowdown)},
                       {"circuit", key.circuit},
                       {"direction", key.direction},
                       {"repetition", key.repetition},
                       {"slowdown", key.slowdown},
                       {"start_s", clip.start_s},
                       {"end_s", clip.end_s},
                       {"termination", full.result.metrics.termination},
                       {"driving_score", full.result.metrics.driving_score},
                       {"matches_results", full.matches},
                       {"difference", full.difference},
                       {"mime", clip.mime},
                       {"codec", clip.codec},
                       {"width", clip.width},
                       {"height", clip.height},
                       {"frames", clip.frames},
                       {"bytes", clip.bytes.size()},
                       {"data", base64(clip.bytes)}});
      } catch (const InputError& e) {
        note("No video of " + label + ": " + e.what());
      }
    }
    return out;
  }

  // Per circuit and direction driven: the centre line and, for every variant, its repetition 0:
  // the stored trajectory (closed_loop[].trajectory) or, where none is stored, the re-drive's.
  Json circuits(const Json& results) {
    struct Drawn {
      const Json* run;
      std::vector<sim::TrajectorySample> samples;
      std::string source;  // "results" | "re-drive"
    };
    std::vector<std::pair<std::string, std::string>> order;
    std::map<std::pair<std::string, std::string>, std::vector<Drawn>> drawn;
    bool any_stored = false;
    for (const auto& run : results["closed_loop"]) {
      const RunKey key = run_key(run);
      const std::pair<std::string, std::string> where{key.circuit, key.direction};
      if (std::find(order.begin(), order.end(), where) == order.end()) order.push_back(where);
      if (key.repetition != 0) continue;
      Drawn d{&run, {}, ""};
      if (run.contains("trajectory") && run["trajectory"].is_string()) {
        any_stored = true;
        try {
          d.samples = sim::read_trajectory(dir_ / run["trajectory"].get<std::string>());
          d.source = "results";
        } catch (const InputError& e) {
          note(std::string("Trajectory not drawn: ") + e.what());
        }
      }
      for (const auto& r : replayed_) {
        if (d.samples.empty() && r.key == key) {
          d.samples = r.trajectory;
          d.source = "re-drive";
        }
      }
      if (!d.samples.empty()) drawn[where].push_back(std::move(d));
    }
    if (!any_stored) {
      note(
          "results.json stores no trajectories (written before the study kept them): the maps "
          "show the re-driven runs only.");
    }
    Json out = Json::array();
    for (const auto& where : order) {
      if (!drawn.count(where)) continue;
      Json entry = {{"circuit", where.first}, {"direction", where.second}};
      double length = 0.0;
      try {
        length = track::load_circuit(where.first, track::parse_direction(where.second)).length();
        entry["length_m"] = length;
        entry["centre"] = centre_line(where.first, where.second, 1.0);
      } catch (const InputError& e) {
        note("Circuit " + where.first + " not drawn: " + e.what());
        continue;
      }
      Json runs = Json::array();
      for (const Drawn& d : drawn[where]) {
        const RunKey key = run_key(*d.run);
        Json series = trajectory_series(d.samples, length, opt_.max_trajectory_points);
        series["model"] = key.model;
        series["slowdown"] = key.slowdown;
        series["label"] = variant_label(key.model, key.slowdown);
        series["source"] = d.source;
        series["termination"] = (*d.run)["metrics"].value("termination", "");
        runs.push_back(series);
      }
      entry["runs"] = runs;
      out.push_back(entry);
    }
    return out;
  }

  fs::path dir_;
  const ReportOptions& opt_;
  fs::path work_;
  ReportResult& result_;
  std::vector<Replayed> replayed_;
  std::vector<std::string> notes_;
};

// The page's output path, checked writable before any work.
fs::path output_path(const fs::path& wanted, const fs::path& fallback) {
  fs::path out = wanted.empty() ? fallback : wanted;
  check_writable(out);
  return out;
}

ReportResult finish(const fs::path& out, const Json& page, std::chrono::steady_clock::time_point t0,
                    ReportResult result) {
  const std::string html = render_page(page);
  write_file_atomic(out, html);
  result.out = out;
  result.bytes = html.size();
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return result;
}

}  // namespace

ReportResult write_report(const fs::path& run_dir, const ReportOptions& options) {
  const auto t0 = std::chrono::steady_clock::now();
  (void)read_results(run_dir);  // a wrong folder fails before anything is written
  (void)echarts_js();           // and so does a build without ECharts
  const fs::path out = output_path(options.out, run_dir / "report.html");
  ReportResult result;
  WorkDir work(out);
  Json page = {{"kind", "report"}};
  Json run = RunPage(run_dir, options, work.path() / "a", result).build();
  page["title"] = "pitlane study " + run.value("name", "") + ": report";
  page["runs"] = Json::array({run});
  return finish(out, page, t0, result);
}

ReportResult write_comparison(const fs::path& run_a, const fs::path& run_b,
                              const ReportOptions& options) {
  const auto t0 = std::chrono::steady_clock::now();
  (void)read_results(run_a);
  (void)read_results(run_b);
  (void)echarts_js();
  const fs::path out = output_path(options.out, "compare.html");
  ReportResult result;
  WorkDir work(out);
  Json page = {{"kind", "compare"}};
  Json a = RunPage(run_a, options, work.path() / "a", result).build();
  Json b = RunPage(run_b, options, work.path() / "b", result).build();
  page["title"] = "pitlane: " + a.value("name", "") + " vs " + b.value("name", "");
  page["differences"] = differences(a, b);
  page["runs"] = Json::array({a, b});
  return finish(out, page, t0, result);
}

}  // namespace pitlane::report
