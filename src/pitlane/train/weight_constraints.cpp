#include "pitlane/train/weight_constraints.h"

#include "pitlane/core/error.h"
#include "pitlane/quant/observer.h"

namespace pitlane::train {
namespace {

constexpr size_t kActivationPoints = 10;  // conv1 input, 5 conv outputs, 4 hidden dense outputs

std::vector<float> to_vector(const torch::Tensor& t) {
  const torch::Tensor c = t.detach().to(torch::kFloat32).contiguous();
  return {c.data_ptr<float>(), c.data_ptr<float>() + c.numel()};
}

// Symmetric per-output-channel int8 with a straight-through gradient; scale = max|w| / 127
// exactly as the int8 recipe computes it, so the export reproduces these integers.
torch::Tensor fake_quant_weight(const torch::Tensor& w, int64_t rows) {
  const torch::Tensor flat = w.reshape({rows, -1});
  const torch::Tensor amax = flat.detach().abs().amax(1, true);
  const torch::Tensor scale = torch::where(amax > 0, amax / 127.0f, torch::ones_like(amax));
  const torch::Tensor q = torch::clamp(torch::round(flat.detach() / scale), -127, 127) * scale;
  return (flat + (q - flat).detach()).reshape(w.sizes());
}

}  // namespace

WeightConstraints::WeightConstraints(std::vector<torch::Tensor> raw,
                                     const CompressionConfig& config, int64_t last_step)
    : config_(config), last_step_(last_step) {
  torch::NoGradGuard no_grad;
  for (auto& t : raw) {
    Layer l;
    l.raw = t;
    l.rows = t.size(0);
    l.cols = t.numel() / l.rows;
    if (config.keep_zeros) l.mask = (t != 0).to(torch::kFloat32);
    if (config.cluster) {
      const std::vector<float> values = to_vector(t);
      const WeightMatrix m{values, l.rows, l.cols};
      const ClusterOptions& o = *config.cluster;
      const Clustering c = config.cluster_existing ? existing_clusters(m, o.clusters, o.per_channel,
                                                                       o.preserve_sparsity)
                                                   : cluster_weights(m, o);
      l.centroids = torch::tensor(c.centroids, torch::kFloat32)
                        .view({c.groups, c.clusters})
                        .set_requires_grad(true);
      std::vector<int64_t> flat(c.index.size());
      std::vector<float> keep(c.index.size());
      for (size_t i = 0; i < c.index.size(); ++i) {
        flat[i] = c.group_of(static_cast<int64_t>(i)) * c.clusters + std::max(0, c.index[i]);
        keep[i] = c.index[i] >= 0 ? 1.0f : 0.0f;
      }
      l.flat_index = torch::tensor(flat, torch::kLong);
      if (o.preserve_sparsity) {
        const torch::Tensor m2 = torch::tensor(keep, torch::kFloat32).view(t.sizes());
        l.mask = l.mask.defined() ? l.mask * m2 : m2;
      }
      t.set_requires_grad(false);  // the centroids train instead
    }
    if (l.mask.defined()) t.mul_(l.mask);
    layers_.push_back(std::move(l));
  }
  if (config.qat) {
    ranges_.assign(kActivationPoints, {});
    observed_.assign(kActivationPoints, false);
  }
}

torch::Tensor WeightConstraints::masked_values(const Layer& l) const {
  torch::Tensor w = l.centroids.defined()
                        ? l.centroids.view(-1).index_select(0, l.flat_index).view(l.raw.sizes())
                        : l.raw;
  return l.mask.defined() ? w * l.mask : w;
}

torch::Tensor WeightConstraints::weight(size_t layer) const {
  const Layer& l = layers_.at(layer);
  const torch::Tensor w = masked_values(l);
  return config_.qat ? fake_quant_weight(w, l.rows) : w;
}

torch::Tensor WeightConstraints::activation(size_t point, const torch::Tensor& x, bool observe) {
  if (!config_.qat) return x;
  if (point >= ranges_.size()) throw RunError("qat: activation point out of range");
  ActivationRange& r = ranges_[point];
  if (observe) {
    const torch::Tensor d = x.detach();
    const float lo = d.min().item<float>(), hi = d.max().item<float>();
    if (!observed_[point]) {
      r = {lo, hi};
      observed_[point] = true;
    } else {
      const auto decay = static_cast<float>(config_.qat->ema_decay);
      r.min = decay * r.min + (1.0f - decay) * lo;
      r.max = decay * r.max + (1.0f - decay) * hi;
    }
  }
  if (!observed_[point]) return x;  // no range yet (evaluation before any training batch)
  // libtorch's fused fake quantization: one pass, gradient passed inside the range (STE).
  const quant::AffineParams p = quant::affine_params({r.min, r.max}, false);
  return torch::fake_quantize_per_tensor_affine(x, p.scale, p.zero_point, 0, 255);
}

void WeightConstraints::before_step(int64_t step) {
  if (config_.prune && config_.prune->schedule.updates_at(step, last_step_))
    update_masks(config_.prune->schedule.sparsity_at(step, last_step_));
}

void WeightConstraints::finish() {
  if (!config_.prune) return;
  const double target = config_.prune->schedule.sparsity_at(last_step_, last_step_);
  if (sparsity_ != target) update_masks(target);
}

void WeightConstraints::update_masks(double sparsity) {
  torch::NoGradGuard no_grad;
  std::vector<std::vector<float>> values;
  std::vector<WeightMatrix> matrices;
  for (const Layer& l : layers_) {
    values.push_back(to_vector(l.centroids.defined() ? masked_values(l) : l.raw));
  }
  for (size_t i = 0; i < layers_.size(); ++i)
    matrices.push_back({values[i], layers_[i].rows, layers_[i].cols});
  const auto masks = magnitude_masks(matrices, sparsity, *config_.prune);
  for (size_t i = 0; i < layers_.size(); ++i) {
    Layer& l = layers_[i];
    std::vector<float> m(masks[i].begin(), masks[i].end());
    torch::Tensor mask = torch::tensor(m, torch::kFloat32).view(l.raw.sizes());
    // Zeros kept by an earlier phase stay zero whatever the schedule says.
    if (config_.keep_zeros && l.mask.defined()) mask = mask * l.mask;
    l.mask = mask;
    l.raw.mul_(l.mask);
  }
  sparsity_ = sparsity;
}

void WeightConstraints::after_step() {
  torch::NoGradGuard no_grad;
  for (Layer& l : layers_)
    if (l.mask.defined() && !l.centroids.defined()) l.raw.mul_(l.mask);
}

std::vector<torch::Tensor> WeightConstraints::parameters() const {
  std::vector<torch::Tensor> p;
  for (const Layer& l : layers_)
    if (l.centroids.defined()) p.push_back(l.centroids);
  return p;
}

std::vector<std::vector<float>> WeightConstraints::effective_weights() const {
  torch::NoGradGuard no_grad;
  std::vector<std::vector<float>> w;
  for (size_t i = 0; i < layers_.size(); ++i) w.push_back(to_vector(weight(i)));
  return w;
}

std::vector<ActivationRange> WeightConstraints::activation_ranges() const {
  return ranges_;
}

}  // namespace pitlane::train
