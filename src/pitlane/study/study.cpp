#include "pitlane/study/study.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <sstream>

#include "pitlane/autotune/autotune.h"
#include "pitlane/brain/explicit_brain.h"
#include "pitlane/brain/neural_brain.h"
#include "pitlane/core/error.h"
#include "pitlane/core/files.h"
#include "pitlane/core/sha256.h"
#include "pitlane/data/dataset.h"
#include "pitlane/eval/offline_eval.h"
#include "pitlane/quant/optimize.h"
#include "pitlane/record/recorder.h"
#include "pitlane/study/closed_loop.h"
#include "pitlane/study/report.h"
#include "pitlane/study/stage_cache.h"
#include "pitlane/study/stage_results.h"
#include "pitlane/train/pilotnet.h"
#include "pitlane/train/train_job.h"
#include "pitlane/train/training_recipes.h"

namespace pitlane::study {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// Seconds since 1970 (wall clock): when a shard started and finished, comparable across hosts.
double unix_seconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// drives/<model>_<circuit>_<dir>_x<slowdown>_r<rep>.csv.gz, every part a safe file name (a
// circuit may be a CSV path or generated:SEED).
fs::path trajectory_file(const std::string& model, const std::string& circuit,
                         const std::string& direction, double slowdown, int repetition) {
  char factor[32];
  std::snprintf(factor, sizeof factor, "%g", slowdown);
  const std::string circuit_name =
      fs::path(circuit).extension() == ".csv" ? fs::path(circuit).stem().string() : circuit;
  return fs::path("drives") /
         safe_file_name(model + "_" + circuit_name + "_" + direction + "_x" + factor + "_r" +
                        std::to_string(repetition) + ".csv.gz");
}

std::vector<track::Direction> parse_directions(const std::vector<std::string>& names) {
  std::vector<track::Direction> out;
  for (const auto& n : names) out.push_back(track::parse_direction(n));
  return out;
}

// Leftovers of an interrupted run (staging folders, temporary files) are removed at the start.
void remove_stale_partials(const fs::path& run_dir) {
  if (!fs::exists(run_dir)) return;
  std::vector<fs::path> stale;
  for (auto it = fs::recursive_directory_iterator(run_dir);
       it != fs::recursive_directory_iterator(); ++it) {
    const std::string name = it->path().filename().string();
    if (name.size() > 1 && name[0] == '.' &&
        (name.find(".partial-") != std::string::npos || name.find(".tmp-") != std::string::npos)) {
      stale.push_back(it->path());
      if (it->is_directory()) it.disable_recursion_pending();
    }
  }
  for (const auto& p : stale) fs::remove_all(p);
}

// A recording's name as data::load_recording gives it: its folder's name.
std::string recording_name(const fs::path& dir) {
  const fs::path normal = dir.lexically_normal();
  const std::string name = normal.filename().string();
  return name.empty() ? normal.parent_path().filename().string() : name;
}

// What the stages that read the users' recordings hash into their keys: each recording's name,
// the SHA-256 of its data.csv and of the sorted list of its PNG names. A changed label or an
// added, removed or renamed frame changes the key; the pixels of a PNG are not read.
Json recordings_fingerprint(const std::vector<fs::path>& dirs) {
  Json out = Json::array();
  for (const auto& dir : dirs) {
    std::vector<std::string> pngs;
    for (const auto& e : fs::directory_iterator(dir)) {
      if (e.path().extension() == ".png") pngs.push_back(e.path().filename().string());
    }
    std::sort(pngs.begin(), pngs.end());
    std::string list;
    for (const auto& p : pngs) list += p + "\n";
    out.push_back({{"name", recording_name(dir)},
                   {"data_csv_sha256", sha256_file(dir / "data.csv")},
                   {"png_names_sha256", sha256_hex(list)}});
  }
  return out;
}

// A model of the study: its name in the results and its file relative to the run folder.
struct StudyModel {
  std::string name;
  std::string file;
  std::string recipe;
  std::string sha256;  // users' models: of the copy in the run folder (in the stage keys)
};

// Every stage's key (stage_cache.h); the stages downstream hash them.
struct StageKeys {
  std::string record, train, dagger, optimize, evaluate, benchmark, drive;
};

// A brain the benchmark and drive stages time and drive: the expert (no file) or a model.
struct Driver {
  std::string name;
  fs::path file;
};

// One unit of a shard's work done (shards.h): its result and the files it made.
struct UnitOutput {
  Json result;
  std::vector<std::string> files;  // relative to the run folder
};

class StudyRun {
 public:
  StudyRun(const StudyConfig& config, const StudyOptions& options)
      : cfg_(config),
        opt_(options),
        dir_(config.runs_dir / config.name),
        cache_(dir_ / "stages", options.from),
        own_train_(expand_recordings(config.record.recordings)),
        own_test_(expand_recordings(config.evaluate.recordings)) {}

  StudyResult run() {
    const auto t0 = std::chrono::steady_clock::now();
    prepare_folder();
    if (opt_.prepare || opt_.shard.sharded()) return run_sharded(t0);

    StudyStages s;
    StageKeys k = shared_stages(s);
    k.optimize = stage("optimize", optimize_inputs(k), s.optimize,
                       [&] { return run_optimize(s.record, s.dagger); });
    const std::vector<StudyModel> models = study_models(s.dagger, s.optimize.models);
    const Json model_inputs = inputs_of(models);
    k.evaluate = stage("evaluate", evaluate_inputs(k, model_inputs), s.evaluate,
                       [&] { return run_evaluate(s.record, models); });
    k.benchmark = stage("benchmark", benchmark_inputs(k, model_inputs), s.benchmark,
                        [&] { return run_benchmark(models); });
    stage("drive", drive_inputs(k, model_inputs, s.benchmark), s.drive,
          [&] { return run_drive(models, s.benchmark); });

    StudyResult out;
    out.run_dir = dir_;
    out.reused = reused_;
    Json wall;
    wall["total_s"] = seconds_since(t0);
    wall["reused_stages"] = reused_;
    out.results = build_results(cfg_, s, wall);
    out.tables = results_tables(out.results, /*markdown=*/false);
    write_file_atomic(dir_ / "results.json", out.results.dump(2) + "\n");
    write_file_atomic(dir_ / "results.md", results_markdown(out.results));
    return out;
  }

