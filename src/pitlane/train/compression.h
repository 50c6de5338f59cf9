// What training-time optimization does while the trainer runs (plain data, no libtorch): the
// constraints on the conv and dense weights and the fake quantization of activations. The
// trainer applies them (weight_constraints.cpp); training_recipes.h strings them into the
// study's recipes (qat, prune, cluster, pqat, cqat, pcqat).
//
// The effective weight of a layer in every forward pass is
//   fake_quant( mask * (clustered ? centroid[index] : raw) )
// so pruned weights are exactly zero, clustered ones take at most k values per group, and QAT
// sees the int8 weights it will be exported with (symmetric per output channel, scale
// max|w| / 127, as the int8 recipe writes them).
#pragma once

#include <optional>
#include <vector>

#include "pitlane/train/clustering.h"
#include "pitlane/train/pruning.h"

namespace pitlane::train {

struct QatOptions {
  // Activation ranges are exponential moving averages of each batch's min and max (the first
  // batch sets them), as TFMOT's and PyTorch's moving-average observers do.
  double ema_decay = 0.99;
};

struct CompressionConfig {
  std::optional<PruneOptions> prune;  // magnitude masks on the schedule
  bool keep_zeros = false;            // weights zero at the start stay zero (PQAT, PCQAT)
  std::optional<ClusterOptions> cluster;
  // With `cluster`: the start weights' own distinct values are the centroids (CQAT, PCQAT keep
  // the clusters a previous phase made) instead of a fresh clustering.
  bool cluster_existing = false;
  std::optional<QatOptions> qat;
};

// Fake-quantized activation points in PilotNet's order: 0 is the first conv's input (after the
// input normalization), then each conv's and each hidden dense layer's output after its ReLU.
struct ActivationRange {
  float min = 0.0f, max = 0.0f;
};

}  // namespace pitlane::train
