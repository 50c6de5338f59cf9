#include "pitlane/train/trainer.h"

#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <sstream>

#include "pitlane/core/error.h"
#include "pitlane/core/files.h"
#include "pitlane/core/progress.h"
#include "pitlane/data/loader.h"
#include "pitlane/train/weight_constraints.h"

namespace fs = std::filesystem;

namespace pitlane::train {
namespace {

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

// PilotNet as a libtorch module; layer shapes come from the plain-data skeleton.
struct PilotNetImpl : torch::nn::Module {
  explicit PilotNetImpl(const PilotNetWeights& shape) : shape_(shape) {
    norm = register_module(
        "norm",
        torch::nn::BatchNorm2d(torch::nn::BatchNorm2dOptions(3).eps(shape.input_norm.epsilon)));
    for (size_t i = 0; i < shape.convs.size(); ++i) {
      const ConvLayer& c = shape.convs[i];
      convs.push_back(register_module(
          "conv" + std::to_string(i + 1),
          torch::nn::Conv2d(
              torch::nn::Conv2dOptions(c.in_channels, c.out_channels, c.kernel).stride(c.stride))));
    }
    for (size_t i = 0; i < shape.dense.size(); ++i) {
      const DenseLayer& d = shape.dense[i];
      dense.push_back(register_module("dense" + std::to_string(i + 1),
                                      torch::nn::Linear(d.in_features, d.out_features)));
    }
  }

  // With `constraints`, the layers compute with its effective weights and fake-quantized
  // activations (training-time optimization); without, the plain network.
  torch::Tensor forward(torch::Tensor x, WeightConstraints* constraints = nullptr) {
    const bool observe = is_training();
    auto act = [&](size_t point, torch::Tensor t) {
      return constraints ? constraints->activation(point, t, observe) : t;
    };
    x = act(0, norm->forward(x));
    for (size_t i = 0; i < convs.size(); ++i) {
      const ConvLayer& c = shape_.convs[i];
      if (c.pad_top || c.pad_bottom || c.pad_left || c.pad_right) {
        x = torch::constant_pad_nd(x, {c.pad_left, c.pad_right, c.pad_top, c.pad_bottom}, 0.0);
      }
      x = constraints ? torch::conv2d(x, constraints->weight(i), convs[i]->bias, c.stride)
                      : convs[i]->forward(x);
      x = act(i + 1, torch::relu(x));
    }
    x = x.flatten(1);
    for (size_t i = 0; i < dense.size(); ++i) {
      x = constraints ? torch::linear(x, constraints->weight(convs.size() + i), dense[i]->bias)
                      : dense[i]->forward(x);
      if (i + 1 < dense.size()) x = act(convs.size() + i + 1, torch::relu(x));
    }
    return x;
  }

  // The conv and dense weight parameters, in PilotNetWeights order.
  std::vector<torch::Tensor> layer_weights() {
    std::vector<torch::Tensor> w;
    for (auto& c : convs) w.push_back(c->weight);
    for (auto& d : dense) w.push_back(d->weight);
    return w;
  }

  // Training mode, with the input normalization kept in inference mode when it is frozen.
  void set_training(bool on) {
    train(on);
    if (frozen_norm) norm->eval();
  }