 private:
  // The prepare job (opt_.prepare) or one shard (opt_.shard); shards.h has the design.
  StudyResult run_sharded(std::chrono::steady_clock::time_point t0) {
    const double started = unix_seconds();
    const UnitStore units(dir_);
    StudyStages s;
    StageKeys k;
    std::vector<StudyModel> models;
    {
      // The shared stages, once: whoever takes the lock first computes them; the others wait
      // and then find them in the stage cache.
      const FileLock lock = FileLock::acquire(units.lock("shared"), [&](const std::string& who) {
        log("waiting for the shared stages (record, train, dagger): " + who + " holds " +
            units.lock("shared").string());
      });
      remove_stale_partials(dir_ / "data");  // only the lock's holder writes there
      k = shared_stages(s);
      std::vector<OptimizedModel> planned;
      for (const auto& v : cfg_.optimize.recipes) planned.push_back(planned_model(v));
      models = study_models(s.dagger, planned);
    }
    std::vector<std::string> computed;  // stages this process computed (a part of)
    for (const char* name : {"record", "train", "dagger"}) {
      if (std::find(reused_.begin(), reused_.end(), name) == reused_.end())
        computed.push_back(name);
    }
    Json manifest;
    manifest["format"] = kShardFormat;
    manifest["study"] = cfg_.name;
    if (opt_.shard.sharded()) {
      manifest["shard"] = opt_.shard.index;
      manifest["shards"] = opt_.shard.count;
    }
    manifest["config_sha256"] = config_sha256(cfg_);
    manifest["code_sha256"] = code_sha256();
    StudyResult out;
    out.run_dir = dir_;
    if (opt_.prepare) {
      manifest["computed"] = computed;
      manifest["wall_clock"] = {
          {"started", started}, {"finished", unix_seconds()}, {"total_s", seconds_since(t0)}};
      write_file_atomic(prepare_manifest_path(dir_), manifest.dump(2) + "\n");
      out.results = manifest;
      out.reused = reused_;
      out.tables = "prepared " + cfg_.name + ": record, train and dagger are in " +
                   (dir_ / "stages").string() + "; run the shards next\n";
      return out;
    }

    const ShardSpec me = opt_.shard;
    const Json model_inputs = inputs_of(models);
    k.optimize = stage_key("optimize", optimize_inputs(k));
    k.evaluate = stage_key("evaluate", evaluate_inputs(k, model_inputs));
    k.benchmark = stage_key("benchmark", benchmark_inputs(k, model_inputs));
    Json plan = Json::object();     // every unit: id, key, owner
    Json stage_s = Json::object();  // wall clock of each phase of this shard
    Json counts = Json::object();   // per stage: units computed here, taken from the store
    auto phase = [&](const std::string& stage, std::chrono::steady_clock::time_point since,
                     const UnitCounts& c) {
      stage_s[stage] = seconds_since(since);
      counts[stage] = {{"computed", c.computed}, {"from_store", c.from_store}};
      if (c.computed > 0) computed.push_back(stage);
    };

    // optimize: every variant, this shard's first (the others' are needed by its drives).
    auto t = std::chrono::steady_clock::now();
    UnitCounts c;
    OptimizeContext ctx = optimize_context(s.record, s.dagger);
    std::vector<double> costs;
    std::vector<std::string> ids;
    for (size_t i = 0; i < cfg_.optimize.recipes.size(); ++i) {
      costs.push_back(recipe_cost(cfg_.optimize.recipes[i], cfg_.optimize));
      ids.push_back(unit_id(i, cfg_.optimize.recipes[i].name));
    }
    (void)shard_units("optimize", ids, plan_owners(costs, me.count), k.optimize, true, plan, c,
                      [&](size_t i) {
                        const OptimizedModel m = optimize_variant(cfg_.optimize.recipes[i], ctx);
                        return UnitOutput{to_json(m), {m.file, m.report}};
                      });
    ctx.runner.reset();
    phase("optimize", t, c);

    // benchmark: every brain (its latency goes into every drive's key).
    t = std::chrono::steady_clock::now();
    c = {};
    const std::vector<Driver> brains = drivers(models);
    ids.clear();
    for (size_t i = 0; i < brains.size(); ++i) ids.push_back(unit_id(i, brains[i].name));
    BenchmarkResult benchmark;
    for (const Json& row :
         shard_units("benchmark", ids, plan_owners(std::vector<double>(ids.size(), 1.0), me.count),
                     k.benchmark, true, plan, c, [&](size_t i) {
                       LatencyRow row = measure(brains[i]);
                       const FileLock memo_lock = FileLock::acquire(units.lock("latency"));
                       Json memo = read_latency_memo();
                       use_latency_memo(row, brains[i].file, memo);
                       write_file_atomic(latency_memo_path(), memo.dump(2) + "\n");
                       return UnitOutput{to_json(row), {}};
                     })) {
      benchmark.latency.push_back({});
      from_json(row, benchmark.latency.back());
    }
    phase("benchmark", t, c);

    // evaluate: this shard's models only.
    t = std::chrono::steady_clock::now();
    c = {};
    const std::vector<fs::path> test = test_data(s.record);
    ids.clear();
    for (size_t i = 0; i < models.size(); ++i) ids.push_back(unit_id(i, models[i].name));
    (void)shard_units("evaluate", ids, plan_owners(std::vector<double>(ids.size(), 1.0), me.count),
                      k.evaluate, false, plan, c, [&](size_t i) {
                        return UnitOutput{to_json(evaluate_one(models[i], test)), {}};
                      });
    phase("evaluate", t, c);

    // drive: this shard's drives, in parallel; each stored as soon as it ends.
    t = std::chrono::steady_clock::now();
    c = {};
    k.drive = stage_key("drive", drive_inputs(k, model_inputs, benchmark));
    const std::vector<DriveJob> jobs = drive_jobs(models, benchmark);
    const std::vector<int> owners = plan_owners(std::vector<double>(jobs.size(), 1.0), me.count);
    Json& drive_plan = plan["drive"] = Json::array();
    std::vector<DriveJob> todo;
    std::vector<std::string> todo_ids;
    for (size_t i = 0; i < jobs.size(); ++i) {
      const std::string id = unit_id(i, jobs[i].model);
      const std::string key = unit_key(k.drive, id);
      drive_plan.push_back({{"id", id}, {"key", key}, {"owner", owners[i]}});
      if (owners[i] != me.index) continue;
      if (units.lookup("drive", id, key)) {
        ++c.from_store;
      } else {
        todo.push_back(jobs[i]);
        todo_ids.push_back(id);
      }
    }
    log("stage drive: " + std::to_string(todo.size()) + " drives of shard " + me.label() + " (" +
        std::to_string(c.from_store) + " done before)");
    run_drives(todo, cfg_.drive.jobs, !opt_.quiet, [&](size_t i, const DriveOutcome& o) {
      const DriveRun run = drive_run(o);
      std::vector<std::string> files;
      if (!run.trajectory.empty()) files.push_back(run.trajectory);
      units.store("drive", todo_ids[i], unit_key(k.drive, todo_ids[i]), to_json(run), files);
    });
    c.computed = static_cast<int>(todo.size());
    phase("drive", t, c);

    manifest["config"] = to_json(cfg_);
    manifest["stage_keys"] = {{"record", k.record},     {"train", k.train},
                              {"dagger", k.dagger},     {"optimize", k.optimize},
                              {"evaluate", k.evaluate}, {"benchmark", k.benchmark},
                              {"drive", k.drive}};
    manifest["shared"] = {
        {"record", to_json(s.record)}, {"train", to_json(s.train)}, {"dagger", to_json(s.dagger)}};
    manifest["units"] = plan;
    manifest["computed"] = computed;
    manifest["wall_clock"] = {{"started", started},
                              {"finished", unix_seconds()},
                              {"total_s", seconds_since(t0)},
                              {"stage_s", stage_s},
                              {"units", counts}};
    const fs::path manifest_path = shard_manifest_path(dir_, me);
    write_file_atomic(manifest_path, manifest.dump(2) + "\n");

    out.results = manifest;
    out.reused = reused_;
    out.tables = shard_summary(me, counts, manifest_path);
    return out;
  }

