// Magnitude pruning as plain data (no libtorch): the sparsity schedules of TensorFlow Model
// Optimization (ConstantSparsity, PolynomialDecay) and the masks that reach a sparsity with the
// smallest weights, unstructured, in blocks or N:M, per layer or over all layers at once.
//
// A layer's weight is seen as a matrix [rows = output channels, cols = fan-in]: ONNX's
// [out, in, kh, kw] conv weight and [out, in] Gemm weight (transB) are already laid out so.
//
//   SparsitySchedule s{.kind = SparsitySchedule::Kind::polynomial, .initial = 0.5, .target = 0.8};
//   if (s.updates_at(step, last_step)) {
//     auto masks = magnitude_masks(layers, s.sparsity_at(step, last_step), options);
//   }
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace pitlane::train {

struct SparsitySchedule {
  enum class Kind { constant, polynomial };
  Kind kind = Kind::polynomial;
  double initial = 0.5;    // polynomial: the sparsity at begin_step
  double target = 0.8;     // the sparsity from end_step on (constant: from begin_step on)
  int64_t begin_step = 0;  // first optimizer step that prunes
  // Polynomial: the target is reached here; -1 = three quarters into the run, so that the last
  // quarter fine-tunes at the target (ending the decay on the last step left 80% sparsity no
  // steps to recover: test MSE 0.026 against 0.014, docs/training-recipes.md).
  int64_t end_step = -1;
  int64_t frequency = 100;  // masks are recomputed every this many steps
  double power = 3.0;       // polynomial decay exponent (TFMOT's default)

  // end_step, or its default for a run whose last step is `last_step`.
  int64_t end(int64_t last_step) const { return end_step < 0 ? 3 * last_step / 4 : end_step; }
  // The sparsity the masks have after step `step` (0-based) of a run whose last step is
  // `last_step`: TFMOT's formula target + (initial - target) * (1 - progress)^power.
  double sparsity_at(int64_t step, int64_t last_step) const;
  // Whether the masks are recomputed at `step`: every `frequency` steps from begin_step, and
  // always at the end step, so that the sparsity ends exactly at `target`.
  bool updates_at(int64_t step, int64_t last_step) const;
};

enum class PruneStructure {
  unstructured,  // single weights
  block,         // block_rows x block_cols tiles of the [rows, cols] matrix, scored by mean |w|
  n_of_m,        // in every group of m consecutive fan-in weights, keep the n largest
};

struct PruneOptions {
  SparsitySchedule schedule;
  PruneStructure structure = PruneStructure::unstructured;
  int block_rows = 1, block_cols = 4;
  int n = 2, m = 4;  // n_of_m: the sparsity is 1 - n/m whatever the schedule says
  // One magnitude threshold over all layers (the default) or one sparsity per layer (TFMOT's
  // prune_low_magnitude). Per layer, 80% leaves the 20-weight output layer 4 weights and the
  // car leaves the road; global keeps small layers dense: test MSE 0.0121 against 0.0150, and
  // every lap completed (docs/training-recipes.md).
  bool global = true;
};

// "unstructured" | "block" | "n:m" (e.g. "2:4"); InputError naming the choices otherwise.
PruneStructure parse_prune_structure(const std::string& text, int* n = nullptr, int* m = nullptr);

struct WeightMatrix {
  std::span<const float> values;  // rows x cols, row major
  int64_t rows = 0, cols = 0;
};

// One mask per layer (1 keeps, 0 prunes), pruning the smallest-magnitude units (single weights
// or blocks) so that each layer (or, with `global`, all layers together) reaches `sparsity`
// of its weights. Ties are broken by position, so the masks are deterministic.
std::vector<std::vector<uint8_t>> magnitude_masks(std::span<const WeightMatrix> layers,
                                                  double sparsity, const PruneOptions& options);

// The fraction of exact zeros in `values`.
double zero_fraction(std::span<const float> values);

}  // namespace pitlane::train
