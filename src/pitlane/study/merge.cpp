#include "pitlane/study/merge.h"

#include <algorithm>
#include <chrono>
#include <map>

#include "pitlane/core/error.h"
#include "pitlane/core/files.h"
#include "pitlane/study/report.h"
#include "pitlane/study/shards.h"
#include "pitlane/study/stage_cache.h"
#include "pitlane/study/stage_results.h"

namespace pitlane::study {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;

struct Manifest {
  fs::path path;
  Json json;
  int index = 0;
  int count = 0;
};

std::string short_hash(const Json& j) {
  return j.is_string() ? j.get<std::string>().substr(0, 12) : std::string("none");
}

Manifest read_manifest(const fs::path& path) {
  Manifest m;
  m.path = path;
  try {
    m.json = Json::parse(read_file(path));
  } catch (const nlohmann::json::exception& e) {
    throw InputError(path.string() + ": not a shard manifest (invalid JSON: " +
                     std::string(e.what()) + "); rerun that shard");
  }
  if (!m.json.is_object() || m.json.value("format", "") != kShardFormat ||
      !m.json.contains("shard") || !m.json.contains("shards") || !m.json.contains("units")) {
    throw InputError(path.string() + ": not a shard manifest of format " +
                     std::string(kShardFormat) + "; give the run folder or RUN/shards/I-of-N.json");
  }
  m.index = m.json["shard"].get<int>();
  m.count = m.json["shards"].get<int>();
  return m;
}

// Every shard manifest (I-of-N.json) in RUN/shards.
std::vector<fs::path> manifests_in(const fs::path& run_dir) {
  std::vector<fs::path> out;
  const fs::path dir = run_dir / "shards";
  if (!fs::is_directory(dir)) {
    throw InputError(run_dir.string() + ": no shards/ folder: not the run folder of a sharded " +
                     "study; run pitlane study CONFIG --shard I/N first (or give RUN/shards/" +
                     "I-of-N.json)");
  }
  for (const auto& e : fs::directory_iterator(dir)) {
    const std::string name = e.path().filename().string();
    if (e.is_regular_file() && name.find("-of-") != std::string::npos &&
        e.path().extension() == ".json") {
      out.push_back(e.path());
    }
  }
  std::sort(out.begin(), out.end());
  if (out.empty()) {
    throw InputError(dir.string() + ": no shard manifests (I-of-N.json): no shard has finished; " +
                     "run pitlane study CONFIG --shard I/N for every I first");
  }
  return out;
}

// The manifests `inputs` name, one per shard, all of one run folder and one shard count.
std::vector<Manifest> collect(const std::vector<fs::path>& inputs, fs::path& run_dir) {
  if (inputs.empty()) throw InputError("merge: no run folder given; give RUN_DIR or its manifests");
  std::vector<Manifest> all;
  for (const auto& input : inputs) {
    if (fs::is_directory(input)) {
      for (const auto& p : manifests_in(input)) all.push_back(read_manifest(p));
    } else if (fs::is_regular_file(input)) {
      all.push_back(read_manifest(input));
    } else {
      throw InputError(input.string() + ": no such file or folder; give the run folder of a " +
                       "sharded study (RUNS_DIR/NAME) or its RUN/shards/I-of-N.json");
    }
  }
  run_dir = fs::weakly_canonical(all.front().path).parent_path().parent_path();
  for (const auto& m : all) {
    const fs::path here = fs::weakly_canonical(m.path).parent_path().parent_path();
    if (here != run_dir) {
      throw InputError(m.path.string() + ": belongs to the run folder " + here.string() + ", not " +
                       run_dir.string() + "; merge the shards of one run at a time");
    }
    if (m.count != all.front().count) {
      throw InputError(run_dir.string() + "/shards: holds shards of " +
                       std::to_string(all.front().count) + " and of " + std::to_string(m.count) +
                       " (" + m.path.filename().string() + "); name the manifests of one run, " +
                       "e.g. pitlane merge " + run_dir.string() + "/shards/*-of-" +
                       std::to_string(m.count) + ".json");
    }
  }
  const int count = all.front().count;
  std::vector<Manifest> by_index(static_cast<size_t>(count));
  std::vector<bool> seen(static_cast<size_t>(count), false);
  for (auto& m : all) {
    if (m.index < 0 || m.index >= count) {
      throw InputError(m.path.string() + ": shard " + std::to_string(m.index) + " of " +
                       std::to_string(count) + " is out of range; rerun that shard");
    }
    seen[static_cast<size_t>(m.index)] = true;
    by_index[static_cast<size_t>(m.index)] = std::move(m);
  }
  for (int i = 0; i < count; ++i) {
    if (!seen[static_cast<size_t>(i)]) {
      const ShardSpec missing{.index = i, .count = count};
      throw InputError(shard_manifest_path(run_dir, missing).string() + ": shard " +
                       missing.label() + " is missing (not run, failed or still running); run " +
                       "pitlane study CONFIG --shard " + missing.label() +
                       " (it reuses what it finished), then merge again");
    }
  }
  return by_index;
}

// Every shard must have run the same study on the same code with the same plan.
void check_agreement(const std::vector<Manifest>& shards) {
  const Manifest& first = shards.front();
  for (const Manifest& m : shards) {
    const std::string which = "shard " + ShardSpec{m.index, m.count}.label();
    const std::string other = "shard " + ShardSpec{first.index, first.count}.label();
    if (m.json["config_sha256"] != first.json["config_sha256"]) {
      throw InputError(m.path.string() + ": " + which + " ran config hash " +
                       short_hash(m.json["config_sha256"]) + ", " + other + " " +
                       short_hash(first.json["config_sha256"]) +
                       ": the shards ran different configs; rerun " + which +
                       " with the config (and --name, --timing, --jobs) of the others");
    }
    if (m.json["code_sha256"] != first.json["code_sha256"]) {
      throw InputError(m.path.string() + ": " + which + " ran code hash " +
                       short_hash(m.json["code_sha256"]) + ", " + other + " " +
                       short_hash(first.json["code_sha256"]) +
                       ": the shards ran binaries built from different sources; rerun " + which +
                       " with the binary of the others");
    }
    for (const auto& [stage, key] : first.json["stage_keys"].items()) {
      if (m.json["stage_keys"].value(stage, "") != key) {
        throw InputError(m.path.string() + ": " + which + " computed the " + stage +
                         " stage from other inputs than " + other + " (key " +
                         short_hash(m.json["stage_keys"].value(stage, Json())) + " vs " +
                         short_hash(key) + ": the users' recordings or models changed " +
                         "between shards?); rerun " + which);
      }
    }
    if (m.json["units"] != first.json["units"]) {
      throw InputError(m.path.string() + ": " + which + " planned other units than " + other +
                       "; rerun " + which);
    }
  }
}

// A unit's result from the store, checked against the plan.
Json unit_result(const UnitStore& store, const fs::path& run_dir, const std::string& stage,
                 const Json& unit, int count) {
  const std::string id = unit.at("id").get<std::string>();
  auto hit = store.lookup(stage, id, unit.at("key").get<std::string>());
  if (!hit) {
    const ShardSpec owner{.index = unit.at("owner").get<int>(), .count = count};
    throw InputError(store.file(stage, id).string() + ": " + stage + " " + id + " of shard " +
                     owner.label() + " is missing, stale or lost a file (a later run in " +
                     run_dir.string() + " replaced it?); rerun pitlane study CONFIG --shard " +
                     owner.label() + ", then merge again");
  }
  return std::move(*hit);
}

template <typename T>
std::vector<T> units_of(const UnitStore& store, const fs::path& run_dir, const Json& plan,
                        const std::string& stage, int count) {
  std::vector<T> out;
  for (const Json& unit : plan.at(stage)) {
    T t;
    from_json(unit_result(store, run_dir, stage, unit, count), t);
    out.push_back(std::move(t));
  }
  return out;
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

MergeResult merge_shards(const std::vector<fs::path>& inputs) {
  const auto t0 = std::chrono::steady_clock::now();
  fs::path run_dir;
  const std::vector<Manifest> shards = collect(inputs, run_dir);
  check_agreement(shards);
  const Manifest& first = shards.front();
  const Json& plan = first.json["units"];
  const int count = first.count;
  const UnitStore store(run_dir);

  StudyStages s;
  try {
    from_json(first.json.at("shared").at("record"), s.record);
    from_json(first.json.at("shared").at("train"), s.train);
    from_json(first.json.at("shared").at("dagger"), s.dagger);
  } catch (const nlohmann::json::exception& e) {
    throw InputError(first.path.string() + ": damaged manifest (" + std::string(e.what()) +
                     "); rerun shard " + ShardSpec{first.index, count}.label());
  }
  s.optimize.models = units_of<OptimizedModel>(store, run_dir, plan, "optimize", count);
  s.evaluate.offline = units_of<OfflineRow>(store, run_dir, plan, "evaluate", count);
  s.benchmark.latency = units_of<LatencyRow>(store, run_dir, plan, "benchmark", count);
  s.drive.runs = units_of<DriveRun>(store, run_dir, plan, "drive", count);

  // Wall clock: each sharded stage took as long as its slowest shard; the whole study from the
  // first start (the prepare job's, if it ran for this config) to now.
  std::vector<const Json*> runs;
  for (const Manifest& m : shards) runs.push_back(&m.json);
  Json prepare;
  try {
    if (fs::exists(prepare_manifest_path(run_dir))) {
      prepare = Json::parse(read_file(prepare_manifest_path(run_dir)));
      if (prepare.value("config_sha256", "") == first.json["config_sha256"] &&
          prepare.value("code_sha256", "") == first.json["code_sha256"]) {
        runs.push_back(&prepare);
      }
    }
  } catch (const nlohmann::json::exception&) {
    // only wall-clock figures come from it
  }
  std::map<std::string, double> stage_s;
  double started = 1e300, finished = 0;
  std::vector<std::string> computed;
  for (const Json* j : runs) {
    const Json& wall = j->at("wall_clock");
    started = std::min(started, wall.at("started").get<double>());
    finished = std::max(finished, wall.at("finished").get<double>());
    const Json times = wall.value("stage_s", Json::object());
    for (const auto& [stage, seconds] : times.items())
      stage_s[stage] = std::max(stage_s[stage], seconds.get<double>());
    for (const auto& stage : j->at("computed")) computed.push_back(stage.get<std::string>());
  }
  s.optimize.stage_s = stage_s["optimize"];
  s.evaluate.stage_s = stage_s["evaluate"];
  s.benchmark.stage_s = stage_s["benchmark"];
  s.drive.stage_s = stage_s["drive"];
  std::vector<std::string> reused;
  for (const auto& stage : stage_names()) {
    if (stage == "report") continue;
    if (std::find(computed.begin(), computed.end(), stage) == computed.end())
      reused.push_back(stage);
  }

  // The merged stages, as the unsharded run would have cached them.
  const StageCache cache(run_dir / "stages", "");
  const Json& keys = first.json["stage_keys"];
  cache.store("optimize", keys["optimize"].get<std::string>(), to_json(s.optimize));
  cache.store("evaluate", keys["evaluate"].get<std::string>(), to_json(s.evaluate));
  cache.store("benchmark", keys["benchmark"].get<std::string>(), to_json(s.benchmark));
  cache.store("drive", keys["drive"].get<std::string>(), to_json(s.drive));

  Json wall;
  wall["total_s"] = std::max(0.0, finished - started) + seconds_since(t0);
  wall["reused_stages"] = reused;
  MergeResult out;
  out.run_dir = run_dir;
  out.shards = count;
  out.results =
      build_results(first.json["study"].get<std::string>(), first.json["config"], s, wall);
  out.tables = results_tables(out.results, /*markdown=*/false);
  write_file_atomic(run_dir / "results.json", out.results.dump(2) + "\n");
  write_file_atomic(run_dir / "results.md", results_markdown(out.results));
  return out;
}

}  // namespace pitlane::study