  struct UnitCounts {
    int computed = 0;    // units this shard computed
    int from_store = 0;  // units found done (by an earlier run of it or by another shard)
  };

  // "0003-int8": a unit's id, its index in the stage's plan and a readable name.
  static std::string unit_id(size_t index, const std::string& name) {
    char number[16];
    std::snprintf(number, sizeof number, "%04zu", index);
    return std::string(number) + "-" + safe_file_name(name);
  }

  // The units of one stage (ids[i], owned by owners[i]) for this shard, each taken from the
  // store or computed here: this shard's own first, then, with `all`, the other shards' too
  // (from the last, where their owners are least likely to be yet). A unit that another
  // process is computing (its lock is held) is waited for after the rest; one that nobody holds
  // is computed here. Adds the stage's plan to `plan`; returns every ensured unit's result
  // (null for the other shards' units without `all`).
  std::vector<Json> shard_units(const std::string& stage, const std::vector<std::string>& ids,
                                const std::vector<int>& owners, const std::string& stage_key,
                                bool all, Json& plan, UnitCounts& counts,
                                const std::function<UnitOutput(size_t)>& compute) {
    const UnitStore units(dir_);
    const int me = opt_.shard.index;
    Json& list = plan[stage] = Json::array();
    std::vector<size_t> order;
    for (size_t i = 0; i < ids.size(); ++i) {
      list.push_back({{"id", ids[i]}, {"key", unit_key(stage_key, ids[i])}, {"owner", owners[i]}});
      if (owners[i] == me) order.push_back(i);
    }
    for (size_t i = ids.size(); all && i-- > 0;) {
      if (owners[i] != me) order.push_back(i);
    }
    std::vector<Json> results(ids.size());
    auto take = [&](size_t i) {
      auto hit = units.lookup(stage, ids[i], unit_key(stage_key, ids[i]));
      if (hit) {
        results[i] = std::move(*hit);
        ++counts.from_store;
      }
      return hit.has_value();
    };
    auto compute_here = [&](size_t i) {  // with the unit's lock held
      if (take(i)) return;
      UnitOutput u = compute(i);
      units.store(stage, ids[i], unit_key(stage_key, ids[i]), u.result, u.files);
      results[i] = std::move(u.result);
      ++counts.computed;
    };
    std::vector<size_t> busy;
    for (size_t i : order) {
      if (take(i)) continue;
      if (auto lock = FileLock::try_acquire(units.lock(stage + "." + ids[i]))) {
        compute_here(i);
      } else {
        busy.push_back(i);
      }
    }
    for (size_t i : busy) {
      const FileLock lock =
          FileLock::acquire(units.lock(stage + "." + ids[i]), [&](const std::string& who) {
            log("waiting for " + stage + " " + ids[i] + ": " + who + " is computing it");
          });
      compute_here(i);
    }
    return results;
  }

  std::string shard_summary(const ShardSpec& me, const Json& counts,
                            const fs::path& manifest_path) const {
    std::string text = "shard " + me.label() + " of " + cfg_.name + " done:";
    for (const auto& [stage, c] : counts.items()) {
      text += " " + stage + " " + std::to_string(c["computed"].get<int>()) + " computed, " +
              std::to_string(c["from_store"].get<int>()) + " from the store;";
    }
    text.back() = '\n';
    return text + "manifest: " + manifest_path.string() +
           "\nwhen every shard is done: pitlane merge " + dir_.string() + "\n";
  }