  bool frozen_norm = false;
  PilotNetWeights shape_;
  torch::nn::BatchNorm2d norm{nullptr};
  std::vector<torch::nn::Conv2d> convs;
  std::vector<torch::nn::Linear> dense;
};
TORCH_MODULE(PilotNet);

void copy_out(const torch::Tensor& t, std::vector<float>& dst) {
  const torch::Tensor c = t.detach().to(torch::kFloat32).contiguous();
  dst.assign(c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
}

void copy_in(torch::Tensor& t, const std::vector<float>& src) {
  torch::NoGradGuard no_grad;
  if (static_cast<size_t>(t.numel()) != src.size())
    throw RunError("pilotnet: weight size mismatch");
  t.copy_(torch::from_blob(const_cast<float*>(src.data()), t.sizes(), torch::kFloat32));
}

PilotNetWeights weights_of(PilotNet& model) {
  PilotNetWeights w = model->shape_;
  copy_out(model->norm->weight, w.input_norm.scale);
  copy_out(model->norm->bias, w.input_norm.bias);
  copy_out(model->norm->running_mean, w.input_norm.mean);
  copy_out(model->norm->running_var, w.input_norm.var);
  for (size_t i = 0; i < w.convs.size(); ++i) {
    copy_out(model->convs[i]->weight, w.convs[i].weight);
    copy_out(model->convs[i]->bias, w.convs[i].bias);
  }
  for (size_t i = 0; i < w.dense.size(); ++i) {
    copy_out(model->dense[i]->weight, w.dense[i].weight);
    copy_out(model->dense[i]->bias, w.dense[i].bias);
  }
  return w;
}

void load_weights(PilotNet& model, const PilotNetWeights& w) {
  copy_in(model->norm->weight, w.input_norm.scale);
  copy_in(model->norm->bias, w.input_norm.bias);
  copy_in(model->norm->running_mean, w.input_norm.mean);
  copy_in(model->norm->running_var, w.input_norm.var);
  for (size_t i = 0; i < w.convs.size(); ++i) {
    copy_in(model->convs[i]->weight, w.convs[i].weight);
    copy_in(model->convs[i]->bias, w.convs[i].bias);
  }
  for (size_t i = 0; i < w.dense.size(); ++i) {
    copy_in(model->dense[i]->weight, w.dense[i].weight);
    copy_in(model->dense[i]->bias, w.dense[i].bias);
  }
}

torch::Tensor images_tensor(const data::Batch& b, const data::PreprocessSpec& spec) {
  return torch::from_blob(const_cast<float*>(b.images.data()), {b.size, 3, spec.height, spec.width},
                          torch::kFloat32);
}
torch::Tensor labels_tensor(const data::Batch& b) {
  return torch::from_blob(const_cast<float*>(b.labels.data()), {b.size, 2}, torch::kFloat32);
}

// Per-output loss weights, normalized to mean 1 so an unweighted loss keeps its scale.
torch::Tensor output_weights_tensor(const TrainConfig& config) {
  if (config.output_weights.size() != 2) {
    throw InputError("train: output weights need one value per output (v, w), got " +
                     std::to_string(config.output_weights.size()));
  }
  double total = 0.0;
  for (double w : config.output_weights) {
    if (!(w >= 0.0)) throw InputError("train: output weights must be non-negative numbers");
    total += w;
  }
  if (total <= 0.0) throw InputError("train: at least one output weight must be positive");
  std::vector<float> w;
  for (double x : config.output_weights) w.push_back(static_cast<float>(2.0 * x / total));
  return torch::tensor(w, torch::kFloat32).view({1, 2});
}

// Mean over the batch and outputs of the weighted squared error.
torch::Tensor weighted_mse(const torch::Tensor& pred, const torch::Tensor& labels,
                           const torch::Tensor& weights) {
  return ((pred - labels).square() * weights).mean();
}

// Mean weighted MSE on normalized labels over `index` (no augmentation), in eval mode.
double validation_loss(PilotNet& model, const std::vector<data::Recording>& recs,
                       const std::vector<data::SampleRef>& index, const data::PreprocessSpec& spec,
                       const data::OutputSpec& outputs, const TrainConfig& config,
                       WeightConstraints* constraints) {
  if (index.empty()) return std::nan("");
  torch::NoGradGuard no_grad;
  model->eval();
  data::LoaderConfig lc;
  lc.batch_size = 128;
  lc.threads = config.loader_threads;
  data::BatchLoader loader(recs, index, spec, outputs, lc, 0);
  data::Batch batch;
  double sum = 0.0;
  int64_t n = 0;
  const torch::Tensor weights = output_weights_tensor(config);
  while (loader.next(batch)) {
    const torch::Tensor pred = model->forward(images_tensor(batch, spec), constraints);
    sum += weighted_mse(pred, labels_tensor(batch), weights).item<double>() * batch.size;
    n += batch.size;
  }
  model->set_training(true);
  return sum / static_cast<double>(n);
}

// --- Checkpoints: model and optimizer archives plus state.json, each written atomically. ---

std::string config_fingerprint(const TrainConfig& c) {
  std::ostringstream s;
  s << arch_name(c.arch) << " batch " << c.batch_size << " seed " << c.seed << " lr "
    << c.learning_rate << " samples/epoch " << c.samples_per_epoch << " oversample " << c.oversample
    << " augment " << c.augment << " output weights " << c.output_weights[0] << ","
    << c.output_weights[1] << (c.initial_weights ? " fine-tuned" : "");
  return s.str();
}

nlohmann::json state_to_json(const TrainingState& s) {
  nlohmann::json j;
  j["epochs_done"] = s.epochs_done;
  j["steps"] = s.steps;
  j["learning_rate"] = s.learning_rate;
  j["best_validation_loss"] = std::isfinite(s.best_validation_loss)
                                  ? nlohmann::json(s.best_validation_loss)
                                  : nlohmann::json(nullptr);
  j["best_epoch"] = s.best_epoch;
  j["epochs_since_best"] = s.epochs_since_best;
  j["epochs_since_decay"] = s.epochs_since_decay;
  j["stopped_early"] = s.stopped_early;
  j["history"] = nlohmann::json::array();
  for (const auto& e : s.history) {
    j["history"].push_back(
        {{"epoch", e.epoch},
         {"train_loss", e.train_loss},
         {"validation_loss", std::isfinite(e.validation_loss) ? nlohmann::json(e.validation_loss)
                                                              : nlohmann::json(nullptr)},
         {"learning_rate", e.learning_rate},
         {"seconds", e.seconds},
         {"images_per_s", e.images_per_s},
         {"loader_wait_s", e.loader_wait_s}});
  }
  return j;
}

TrainingState state_from_json(const nlohmann::json& j) {
  TrainingState s;
  auto num = [](const nlohmann::json& v) {
    return v.is_null() ? std::numeric_limits<double>::infinity() : v.get<double>();
  };
  s.epochs_done = j.at("epochs_done").get<int>();
  s.steps = j.at("steps").get<int64_t>();
  s.learning_rate = j.at("learning_rate").get<double>();
  s.best_validation_loss = num(j.at("best_validation_loss"));
  s.best_epoch = j.at("best_epoch").get<int>();
  s.epochs_since_best = j.at("epochs_since_best").get<int>();
  s.epochs_since_decay = j.at("epochs_since_decay").get<int>();
  s.stopped_early = j.at("stopped_early").get<bool>();
  for (const auto& e : j.at("history")) {
    EpochRecord r;
    r.epoch = e.at("epoch").get<int>();
    r.train_loss = e.at("train_loss").get<double>();
    r.validation_loss =
        e.at("validation_loss").is_null() ? std::nan("") : e.at("validation_loss").get<double>();
    r.learning_rate = e.at("learning_rate").get<double>();
    r.seconds = e.at("seconds").get<double>();
    r.images_per_s = e.at("images_per_s").get<double>();
    r.loader_wait_s = e.at("loader_wait_s").get<double>();
    s.history.push_back(r);
  }
  return s;
}

template <typename Saveable>
void save_atomic(const Saveable& object, const fs::path& path) {
  std::ostringstream bytes;
  torch::save(object, bytes);
  write_file_atomic(path, bytes.str());
}

void save_checkpoint(const fs::path& dir, PilotNet& model, torch::optim::Adam& optimizer,
                     const TrainingState& state, const TrainConfig& config, bool best) {
  fs::create_directories(dir);
  save_atomic(model, dir / "model.pt");
  save_atomic(optimizer, dir / "optimizer.pt");
  if (best) save_atomic(model, dir / "best.pt");
  nlohmann::json j = state_to_json(state);
  j["config"] = config_fingerprint(config);
  // state.json last: it is the commit point of a checkpoint.
  write_file_atomic(dir / "state.json", j.dump(2) + "\n");
}

// --- One training run: the samples it draws from, fixed, and the state it changes. ---

// The samples a run draws from and how they become batches; fixed for the whole run.
struct TrainingSamples {
  const std::vector<data::Recording>& recs;
  const data::PreprocessSpec& spec;
  const data::OutputSpec& outputs;
  std::vector<data::SampleRef> train_index;       // oversampled when config.oversample
  std::vector<data::SampleRef> validation_index;  // every validation sample once
  data::LoaderConfig loader;                      // training batches: size, threads, augmentation
};

// What a run changes: the network and what trains it, the checkpointable bookkeeping, the best
// weights so far and this process's step statistics.
struct TrainingRun {
  PilotNet model{nullptr};
  std::unique_ptr<WeightConstraints> constraints;  // training-time optimization only
  std::unique_ptr<torch::optim::Adam> optimizer;
  torch::Tensor loss_weights;       // 1 x 2, each output's weight in the squared error
  TrainingState state;              // saved with each checkpoint
  PilotNetWeights best_weights;     // by validation loss (training loss without validation)
  std::vector<double> step_losses;  // training loss of every step of this process
  double step_seconds = 0.0;        // time inside optimizer steps (loading excluded), s
  int64_t step_images = 0;          // images those steps trained on
  bool step_limit_hit = false;      // config.max_steps reached
};

// What one epoch's optimizer steps did.
struct EpochSteps {
  double loss_sum = 0.0;  // sum of the batches' losses
  int64_t batches = 0;
  int64_t images = 0;
  double seconds = 0.0;  // inside the steps, s
};

data::LoaderConfig training_loader_config(const TrainConfig& config) {
  data::LoaderConfig lc;
  lc.batch_size = config.batch_size;
  lc.threads = config.loader_threads;
  lc.augment = config.augment;
  lc.augmentation = config.augmentation;
  return lc;
}

void set_learning_rate(torch::optim::Adam& optimizer, double lr) {
  for (auto& group : optimizer.param_groups()) {
    static_cast<torch::optim::AdamOptions&>(group.options()).lr(lr);
  }
}

// True when this run resumes and the checkpoint folder holds `file`.
bool resumes_from(const TrainConfig& config, const std::string& file) {
  return config.resume && !config.checkpoint_dir.empty() &&
         fs::exists(config.checkpoint_dir / file);
}

// The network to train: fresh under the seed, or the initial weights.
PilotNet build_model(const TrainConfig& config, const data::PreprocessSpec& spec) {
  const bool compressing = config.compression.has_value();
  std::optional<PilotNetWeights> init = config.initial_weights;
  // Training-time optimization works on the weights the deployed model computes with: the input
  // normalization folded into the first convolution where that is exact, frozen otherwise.
  if (init && compressing) fold_input_norm(*init);
  PilotNetWeights shape = pilotnet_skeleton(config.arch, spec.height, spec.width);
  if (init) {
    if (init->arch != config.arch || init->input_height != spec.height ||
        init->input_width != spec.width) {
      throw InputError("train: the initial model is " + arch_name(init->arch) + " " +
                       std::to_string(init->input_height) + "x" +
                       std::to_string(init->input_width) + ", this run trains " +
                       arch_name(config.arch) + " " + std::to_string(spec.height) + "x" +
                       std::to_string(spec.width) + "; pass the same --arch");
    }
    shape.input_norm.epsilon = init->input_norm.epsilon;
  }
  PilotNet model(shape);
  if (init) load_weights(model, *init);
  model->frozen_norm = compressing;
  if (compressing) {
    model->norm->weight.set_requires_grad(false);
    model->norm->bias.set_requires_grad(false);
  }
  model->set_training(true);
  return model;
}

// Training-time optimization's constraints on `model`, their schedule ending at the run's last
// step.
std::unique_ptr<WeightConstraints> make_constraints(PilotNet& model, const TrainingSamples& samples,
                                                    const TrainConfig& config) {
  const int64_t per_epoch = static_cast<int64_t>(
      data::epoch_order(samples.train_index, config.seed, 1, config.samples_per_epoch).size());
  int64_t last_step = config.epochs * ((per_epoch + config.batch_size - 1) / config.batch_size) - 1;
  if (config.max_steps > 0) last_step = std::min(last_step, config.max_steps - 1);
  return std::make_unique<WeightConstraints>(model->layer_weights(), *config.compression,
                                             std::max<int64_t>(0, last_step));
}

// The checkpoint's state, model and optimizer; InputError when the state is unreadable or was
// made with other options.
void resume_from_checkpoint(TrainingRun& run, const TrainConfig& config) {
  const fs::path& ckpt = config.checkpoint_dir;
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(read_file(ckpt / "state.json"));
    run.state = state_from_json(j);
  } catch (const nlohmann::json::exception& e) {
    throw InputError((ckpt / "state.json").string() + ": unreadable checkpoint state (" + e.what() +
                     "); delete the checkpoint folder to start over");
  }
  if (j.value("config", "") != config_fingerprint(config)) {
    throw InputError((ckpt / "state.json").string() + ": checkpoint was made with '" +
                     j.value("config", "") + "', this run is '" + config_fingerprint(config) +
                     "'; pass the same options or delete the checkpoint folder");
  }
  torch::load(run.model, (ckpt / "model.pt").string());
  torch::load(*run.optimizer, (ckpt / "optimizer.pt").string());
}

// The network, its constraints and optimizer, fresh or as the checkpoint left them.
TrainingRun start_run(const TrainingSamples& samples, const TrainConfig& config) {
  TrainingRun run;
  run.model = build_model(config, samples.spec);
  run.loss_weights = output_weights_tensor(config);
  std::vector<torch::Tensor> trainable = run.model->parameters();
  if (config.compression) {
    run.constraints = make_constraints(run.model, samples, config);
    for (const auto& p : run.constraints->parameters()) trainable.push_back(p);
  }
  run.optimizer = std::make_unique<torch::optim::Adam>(
      trainable, torch::optim::AdamOptions(config.learning_rate));
  run.state.learning_rate = config.learning_rate;
  if (resumes_from(config, "state.json")) resume_from_checkpoint(run, config);
  set_learning_rate(*run.optimizer, run.state.learning_rate);
  return run;
}

// The loader alone, for comparison with training throughput: images per second.
double loader_images_per_s(const TrainingSamples& samples, const TrainConfig& config) {
  std::vector<data::SampleRef> probe = data::epoch_order(
      samples.train_index, config.seed, -1, static_cast<size_t>(config.measure_loader_images));
  const auto t0 = Clock::now();
  data::BatchLoader loader(samples.recs, probe, samples.spec, samples.outputs, samples.loader,
                           config.seed);
  data::Batch batch;
  int64_t n = 0;
  while (loader.next(batch)) n += batch.size;
  return static_cast<double>(n) / std::max(1e-9, seconds_since(t0));
}

// The best weights before the first epoch: the starting ones, or the checkpoint's best.
PilotNetWeights starting_best_weights(TrainingRun& run, const TrainConfig& config,
                                      const data::PreprocessSpec& spec) {
  PilotNetWeights best_weights = weights_of(run.model);
  if (resumes_from(config, "best.pt")) {
    PilotNet best(pilotnet_skeleton(config.arch, spec.height, spec.width));
    torch::load(best, (config.checkpoint_dir / "best.pt").string());
    best_weights = weights_of(best);
  }
  return best_weights;
}

// One optimizer step on `batch`; its loss.
double train_step(TrainingRun& run, const data::Batch& batch, const data::PreprocessSpec& spec) {
  run.optimizer->zero_grad();
  if (run.constraints) run.constraints->before_step(run.state.steps);
  const torch::Tensor pred = run.model->forward(images_tensor(batch, spec), run.constraints.get());
  const torch::Tensor loss = weighted_mse(pred, labels_tensor(batch), run.loss_weights);
  loss.backward();
  run.optimizer->step();
  if (run.constraints) run.constraints->after_step();
  return loss.item<double>();
}

// The steps of one epoch, until the loader runs dry or config.max_steps is reached.
EpochSteps train_steps(TrainingRun& run, data::BatchLoader& loader, ProgressBar& bar,
                       const data::PreprocessSpec& spec, const TrainConfig& config) {
  EpochSteps steps;
  data::Batch batch;
  while (loader.next(batch)) {
    const auto t0 = Clock::now();
    const double l = train_step(run, batch, spec);
    if (!std::isfinite(l)) {
      throw RunError("training diverged: the loss is " + std::to_string(l) + " at step " +
                     std::to_string(run.state.steps + 1) +
                     "; lower the learning rate (--lr) or check the recordings");
    }
    steps.seconds += seconds_since(t0);
    run.step_losses.push_back(l);
    steps.loss_sum += l;
    ++steps.batches;
    ++run.state.steps;
    steps.images += batch.size;
    char note[96];
    std::snprintf(note, sizeof note, "loss %.4f lr %.1e", steps.loss_sum / steps.batches,
                  run.state.learning_rate);
    bar.update(steps.images, note);
    if (config.max_steps > 0 && run.state.steps >= config.max_steps) {
      run.step_limit_hit = true;
      break;
    }
  }
  return steps;
}

// The next epoch: its steps on a fresh order of the training samples, then validation.
EpochRecord run_epoch(TrainingRun& run, const TrainingSamples& samples, const TrainConfig& config) {
  const int epoch = run.state.epochs_done + 1;
  const auto epoch_start = Clock::now();
  std::vector<data::SampleRef> order =
      data::epoch_order(samples.train_index, config.seed, epoch, config.samples_per_epoch);
  const int64_t epoch_samples = static_cast<int64_t>(order.size());
  data::BatchLoader loader(samples.recs, std::move(order), samples.spec, samples.outputs,
                           samples.loader, config.seed * 7919 + static_cast<uint64_t>(epoch));
  ProgressBar bar("epoch " + std::to_string(epoch) + "/" + std::to_string(config.epochs),
                  epoch_samples, "img", config.progress);
  const EpochSteps steps = train_steps(run, loader, bar, samples.spec, config);
  run.step_seconds += steps.seconds;
  run.step_images += steps.images;

  EpochRecord rec;
  rec.epoch = epoch;
  rec.train_loss = steps.batches > 0 ? steps.loss_sum / steps.batches : std::nan("");
  rec.learning_rate = run.state.learning_rate;
  rec.validation_loss =
      validation_loss(run.model, samples.recs, samples.validation_index, samples.spec,
                      samples.outputs, config, run.constraints.get());
  // Without a validation split the loss is NaN on purpose; with one, NaN or infinity means the
  // weights blew up (and would otherwise be taken for "no validation" and written out).
  if (!samples.validation_index.empty() && !std::isfinite(rec.validation_loss)) {
    throw RunError("training diverged: the validation loss after epoch " + std::to_string(epoch) +
                   " is " + std::to_string(rec.validation_loss) +
                   "; lower the learning rate (--lr) or check the recordings");
  }
  rec.images_per_s = static_cast<double>(steps.images) / std::max(1e-9, seconds_since(epoch_start));
  rec.loader_wait_s = loader.wait_seconds();
  rec.seconds = seconds_since(epoch_start);
  char note[128];
  std::snprintf(note, sizeof note, "loss %.4f val %.4f, %.0f img/s", rec.train_loss,
                rec.validation_loss,
                static_cast<double>(steps.images) / std::max(1e-9, steps.seconds));
  bar.finish(note);
  return rec;
}

// Records a finished epoch: best weights by validation loss (by training loss when there is no
// validation split), learning-rate decay and early stopping on a plateau, then the checkpoint.
void end_epoch(TrainingRun& run, const EpochRecord& rec, const TrainConfig& config) {
  TrainingState& state = run.state;
  const double score = std::isfinite(rec.validation_loss) ? rec.validation_loss : rec.train_loss;
  const bool improved = score < state.best_validation_loss;
  if (improved) {
    state.best_validation_loss = score;
    state.best_epoch = rec.epoch;
    state.epochs_since_best = 0;
    state.epochs_since_decay = 0;
    run.best_weights = weights_of(run.model);
  } else {
    ++state.epochs_since_best;
    if (++state.epochs_since_decay >= config.lr_patience) {
      state.learning_rate *= config.lr_decay;
      state.epochs_since_decay = 0;
      set_learning_rate(*run.optimizer, state.learning_rate);
    }
    if (!config.compression && config.early_stop_patience > 0 &&
        state.epochs_since_best >= config.early_stop_patience) {
      state.stopped_early = true;
    }
  }
  state.history.push_back(rec);
  state.epochs_done = rec.epoch;
  if (!config.checkpoint_dir.empty())
    save_checkpoint(config.checkpoint_dir, run.model, *run.optimizer, state, config, improved);
}

// A model with a NaN or infinite weight is never returned (so never written).
void check_finite(const PilotNetWeights& w) {
  auto finite = [](const std::vector<float>& v) {
    return std::all_of(v.begin(), v.end(), [](float x) { return std::isfinite(x); });
  };
  bool ok = finite(w.input_norm.scale) && finite(w.input_norm.bias);
  for (const auto& c : w.convs) ok = ok && finite(c.weight) && finite(c.bias);
  for (const auto& d : w.dense) ok = ok && finite(d.weight) && finite(d.bias);
  if (!ok)
    throw RunError(
        "training diverged: the trained weights hold NaN or infinity; lower the learning rate "
        "(--lr) or check the recordings");
}

// The weights a run returns: the best epoch's (the last if none improved) or, under training-time
// optimization, the constrained weights as they end (a schedule's target is reached only at the
// end, so an earlier epoch's weights would not keep its promises).
PilotNetWeights final_weights(TrainingRun& run) {
  if (!run.constraints) {
    if (run.state.best_epoch == 0) return weights_of(run.model);
    return std::move(run.best_weights);
  }
  run.constraints->finish();
  PilotNetWeights w = weights_of(run.model);
  const auto effective = run.constraints->effective_weights();
  for (size_t i = 0; i < w.convs.size(); ++i) w.convs[i].weight = effective[i];
  for (size_t i = 0; i < w.dense.size(); ++i) w.dense[i].weight = effective[w.convs.size() + i];
  return w;
}

}  // namespace

PilotNetWeights init_pilotnet(Arch arch, uint64_t seed) {
  torch::manual_seed(seed);
  PilotNet model(pilotnet_skeleton(arch));
  PilotNetWeights w = weights_of(model);
  // Non-trivial input normalization so that tests exercise every BatchNorm term.
  for (int c = 0; c < 3; ++c) {
    w.input_norm.scale[c] = 0.8f + 0.2f * c;
    w.input_norm.bias[c] = 0.1f * (c - 1);
    w.input_norm.mean[c] = 0.05f * c - 0.05f;
    w.input_norm.var[c] = 0.9f + 0.15f * c;
  }
  return w;
}

std::vector<float> torch_forward(const PilotNetWeights& net, std::span<const float> input,
                                 int64_t batch) {
  torch::NoGradGuard no_grad;
  PilotNetWeights shape = pilotnet_skeleton(net.arch, net.input_height, net.input_width);
  shape.input_norm.epsilon = net.input_norm.epsilon;
  PilotNet model(shape);
  load_weights(model, net);
  model->eval();
  const torch::Tensor x =
      torch::from_blob(const_cast<float*>(input.data()),
                       {batch, 3, net.input_height, net.input_width}, torch::kFloat32);
  std::vector<float> out;
  copy_out(model->forward(x), out);
  return out;
}

TrainResult train_pilotnet(const std::vector<data::Recording>& recs, std::span<const int> train_ids,
                           std::span<const int> validation_ids, const data::PreprocessSpec& spec,
                           const data::OutputSpec& outputs, const TrainConfig& config) {
  const auto run_start = Clock::now();
  if (train_ids.empty()) {
    throw InputError("train: the training split is empty; give at least one training recording");
  }
  at::set_num_threads(std::max(1, config.compute_threads));
  torch::manual_seed(config.seed);
  const TrainingSamples samples{recs,
                                spec,
                                outputs,
                                data::build_index(recs, train_ids, config.oversample),
                                data::build_index(recs, validation_ids, false),
                                training_loader_config(config)};
  if (config.compression && config.resume)
    throw InputError("train: training-time optimization runs cannot resume; start them over");
  TrainingRun run = start_run(samples, config);

  TrainResult result;
  result.train_samples = static_cast<int64_t>(samples.train_index.size());
  result.validation_samples = static_cast<int64_t>(samples.validation_index.size());
  if (config.measure_loader_images > 0)
    result.loader_images_per_s = loader_images_per_s(samples, config);
  run.best_weights = starting_best_weights(run, config, spec);
  while (run.state.epochs_done < config.epochs && !run.state.stopped_early && !run.step_limit_hit) {
    end_epoch(run, run_epoch(run, samples, config), config);
  }
  result.best = final_weights(run);
  check_finite(result.best);
  if (run.constraints) result.activation_ranges = run.constraints->activation_ranges();
  result.state = std::move(run.state);
  result.step_losses = std::move(run.step_losses);
  result.wall_s = seconds_since(run_start);
  result.train_images_per_s =
      static_cast<double>(run.step_images) / std::max(1e-9, run.step_seconds);
  return result;
}

}  // namespace pitlane::train
