#include "pitlane/train/train_job.h"

#include <chrono>
#include <cstdio>
#include <opencv2/core.hpp>

#include "pitlane/core/error.h"
#include "pitlane/core/files.h"
#include "pitlane/core/progress.h"
#include "pitlane/core/sha256.h"
#include "pitlane/core/table.h"
#include "pitlane/data/dataset.h"
#include "pitlane/train/onnx_reader.h"
#include "pitlane/train/onnx_writer.h"

namespace fs = std::filesystem;

namespace pitlane::train {
namespace {

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

std::vector<data::Recording> load_with_images(const std::vector<fs::path>& dirs,
                                              const data::PreprocessSpec& spec, int threads,
                                              bool progress) {
  std::vector<data::Recording> recs = data::load_recordings(dirs);
  int64_t frames = 0;
  for (const auto& r : recs) frames += static_cast<int64_t>(r.frames.size());
  ProgressBar bar("decode", frames, "img", progress);
  int64_t done = 0;
  for (auto& r : recs) {
    data::load_images(r, spec, threads);
    done += static_cast<int64_t>(r.frames.size());
    bar.update(done);
  }
  bar.finish();
  return recs;
}

nlohmann::json summary_json(const TrainJobResult& r, const TrainJob& job) {
  const TrainConfig& cfg = job.config;
  nlohmann::json j;
  j["model"] = job.out.filename().string();
  j["arch"] = r.metadata.arch;
  j["parent"] = r.metadata.parent;
  j["seed"] = cfg.seed;
  j["output_weights"] = cfg.output_weights;
  j["parameters"] = r.result.best.parameter_count();
  j["training_data"] = r.metadata.training_data;
  j["validation_data"] = r.validation_names;
  j["train_samples"] = r.result.train_samples;
  j["validation_samples"] = r.result.validation_samples;
  j["best_epoch"] = r.result.state.best_epoch;
  j["best_validation_mse"] = r.result.state.best_validation_loss;
  j["stopped_early"] = r.result.state.stopped_early;
  j["epochs"] = nlohmann::json::array();
  for (const auto& e : r.result.state.history) {
    j["epochs"].push_back({{"epoch", e.epoch},
                           {"train_loss", e.train_loss},
                           {"validation_loss", e.validation_loss},
                           {"learning_rate", e.learning_rate},
                           {"seconds", e.seconds},
                           {"images_per_s", e.images_per_s},
                           {"loader_wait_s", e.loader_wait_s}});
  }
  j["timing"] = {{"decode_s", r.decode_s},
                 {"loader_alone_images_per_s", r.result.loader_images_per_s},
                 {"training_steps_images_per_s", r.result.train_images_per_s},
                 {"train_wall_s", r.result.wall_s},
                 {"compute_threads", cfg.compute_threads},
                 {"loader_threads", cfg.loader_threads}};
  return j;
}

}  // namespace

TrainJobResult run_train_job(const TrainJob& job) {
  TrainConfig cfg = job.config;
  if (cfg.epochs < 1 || cfg.batch_size < 1 || !(cfg.learning_rate > 0)) {
    throw InputError("train: epochs, batch size and learning rate must be positive");
  }
  if (job.data.empty()) throw InputError("train: no training recordings given");
  // Every output is checked before the work: writable, and none of them an input.
  const fs::path summary =
      job.summary.empty() ? fs::path(job.out.string() + ".train.json") : job.summary;
  std::vector<fs::path> inputs = job.data;
  inputs.insert(inputs.end(), job.validation.begin(), job.validation.end());
  if (!job.init.empty()) inputs.push_back(job.init);
  for (const fs::path& out : {job.out, summary, cfg.checkpoint_dir}) {
    if (out.empty()) continue;
    if (!fs::is_directory(out)) check_writable(out);  // a checkpoint folder may exist (--resume)
    check_not_an_input(out, inputs);
  }
  cv::setNumThreads(1);  // OpenCV's own pool would fight libtorch's threads for 2 cores

  TrainJobResult r;
  data::ModelMetadata& meta = r.metadata;  // the study's preprocessing and output ranges
  if (!job.init.empty()) {
    // Fine-tuning keeps the parent's preprocessing and output ranges; the architecture follows.
    cfg.initial_weights = read_pilotnet_onnx(job.init, &meta);
    cfg.arch = cfg.initial_weights->arch;
    meta.parent = job.init.filename().string() + " sha256:" + sha256_file(job.init);
    meta.training_data.clear();
  }
  meta.arch = arch_name(cfg.arch);
  meta.recipe = "baseline";
  meta.seed = std::to_string(cfg.seed);
  const auto t0 = std::chrono::steady_clock::now();

  TrainingData d =
      load_training_data(job.data, job.validation, meta.preprocess, job.validation_fraction,
                         cfg.seed, job.load_threads, cfg.progress);
  r.decode_s = d.decode_s;
  std::vector<data::Recording>& recs = d.recs;
  const std::vector<int>& train_ids = d.train_ids;
  const std::vector<int>& val_ids = d.validation_ids;
  for (int i : train_ids) meta.training_data.push_back(recs[i].name);
  for (int i : val_ids) r.validation_names.push_back(recs[i].name);

  r.result = train_pilotnet(recs, train_ids, val_ids, meta.preprocess, meta.outputs, cfg);
  write_pilotnet_onnx(job.out, r.result.best, meta);
  r.total_s = seconds_since(t0);
  r.summary = summary_json(r, job);
  write_file_atomic(summary, r.summary.dump(2) + "\n");
  return r;
}

TrainingData load_training_data(const std::vector<fs::path>& data,
                                const std::vector<fs::path>& validation,
                                const data::PreprocessSpec& spec, double validation_fraction,
                                uint64_t seed, int load_threads, bool progress) {
  const auto t0 = std::chrono::steady_clock::now();
  // Folders of recordings expand here, so the training/validation boundary is in recordings.
  std::vector<fs::path> all = data::find_recordings(data);
  const size_t train_count = all.size();
  const std::vector<fs::path> validation_dirs = data::find_recordings(validation);
  all.insert(all.end(), validation_dirs.begin(), validation_dirs.end());
  TrainingData d;
  d.recs = load_with_images(all, spec, load_threads, progress);
  d.decode_s = seconds_since(t0);
  if (!validation.empty()) {
    for (size_t i = 0; i < d.recs.size(); ++i)
      (i < train_count ? d.train_ids : d.validation_ids).push_back(static_cast<int>(i));
  } else {
    const data::RecordingSplit split =
        data::split_by_recording(d.recs, validation_fraction, 0.0, seed);
    d.train_ids = split.train;
    d.validation_ids = split.validation;
  }
  return d;
}

std::string train_table(const TrainJobResult& r, const fs::path& out) {
  Table t({"epoch", "train_loss", "val_loss", "lr", "seconds", "img/s", "loader_wait_s"});
  for (const auto& e : r.result.state.history) {
    t.add({std::to_string(e.epoch), format_fixed(e.train_loss, 5),
           format_fixed(e.validation_loss, 5), format_fixed(e.learning_rate * 1e3, 3) + "e-3",
           format_fixed(e.seconds, 1), format_fixed(e.images_per_s, 0),
           format_fixed(e.loader_wait_s, 1)});
  }
  std::string val_names;
  for (const auto& n : r.validation_names) val_names += (val_names.empty() ? "" : ",") + n;
  char text[1024];
  std::snprintf(
      text, sizeof text,
      "%s: %s, %lld parameters; best epoch %d (val mse %.5f)%s\n"
      "train %lld samples (oversampled) from %zu recordings, validation %lld samples [%s]\n"
      "decode %.1f s; loader alone %.0f img/s; training steps %.0f img/s; total %.1f s\n",
      out.string().c_str(), r.metadata.arch.c_str(),
      static_cast<long long>(r.result.best.parameter_count()), r.result.state.best_epoch,
      r.result.state.best_validation_loss, r.result.state.stopped_early ? " (stopped early)" : "",
      static_cast<long long>(r.result.train_samples), r.metadata.training_data.size(),
      static_cast<long long>(r.result.validation_samples), val_names.c_str(), r.decode_s,
      r.result.loader_images_per_s, r.result.train_images_per_s, r.total_s);
  return t.render() + text;
}

}  // namespace pitlane::train