  // Runs stage `name` (or takes its cached result) into `result`; returns its key, which the
  // stages downstream hash.
  template <typename Result, typename Compute>
  std::string stage(const std::string& name, const Json& inputs, Result& result,
                    const Compute& compute) {
    std::string key = stage_key(name, inputs);
    if (auto hit = cache_.lookup(name, key)) {
      try {
        from_json(*hit, result);
        log("stage " + name + ": unchanged, reusing " +
            (dir_ / "stages" / (name + ".json")).string());
        reused_.push_back(name);
        return key;
      } catch (const nlohmann::json::exception&) {
        // an entry of another shape is recomputed, like a damaged one
      }
    }
    log("stage " + name);
    const auto t0 = std::chrono::steady_clock::now();
    result = compute();
    result.stage_s = seconds_since(t0);
    cache_.store(name, key, to_json(result));
    return key;
  }

  void log(const std::string& line) const {
    if (!opt_.quiet) std::fprintf(stderr, "== %s\n", line.c_str());
  }

  // Before any work: every training split can be made, and the run folder can be written.
  void prepare_folder() {
    check_splits();
    const fs::path probe = dir_ / "config.json";
    try {
      check_writable(probe);
    } catch (const InputError& e) {
      // check_writable names the probe and suggests another output path; here it is a folder.
      std::string why = e.what();
      if (why.starts_with(probe.string() + ": ")) why.erase(0, probe.string().size() + 2);
      why = why.substr(0, why.find("; choose"));
      throw InputError("runs_dir: the study's folder " + dir_.string() + " cannot be written: " +
                       why + "; set runs_dir (or --runs-dir) to a writable folder");
    }
    fs::create_directories(dir_);
    // Other shards may be writing into the folder now: a shard leaves their partial files alone
    // (it clears data/ under the shared stages' lock).
    if (!opt_.prepare && !opt_.shard.sharded()) remove_stale_partials(dir_);
    write_file_atomic(dir_ / "config.json", to_json(cfg_).dump(2) + "\n");
  }

  // The stages every shard shares: record, train, dagger (their keys in `k`).
  StageKeys shared_stages(StudyStages& s) {
    StageKeys k;
    // The expert's recordings do not depend on the users' ones.
    Json record_config = to_json(cfg_.record);
    Json evaluate_config = to_json(cfg_.evaluate);
    record_config.erase("recordings");
    evaluate_config.erase("recordings");
    k.record = stage(
        "record", {{"record", record_config}, {"evaluate", evaluate_config}, {"seed", cfg_.seed}},
        s.record, [&] { return run_record(); });
    k.train = stage("train",
                    {{"train", to_json(cfg_.train)},
                     {"seed", cfg_.seed},
                     {"threads", cfg_.threads},
                     {"recordings", recordings_fingerprint(own_train_)},
                     {"record", k.record}},
                    s.train, [&] { return run_train(s.record); });
    k.dagger = stage("dagger",
                     {{"dagger", to_json(cfg_.dagger)},
                      {"train", to_json(cfg_.train)},
                      {"seed", cfg_.seed},
                      {"threads", cfg_.threads},
                      {"upstream", k.train}},
                     s.dagger, [&] { return run_dagger(s.record, s.train); });
    return k;
  }

  // What the keys of the later stages hash (the same for a shard as for an unsharded run).
  Json optimize_inputs(const StageKeys& k) const {
    Json inputs = {
        {"optimize", to_json(cfg_.optimize)}, {"seed", cfg_.seed}, {"upstream", k.dagger}};
    // The auto recipe drives: its models depend on the drive set and the code that drives too.
    const auto& recipes = cfg_.optimize.recipes;
    if (std::any_of(recipes.begin(), recipes.end(),
                    [](const RecipeVariant& v) { return v.recipe == "auto"; })) {
      const CodeHashes& code = built_code_hashes();
      Json driving = {{"drive", to_json(cfg_.drive)},
                      {"benchmark_threads", cfg_.benchmark.threads}};
      for (const char* folder : {"track", "sim", "brain", "drive", "autotune", "circuits"})
        driving[folder] = code.at(folder);
      inputs["auto"] = driving;
    }
    return inputs;
  }
  Json evaluate_inputs(const StageKeys& k, const Json& model_inputs) const {
    const std::string& record = k.record;
    const std::string& optimize = k.optimize;
    return {{"models", model_inputs},
            {"threads", cfg_.threads},
            {"recordings", recordings_fingerprint(own_test_)},
            {"upstream", {record, optimize}}};
  }
  Json benchmark_inputs(const StageKeys& k, const Json& model_inputs) const {
    return {{"benchmark", to_json(cfg_.benchmark)},
            {"expert", cfg_.drive.expert},
            {"models", model_inputs},
            {"upstream", k.optimize}};
  }
  Json drive_inputs(const StageKeys& k, const Json& model_inputs,
                    const BenchmarkResult& benchmark) const {
    Json latencies = Json::array();  // what the drives use, without the wall-clock figures
    for (const auto& row : benchmark.latency) latencies.push_back({row.model, row.latency_ms});
    return {{"drive", to_json(cfg_.drive)},
            {"seed", cfg_.seed},
            {"models", model_inputs},
            {"latency", latencies},
            {"upstream", k.optimize}};
  }

  // The study's models: the baseline, the optimized ones, then the users' (copied in here).
  std::vector<StudyModel> study_models(const DaggerResult& dagger,
                                       const std::vector<OptimizedModel>& optimized) {
    std::vector<StudyModel> models = {{"baseline", dagger.model, "baseline", ""}};
    for (const auto& m : optimized) models.push_back({m.name, m.file, m.recipe, ""});
    for (const auto& m : import_user_models()) models.push_back(m);
    return models;
  }
  static Json inputs_of(const std::vector<StudyModel>& models) {
    Json model_inputs = Json::array();
    for (const auto& m : models) {
      model_inputs.push_back(m.sha256.empty() ? Json{m.name, m.file}
                                              : Json{m.name, m.file, m.sha256});
    }
    return model_inputs;
  }

  std::string rel(const fs::path& p) const { return fs::relative(p, dir_).generic_string(); }
  fs::path abs(const std::string& rel_path) const { return dir_ / rel_path; }

  // Records into dir_/folder, which is emptied first (it belongs to this stage).
  std::vector<std::string> record_into(const std::string& folder, record::RecordOptions o) {
    const fs::path out = dir_ / folder;
    fs::remove_all(out);
    fs::create_directories(out);
    o.show_progress = !opt_.quiet;
    std::vector<std::string> names;
    for (const auto& s : record::record(o, out)) names.push_back(rel(s.path));
    return names;
  }

