#include "pitlane/study/study.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <sstream>

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
    // Before any work: every training split can be made, and the run folder can be written.
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
    remove_stale_partials(dir_);
    write_file_atomic(dir_ / "config.json", to_json(cfg_).dump(2) + "\n");

    StudyStages s;
    // The expert's recordings do not depend on the users' ones.
    Json record_config = to_json(cfg_.record);
    Json evaluate_config = to_json(cfg_.evaluate);
    record_config.erase("recordings");
    evaluate_config.erase("recordings");
    const std::string record = stage(
        "record", {{"record", record_config}, {"evaluate", evaluate_config}, {"seed", cfg_.seed}},
        s.record, [&] { return run_record(); });
    const std::string train = stage("train",
                                    {{"train", to_json(cfg_.train)},
                                     {"seed", cfg_.seed},
                                     {"threads", cfg_.threads},
                                     {"recordings", recordings_fingerprint(own_train_)},
                                     {"record", record}},
                                    s.train, [&] { return run_train(s.record); });
    const std::string dagger = stage("dagger",
                                     {{"dagger", to_json(cfg_.dagger)},
                                      {"train", to_json(cfg_.train)},
                                      {"seed", cfg_.seed},
                                      {"threads", cfg_.threads},
                                      {"upstream", train}},
                                     s.dagger, [&] { return run_dagger(s.record, s.train); });
    const std::string optimize =
        stage("optimize",
              {{"optimize", to_json(cfg_.optimize)}, {"seed", cfg_.seed}, {"upstream", dagger}},
              s.optimize, [&] { return run_optimize(s.record, s.dagger); });
    std::vector<StudyModel> models = {{"baseline", s.dagger.model, "baseline", ""}};
    for (const auto& m : s.optimize.models) models.push_back({m.name, m.file, m.recipe, ""});
    for (const auto& m : import_user_models()) models.push_back(m);
    Json model_inputs = Json::array();
    for (const auto& m : models) {
      model_inputs.push_back(m.sha256.empty() ? Json{m.name, m.file}
                                              : Json{m.name, m.file, m.sha256});
    }

    stage("evaluate",
          {{"models", model_inputs},
           {"threads", cfg_.threads},
           {"recordings", recordings_fingerprint(own_test_)},
           {"upstream", {record, optimize}}},
          s.evaluate, [&] { return run_evaluate(s.record, models); });
    stage("benchmark",
          {{"benchmark", to_json(cfg_.benchmark)},
           {"expert", cfg_.drive.expert},
           {"models", model_inputs},
           {"upstream", optimize}},
          s.benchmark, [&] { return run_benchmark(models); });
    Json latencies = Json::array();  // what the drives use, without the wall-clock figures
    for (const auto& row : s.benchmark.latency) latencies.push_back({row.model, row.latency_ms});
    stage("drive",
          {{"drive", to_json(cfg_.drive)},
           {"seed", cfg_.seed},
           {"models", model_inputs},
           {"latency", latencies},
           {"upstream", optimize}},
          s.drive, [&] { return run_drive(models, s.benchmark); });

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

  OptimizeResult run_optimize(const RecordResult& record, const DaggerResult& dagger) {
    OptimizeResult result;
    const fs::path baseline = abs(dagger.model);
    // Training-time recipes fine-tune on everything the baseline was trained on.
    const std::vector<fs::path> tune_data = training_data(record, dagger.rounds);
    std::unique_ptr<train::RecipeRunner> runner;  // decodes the recordings once, when first needed
    for (const auto& variant : cfg_.optimize.recipes) {
      const std::string& recipe = variant.recipe;
      log("optimize: " + variant.name + (variant.name == recipe ? "" : " (" + recipe + ")"));
      const fs::path out = dir_ / "models" / (variant.name + ".onnx");
      const fs::path report = dir_ / "models" / (variant.name + ".report.json");
      OptimizedModel m{
          .name = variant.name, .file = rel(out), .recipe = recipe, .report = rel(report)};
      if (train::is_training_recipe(recipe)) {
        const FinetuneSection& f = cfg_.optimize.finetune;
        const train::TrainingRecipe tr = training_recipe(variant, cfg_.optimize);
        if (!runner) {
          runner = std::make_unique<train::RecipeRunner>(
              baseline,
              train::FineTuneData{.data = tune_data,
                                  .validation_fraction = cfg_.train.validation_fraction,
                                  .samples_per_epoch = static_cast<size_t>(f.samples_per_epoch),
                                  .batch_size = f.batch_size,
                                  .learning_rate = f.learning_rate,
                                  .output_weights = cfg_.train.output_weights,
                                  .seed = finetune_seed(),
                                  .threads = cfg_.threads,
                                  .progress = !opt_.quiet});
        }
        const train::TrainingRecipeResult r = runner->run(tr, out);
        if (!opt_.quiet) std::fprintf(stderr, "%s", train::training_recipe_table(r).c_str());
        Json deterministic = r.report;
        deterministic.erase("phase_seconds");
        write_file_atomic(report, deterministic.dump(2) + "\n");
        m.fine_tuned = true;
        m.sparsity = r.report.at("sparsity").get<double>();
        m.phase_seconds = r.report.at("phase_seconds").get<std::vector<double>>();
      } else {
        quant::OptimizeOptions o = post_training_options(variant, cfg_.optimize);
        o.calib = training_data(record, {});
        o.seed = cfg_.seed;
        const quant::OptimizeResult r = quant::optimize_model(baseline, out, o);
        write_file_atomic(report, r.report.dump(2) + "\n");
        m.worst_layers =
            r.report.value("worst_layers", nlohmann::json::array()).get<std::vector<std::string>>();
      }
      result.models.push_back(m);
    }
    return result;
  }

  EvaluateResult run_evaluate(const RecordResult& record, const std::vector<StudyModel>& models) {
    EvaluateResult result;
    std::vector<fs::path> test = paths(record.test_recordings);
    test.insert(test.end(), own_test_.begin(), own_test_.end());
    eval::EvalConfig ec;
    ec.threads = cfg_.threads;
    ec.load_threads = cfg_.threads;
    for (const auto& m : models) {
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
      result.offline.push_back(row);
    }
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

  BenchmarkResult run_benchmark(const std::vector<StudyModel>& models) {
    const fs::path memo_path = dir_ / "latency.json";
    Json memo = Json::object();
    try {
      if (fs::exists(memo_path)) memo = Json::parse(read_file(memo_path));
    } catch (const std::exception&) {
      memo = Json::object();  // damaged: measure again
    }
    BenchmarkResult result;
    auto benchmark = [&](const std::string& name, const fs::path& file, sim::Brain& brain) {
      LatencyRow row = latency_row(name, brain);
      const std::string key = latency_key(name, file);
      if (memo.contains(key) && memo[key].is_number()) {
        row.latency_ms = memo[key].get<double>();
      } else {
        memo[key] = row.latency_ms;
      }
      result.latency.push_back(row);
    };
    if (cfg_.drive.expert) {
      log("benchmark expert");
      brain::ExplicitBrain expert;
      benchmark("expert", {}, expert);
    }
    for (const auto& m : models) {
      log("benchmark " + m.name);
      brain::NeuralBrainOptions o;
      o.threads = cfg_.benchmark.threads;
      brain::NeuralBrain brain(dir_ / m.file, o);
      benchmark(m.name, dir_ / m.file, brain);
    }
    write_file_atomic(memo_path, memo.dump(2) + "\n");
    return result;
  }

  DriveResult run_drive(const std::vector<StudyModel>& models, const BenchmarkResult& benchmark) {
    struct Driver {
      std::string name;
      fs::path file;
    };
    std::vector<Driver> drivers;
    if (cfg_.drive.expert) drivers.push_back({"expert", {}});
    for (const auto& m : models) drivers.push_back({m.name, dir_ / m.file});

    const auto& perturb = cfg_.drive.perturb;
    auto perturbs = [&](const char* kind) {
      return std::find(perturb.begin(), perturb.end(), kind) != perturb.end();
    };
    if (cfg_.drive.trajectories) fs::create_directories(dir_ / "drives");
    std::vector<DriveJob> jobs;
    for (const auto& d : drivers) {
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
    const std::vector<DriveOutcome> outcomes = run_drives(jobs, cfg_.drive.jobs, !opt_.quiet);
    DriveResult result;
    for (const auto& o : outcomes) {
      result.runs.push_back(
          {.model = o.job.model,
           .slowdown = o.job.slowdown,
           .circuit = o.job.circuit,
           .direction = o.job.direction,
           .repetition = o.job.repetition,
           .trajectory = o.job.trajectory.empty() ? std::string() : rel(o.job.trajectory),
           .metrics = sim::to_json(o.metrics),
           .wall_clock = sim::to_json(o.timing)});
    }
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
  StudyRun run(config, options);
  return run.run();
}

}  // namespace pitlane::study
