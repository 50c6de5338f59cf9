// Internal to the trainer (libtorch): applies a CompressionConfig to PilotNet's conv and dense
// weights during training. Built once on the start weights; the trainer asks it for each layer's
// effective weight in the forward pass, fake-quantizes activations through it, and calls
// before_step / after_step around each optimizer step.
//
//   WeightConstraints c(raw_weights, config, last_step);
//   optimizer params += c.parameters();            // cluster centroids
//   c.before_step(step);  loss(model(x, &c)).backward();  opt.step();  c.after_step();
#pragma once

#include <torch/torch.h>

#include <vector>

#include "pitlane/train/compression.h"

namespace pitlane::train {

class WeightConstraints {
 public:
  // `raw` are the layers' weight parameters (convs then dense), ONNX-shaped [out, ...].
  WeightConstraints(std::vector<torch::Tensor> raw, const CompressionConfig& config,
                    int64_t last_step);

  // The weight layer `l` computes with (differentiable towards raw weights or centroids).
  torch::Tensor weight(size_t layer) const;
  // Fake quantization of activation point `point` (identity without QAT); `observe` updates
  // the point's moving-average range first (training batches only).
  torch::Tensor activation(size_t point, const torch::Tensor& x, bool observe);

  // Recomputes the pruning masks when the schedule says so (step is 0-based).
  void before_step(int64_t step);
  // Zeroes the pruned raw weights again after the optimizer moved them.
  void after_step();
  // Brings the masks to the schedule's final sparsity if the run ended before its last step.
  void finish();

  std::vector<torch::Tensor> parameters() const;  // trainable tensors besides the model's
  std::vector<std::vector<float>> effective_weights() const;
  std::vector<ActivationRange> activation_ranges() const;
  // Sparsity the schedule has reached (0 without pruning).
  double current_sparsity() const { return sparsity_; }

 private:
  struct Layer {
    torch::Tensor raw;         // the model's parameter
    torch::Tensor mask;        // same shape, 0/1 floats; undefined: no mask
    torch::Tensor centroids;   // [groups, k] trainable; undefined: not clustered
    torch::Tensor flat_index;  // [rows * cols] long: group * k + index (0 for masked zeros)
    int64_t rows = 0, cols = 0;
  };
  torch::Tensor masked_values(const Layer& layer) const;
  void update_masks(double sparsity);

  CompressionConfig config_;
  int64_t last_step_;
  double sparsity_ = 0.0;
  std::vector<Layer> layers_;
  std::vector<ActivationRange> ranges_;
  std::vector<bool> observed_;
};

}  // namespace pitlane::train