  RecordResult run_record() {
    RecordResult result;
    record::RecordOptions o;
    o.circuits = cfg_.record.circuits;
    o.directions = parse_directions(cfg_.record.directions);
    fs::remove_all(dir_ / "data" / "train");
    fs::remove_all(dir_ / "data" / "test");
    // With the users' own recordings the expert may record nothing (config.h).
    if (!o.circuits.empty()) {
      o.frames = cfg_.record.frames;
      o.seed = cfg_.seed;
      for (auto& n : record_into("data/train/plain", o)) result.train_recordings.push_back(n);
    }
    if (!o.circuits.empty() && cfg_.record.perturbed_frames > 0) {
      o.frames = cfg_.record.perturbed_frames;
      o.perturb = true;
      o.seed = cfg_.seed + 1000;
      for (auto& n : record_into("data/train/perturbed", o)) result.train_recordings.push_back(n);
    }
    record::RecordOptions t;
    t.circuits = cfg_.evaluate.circuits;
    t.directions = parse_directions(cfg_.evaluate.directions);
    t.frames = cfg_.evaluate.frames;
    t.seed = cfg_.seed + 2000;
    if (!t.circuits.empty()) result.test_recordings = record_into("data/test", t);
    return result;
  }

  // Each training run's data in the order it is given: the expert's recordings, the users', then
  // the DAgger rounds' (`rounds` of them).
  std::vector<fs::path> training_data(const RecordResult& record,
                                      const std::vector<DaggerRound>& rounds) const {
    std::vector<fs::path> data = paths(record.train_recordings);
    data.insert(data.end(), own_train_.begin(), own_train_.end());
    for (const auto& round : rounds)
      for (const auto& r : round.recordings) data.push_back(abs(r));
    return data;
  }

  // The seeds of the training runs: they decide which recordings each holds out for validation.
  uint64_t train_seed() const { return cfg_.seed; }
  uint64_t dagger_seed(int round) const { return cfg_.seed + static_cast<uint64_t>(round); }
  uint64_t finetune_seed() const { return cfg_.seed; }

  // Training holds out whole recordings for validation (data::split_by_recording); a fraction too
  // large for the recordings there are would leave nothing to train on. Each run's split is made
  // here on stand-ins of the right sizes (the expert records exactly `frames` frames), so such a
  // config fails before the recording instead of in the middle of the study.
  void check_splits() const {
    const double fraction = cfg_.train.validation_fraction;
    if (fraction <= 0) return;
    std::vector<int> sizes;
    const size_t pairs = cfg_.record.circuits.size() * cfg_.record.directions.size();
    sizes.insert(sizes.end(), pairs, cfg_.record.frames);
    if (cfg_.record.perturbed_frames > 0)
      sizes.insert(sizes.end(), pairs, cfg_.record.perturbed_frames);
    for (const auto& dir : own_train_) {
      sizes.push_back(static_cast<int>(data::load_recording(dir).frames.size()));
    }
    auto check = [&](uint64_t seed, const std::string& which) {
      std::vector<data::Recording> recs(sizes.size());
      for (size_t i = 0; i < sizes.size(); ++i)
        recs[i].frames.resize(static_cast<size_t>(sizes[i]));
      try {
        (void)data::split_by_recording(recs, fraction, 0.0, seed);
      } catch (const InputError&) {
        std::ostringstream m;
        m << cfg_.source.string() << ": train.validation_fraction " << fraction << " leaves "
          << which << " nothing to train on: it holds out whole recordings, and there are "
          << sizes.size() << "; lower it or add recordings (record.circuits, record.directions, "
          << "record.recordings)";
        throw InputError(m.str());
      }
    };
    check(train_seed(), "the first training");
    for (int round = 1; round <= cfg_.dagger.rounds; ++round) {
      sizes.insert(sizes.end(), pairs, cfg_.dagger.frames);
      check(dagger_seed(round), "DAgger round " + std::to_string(round));
    }
    const bool fine_tunes =
        std::any_of(cfg_.optimize.recipes.begin(), cfg_.optimize.recipes.end(),
                    [](const RecipeVariant& v) { return train::is_training_recipe(v.recipe); });
    if (fine_tunes) check(finetune_seed(), "the training-time recipes' fine-tuning");
  }

  // The users' models, copied into the run folder (so that it holds everything its results come
  // from) unless the copy there is already the same file.
  std::vector<StudyModel> import_user_models() {
    std::vector<StudyModel> out;
    if (!cfg_.models.empty()) fs::create_directories(dir_ / "models");
    for (const auto& m : cfg_.models) {
      const fs::path copy = dir_ / "models" / (m.name + ".onnx");
      if (!fs::exists(copy) || sha256_file(copy) != sha256_file(m.file)) {
        log("model " + m.name + ": copying " + m.file);
        write_file_atomic(copy, read_file(m.file));
      }
      out.push_back(
          {.name = m.name, .file = rel(copy), .recipe = "user", .sha256 = sha256_file(copy)});
    }
    return out;
  }

  std::vector<fs::path> paths(const std::vector<std::string>& list) const {
    std::vector<fs::path> out;
    for (const auto& p : list) out.push_back(abs(p));
    return out;
  }

  // One training run as the train and dagger stages do it; returns its summary.
  TrainRun train_model(const std::vector<fs::path>& data, const fs::path& init, const fs::path& out,
                       int epochs, int samples, double learning_rate, uint64_t seed) {
    train::TrainJob job;
    job.data = data;
    job.validation_fraction = cfg_.train.validation_fraction;
    job.init = init;
    job.out = out;
    job.load_threads = cfg_.threads;
    train::TrainConfig& c = job.config;
    c.arch = train::parse_arch(cfg_.train.arch);
    c.epochs = epochs;
    c.samples_per_epoch = static_cast<size_t>(samples);
    c.batch_size = cfg_.train.batch_size;
    c.learning_rate = learning_rate;
    c.early_stop_patience = cfg_.train.early_stop_patience;
    c.output_weights = cfg_.train.output_weights;
    c.seed = seed;
    c.compute_threads = cfg_.threads;
    c.progress = !opt_.quiet;
    c.measure_loader_images = 0;
    const train::TrainJobResult r = train::run_train_job(job);
    if (!opt_.quiet) std::fprintf(stderr, "%s", train::train_table(r, out).c_str());
    TrainRun run;
    run.model = rel(out);
    run.arch = r.metadata.arch;
    run.parent = r.metadata.parent;
    run.training_data = r.metadata.training_data;
    run.validation_data = r.validation_names;
    run.best_epoch = r.result.state.best_epoch;
    run.best_validation_mse = r.result.state.best_validation_loss;
    for (const auto& e : r.result.state.history) {
      run.epochs.push_back(
          {.epoch = e.epoch, .train_loss = e.train_loss, .validation_loss = e.validation_loss});
      run.epoch_times.push_back(
          {.epoch = e.epoch, .seconds = e.seconds, .images_per_s = e.images_per_s});
    }
    run.decode_s = r.decode_s;
    run.total_s = r.total_s;
    return run;
  }

  TrainResult run_train(const RecordResult& record) {
    fs::create_directories(dir_ / "models");
    TrainResult result;
    result.run = train_model(training_data(record, {}), {}, dir_ / "models" / "pilotnet.onnx",
                             cfg_.train.epochs, cfg_.train.samples_per_epoch,
                             cfg_.train.learning_rate, train_seed());
    return result;
  }

  DaggerResult run_dagger(const RecordResult& record, const TrainResult& train) {
    DaggerResult result;
    result.initial_model = train.run.model;
    fs::path current = abs(train.run.model);
    std::vector<fs::path> data = training_data(record, {});
    for (int round = 1; round <= cfg_.dagger.rounds; ++round) {
      log("dagger round " + std::to_string(round) + ": " + current.filename().string() +
          " drives, the expert labels");
      brain::NeuralBrain learner(current, brain::NeuralBrainOptions{});
      record::RecordOptions o;
      o.circuits = cfg_.record.circuits;
      o.directions = parse_directions(cfg_.record.directions);
      o.frames = cfg_.dagger.frames;
      o.seed = cfg_.seed + 3000 + 100 * static_cast<uint64_t>(round);
      o.learner = &learner;
      o.expert_share = cfg_.dagger.expert_share;
      DaggerRound r;
      r.recordings = record_into("data/dagger" + std::to_string(round), o);
      // Every round records CIRCUIT_DIR_dagger; training refuses two recordings of one name, so
      // rounds after the first number theirs (CIRCUIT_DIR_dagger2, ...).
      if (round > 1) {
        for (auto& rec : r.recordings) {
          const fs::path numbered = abs(rec).string() + std::to_string(round);
          fs::rename(abs(rec), numbered);
          rec = rel(numbered);
        }
      }
      for (const auto& rec : r.recordings) data.push_back(dir_ / rec);
      const fs::path out = dir_ / "models" / ("pilotnet_dagger" + std::to_string(round) + ".onnx");
      r.run = train_model(data, current, out, cfg_.dagger.epochs, cfg_.dagger.samples_per_epoch,
                          cfg_.dagger.learning_rate, dagger_seed(round));
      result.rounds.push_back(r);
      current = out;
    }
    result.model = rel(current);
    return result;
  }

  // What every recipe variant starts from: the baseline, the calibration data of the
  // post-training recipes and the fine-tuning data of the training-time ones (everything the
  // baseline was trained on), decoded once by the runner when first needed.
  struct OptimizeContext {
    fs::path baseline;
    std::vector<fs::path> calib;
    std::vector<fs::path> tune_data;
    std::unique_ptr<train::RecipeRunner> runner;
  };
  OptimizeContext optimize_context(const RecordResult& record, const DaggerResult& dagger) const {
    return {abs(dagger.model), training_data(record, {}), training_data(record, dagger.rounds),
            nullptr};
  }

  // The model a variant makes, named before it is made.
  OptimizedModel planned_model(const RecipeVariant& variant) const {
    const fs::path out = dir_ / "models" / (variant.name + ".onnx");
    const fs::path report = dir_ / "models" / (variant.name + ".report.json");
    return {
        .name = variant.name, .file = rel(out), .recipe = variant.recipe, .report = rel(report)};
  }

  // One variant applied to the baseline (its files written); a unit of a shard's work.
  OptimizedModel optimize_variant(const RecipeVariant& variant, OptimizeContext& ctx) {
    const std::string& recipe = variant.recipe;
    log("optimize: " + variant.name + (variant.name == recipe ? "" : " (" + recipe + ")"));
    OptimizedModel m = planned_model(variant);
    const fs::path out = abs(m.file);
    const fs::path report = abs(m.report);
    if (train::is_training_recipe(recipe)) {
      const FinetuneSection& f = cfg_.optimize.finetune;
      const train::TrainingRecipe tr = training_recipe(variant, cfg_.optimize);
      if (!ctx.runner) {
        ctx.runner = std::make_unique<train::RecipeRunner>(
            ctx.baseline,
            train::FineTuneData{.data = ctx.tune_data,
                                .validation_fraction = cfg_.train.validation_fraction,
                                .samples_per_epoch = static_cast<size_t>(f.samples_per_epoch),
                                .batch_size = f.batch_size,
                                .learning_rate = f.learning_rate,
                                .output_weights = cfg_.train.output_weights,
                                .seed = finetune_seed(),
                                .threads = cfg_.threads,
                                .progress = !opt_.quiet});
      }
      const train::TrainingRecipeResult r = ctx.runner->run(tr, out);
      if (!opt_.quiet) std::fprintf(stderr, "%s", train::training_recipe_table(r).c_str());
      Json deterministic = r.report;
      deterministic.erase("phase_seconds");
      write_file_atomic(report, deterministic.dump(2) + "\n");
      m.fine_tuned = true;
      m.sparsity = r.report.at("sparsity").get<double>();
      m.phase_seconds = r.report.at("phase_seconds").get<std::vector<double>>();
    } else if (recipe == "auto") {
      m.worst_layers = autotune_variant(variant, ctx, out, report);
    } else {
      quant::OptimizeOptions o = post_training_options(variant, cfg_.optimize);
      o.calib = ctx.calib;
      o.seed = cfg_.seed;
      const quant::OptimizeResult r = quant::optimize_model(ctx.baseline, out, o);
      write_file_atomic(report, r.report.dump(2) + "\n");
      m.worst_layers =
          r.report.value("worst_layers", nlohmann::json::array()).get<std::vector<std::string>>();
    }
    return m;
  }

  // The auto recipe (autotune.h) on the study's own drive set: its circuits, directions,
  // repetitions, laps and timeout, seeded as its drives are; every candidate at one fixed latency
  // (drive.timing when it is fixed:MS, else autotune's default), so the search is reproducible.
  // The decision log goes beside the model (NAME.auto.json and .md). Returns the report's worst
  // layers.
  std::vector<std::string> autotune_variant(const RecipeVariant& variant,
                                            const OptimizeContext& ctx, const fs::path& out,
                                            const fs::path& report) const {
    autotune::AutotuneOptions o;
    o.quant = post_training_options(variant, cfg_.optimize);
    o.quant.calib = ctx.calib;
    o.quant.seed = cfg_.seed;
    o.circuits = cfg_.drive.circuits;
    o.directions = cfg_.drive.directions;
    o.repetitions = cfg_.drive.repetitions;
    o.laps = cfg_.drive.laps;
    o.timeout_s = cfg_.drive.timeout_s;
    o.threads = cfg_.benchmark.threads;
    o.jobs = cfg_.drive.jobs;
    o.progress = !opt_.quiet;
    if (cfg_.drive.timing.rfind("fixed:", 0) == 0)
      o.timing = sim::TimingModel::parse(cfg_.drive.timing);
    const autotune::AutotuneResult r = autotune::autotune_model(ctx.baseline, out, o);
    write_file_atomic(report, r.report.dump(2) + "\n");
    const fs::path log = out.parent_path() / (variant.name + ".auto");
    write_file_atomic(fs::path(log).concat(".json"), r.log.dump(2) + "\n");
    write_file_atomic(fs::path(log).concat(".md"), autotune::decision_table(r.log, true));
    if (!opt_.quiet) std::fprintf(stderr, "%s", autotune::decision_table(r.log).c_str());
    return r.report.value("worst_layers", nlohmann::json::array()).get<std::vector<std::string>>();
  }

  OptimizeResult run_optimize(const RecordResult& record, const DaggerResult& dagger) {
    OptimizeResult result;
    OptimizeContext ctx = optimize_context(record, dagger);
    for (const auto& variant : cfg_.optimize.recipes)
      result.models.push_back(optimize_variant(variant, ctx));
    return result;
  }

  // The expert's test recordings and the users'.
  std::vector<fs::path> test_data(const RecordResult& record) const {
    std::vector<fs::path> test = paths(record.test_recordings);
    test.insert(test.end(), own_test_.begin(), own_test_.end());
    return test;
  }

  // One model offline on the test recordings; a unit of a shard's work.
  OfflineRow evaluate_one(const StudyModel& m, const std::vector<fs::path>& test) {
    eval::EvalConfig ec;
    ec.threads = cfg_.threads;
    ec.load_threads = cfg_.threads;
    log("evaluate " + m.name + " on " + std::to_string(test.size()) + " test recordings");
    const eval::EvalReport r = eval::evaluate_model(dir_ / m.file, test, ec);
    const eval::EvalMetrics& o = r.overall;
    OfflineRow row{.model = m.name,
                   .recipe = m.recipe,
                   .file = m.file,
                   .sha256 = sha256_file(dir_ / m.file),
                   .bytes = r.model_bytes,
                   .gzip_bytes = r.model_gzip_bytes,
                   .frames = o.frames,
                   .mse = o.mse,
                   .mae = o.mae,
                   .mse_v = o.mse_v,
                   .mse_w = o.mse_w,
                   .mae_v_mps = o.mae_v,
                   .mae_w_radps = o.mae_w,
                   .seconds = r.seconds,
                   .images_per_s = r.images_per_s};
    for (const auto& p : r.per_recording) {
      row.per_recording.push_back({.recording = p.recording, .mse = p.mse, .mae_w = p.mae_w});
    }
    return row;
  }

  EvaluateResult run_evaluate(const RecordResult& record, const std::vector<StudyModel>& models) {
    EvaluateResult result;
    const std::vector<fs::path> test = test_data(record);
    for (const auto& m : models) result.offline.push_back(evaluate_one(m, test));
    return result;
  }

  LatencyRow latency_row(const std::string& name, sim::Brain& brain) const {
    const LatencyStats s = measure_brain_latency(brain, cfg_.benchmark.warmup, cfg_.benchmark.runs);
    return {.model = name,
            .latency_ms = quantize_latency(s.median_ms, cfg_.benchmark.latency_quantum_ms),
            .measured = s};
  }

  // The latencies the drives used are kept in the run folder (latency.json), keyed by what
  // determines them: the model file, the code that runs it and the benchmark settings. A
  // re-benchmark of the same model on the same code (a rebuilt binary, --from benchmark) drives
  // with the latency it used before, so closed-loop results do not move with a busy machine's
  // measurement; the new measurement is still reported under wall_clock.
  std::string latency_key(const std::string& name, const fs::path& file) const {
    const CodeHashes& code = built_code_hashes();
    std::string key = name + " " + (file.empty() ? "expert" : sha256_file(file));
    for (const char* folder : {"onnx", "runtime", "brain", "sim"}) key += " " + code.at(folder);
    return sha256_hex(key + " threads " + std::to_string(cfg_.benchmark.threads) + " quantum " +
                      std::to_string(cfg_.benchmark.latency_quantum_ms));
  }

  fs::path latency_memo_path() const { return dir_ / "latency.json"; }
  Json read_latency_memo() const {
    try {
      if (fs::exists(latency_memo_path())) return Json::parse(read_file(latency_memo_path()));
    } catch (const std::exception&) {
      // damaged: measure again
    }
    return Json::object();
  }
  // The latency the drives use: the one kept for the same model on the same code, else this
  // measurement's (which is then kept).
  void use_latency_memo(LatencyRow& row, const fs::path& file, Json& memo) const {
    const std::string key = latency_key(row.model, file);
    if (memo.contains(key) && memo[key].is_number()) {
      row.latency_ms = memo[key].get<double>();
    } else {
      memo[key] = row.latency_ms;
    }
  }

  // The brains the benchmark times and the drive stage drives: the expert (when it drives),
  // then every model.
  std::vector<Driver> drivers(const std::vector<StudyModel>& models) const {
    std::vector<Driver> out;
    if (cfg_.drive.expert) out.push_back({"expert", {}});
    for (const auto& m : models) out.push_back({m.name, dir_ / m.file});
    return out;
  }

  // One brain timed, without the memo; a unit of a shard's work.
  LatencyRow measure(const Driver& d) const {
    log("benchmark " + d.name);
    if (d.file.empty()) {
      brain::ExplicitBrain expert;
      return latency_row(d.name, expert);
    }
    brain::NeuralBrainOptions o;
    o.threads = cfg_.benchmark.threads;
    brain::NeuralBrain brain(d.file, o);
    return latency_row(d.name, brain);
  }

  BenchmarkResult run_benchmark(const std::vector<StudyModel>& models) {
    Json memo = read_latency_memo();
    BenchmarkResult result;
    for (const Driver& d : drivers(models)) {
      LatencyRow row = measure(d);
      use_latency_memo(row, d.file, memo);
      result.latency.push_back(row);
    }
    write_file_atomic(latency_memo_path(), memo.dump(2) + "\n");
    return result;
  }

  // Every closed-loop run of the drive stage, in its order: model, slowdown, circuit, direction,
  // repetition.
  std::vector<DriveJob> drive_jobs(const std::vector<StudyModel>& models,
                                   const BenchmarkResult& benchmark) const {
    const auto& perturb = cfg_.drive.perturb;
    auto perturbs = [&](const char* kind) {
      return std::find(perturb.begin(), perturb.end(), kind) != perturb.end();
    };
    if (cfg_.drive.trajectories) fs::create_directories(dir_ / "drives");
    std::vector<DriveJob> jobs;
    for (const auto& d : drivers(models)) {
      double latency_ms = 0.0;
      for (const auto& row : benchmark.latency) {
        if (row.model == d.name) latency_ms = row.latency_ms;
      }
      const auto& sm = cfg_.drive.slowdown_models;
      const bool slowed = std::find(sm.begin(), sm.end(), d.name) != sm.end() ||
                          std::find(sm.begin(), sm.end(), "all") != sm.end();
      for (double slowdown : cfg_.drive.slowdowns) {
        if (slowdown != 1.0 && !slowed) continue;
        sim::TimingModel timing;
        if (cfg_.drive.timing == "benchmark") {
          timing.fixed_ms = latency_ms * slowdown;
        } else {
          timing = sim::TimingModel::parse(cfg_.drive.timing);
          if (timing.kind == sim::TimingModel::Kind::kFixed) timing.fixed_ms *= slowdown;
          if (timing.kind == sim::TimingModel::Kind::kMeasured) timing.factor *= slowdown;
        }
        for (const auto& circuit : cfg_.drive.circuits) {
          for (const auto& direction : cfg_.drive.directions) {
            for (int rep = 0; rep < cfg_.drive.repetitions; ++rep) {
              DriveJob job;
              job.model = d.name;
              job.file = d.file;
              job.timing = timing;
              job.slowdown = slowdown;
              job.circuit = circuit;
              job.direction = direction;
              job.repetition = rep;
              // The same seed for every model: each repetition is a paired episode.
              job.seed = cfg_.seed + static_cast<uint64_t>(rep);
              job.perturb_start = rep > 0 && perturbs("start");
              job.perturb_style = rep > 0 && perturbs("style");
              job.weather = rep > 0 && perturbs("weather");
              job.laps = cfg_.drive.laps;
              job.timeout_s = cfg_.drive.timeout_s;
              if (cfg_.drive.trajectories)
                job.trajectory = dir_ / trajectory_file(d.name, circuit, direction, slowdown, rep);
              jobs.push_back(job);
            }
          }
        }
      }
    }
    return jobs;
  }

  DriveRun drive_run(const DriveOutcome& o) const {
    return {.model = o.job.model,
            .slowdown = o.job.slowdown,
            .circuit = o.job.circuit,
            .direction = o.job.direction,
            .repetition = o.job.repetition,
            .trajectory = o.job.trajectory.empty() ? std::string() : rel(o.job.trajectory),
            .metrics = sim::to_json(o.metrics),
            .wall_clock = sim::to_json(o.timing)};
  }

  DriveResult run_drive(const std::vector<StudyModel>& models, const BenchmarkResult& benchmark) {
    const std::vector<DriveOutcome> outcomes =
        run_drives(drive_jobs(models, benchmark), cfg_.drive.jobs, !opt_.quiet);
    DriveResult result;
    for (const auto& o : outcomes) result.runs.push_back(drive_run(o));
    return result;
  }

  const StudyConfig& cfg_;
  const StudyOptions& opt_;
  fs::path dir_;
  StageCache cache_;
  std::vector<fs::path> own_train_;  // the users' training recordings (record.recordings)
  std::vector<fs::path> own_test_;   // the users' test recordings (evaluate.recordings)
  std::vector<std::string> reused_;
};

}  // namespace

StudyResult run_study(const StudyConfig& config, const StudyOptions& options) {
  if (options.prepare && options.shard.sharded())
    throw InputError("--prepare and --shard: give one; --prepare runs the shared stages only");
  if (!options.from.empty() && (options.prepare || options.shard.sharded())) {
    throw InputError("--from " + options.from + " with " +
                     (options.prepare ? std::string("--prepare") : "--shard") +
                     ": shards share their stages and units, so none may force them; run the "
                     "study unsharded with --from, or remove " +
                     (config.runs_dir / config.name / "shards" / "units").string() +
                     " to redo the sharded stages");
  }
  StudyRun run(config, options);
  return run.run();
}

}  // namespace pitlane::study
