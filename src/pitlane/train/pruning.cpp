#include "pitlane/train/pruning.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "pitlane/core/error.h"

namespace pitlane::train {
namespace {

// A prunable unit: one weight or one block, with the mean magnitude it is ranked by.
struct Unit {
  float score;
  uint32_t layer;
  int64_t index;  // weight index (unstructured) or block index (block)
};

bool smaller(const Unit& a, const Unit& b) {
  if (a.score != b.score) return a.score < b.score;
  if (a.layer != b.layer) return a.layer < b.layer;
  return a.index < b.index;
}

int64_t ceil_div(int64_t a, int64_t b) {
  return (a + b - 1) / b;
}

struct BlockGrid {
  int64_t rows, cols, block_rows, block_cols, grid_cols;
  BlockGrid(const WeightMatrix& w, const PruneOptions& o)
      : rows(w.rows),
        cols(w.cols),
        block_rows(o.structure == PruneStructure::block ? o.block_rows : 1),
        block_cols(o.structure == PruneStructure::block ? o.block_cols : 1),
        grid_cols(ceil_div(w.cols, block_cols)) {}
  int64_t count() const { return ceil_div(rows, block_rows) * grid_cols; }
  template <typename F>
  void for_each(int64_t block, F&& f) const {
    const int64_t r0 = block / grid_cols * block_rows, c0 = block % grid_cols * block_cols;
    for (int64_t r = r0; r < std::min(rows, r0 + block_rows); ++r)
      for (int64_t c = c0; c < std::min(cols, c0 + block_cols); ++c) f(r * cols + c);
  }
};

void n_of_m_mask(const WeightMatrix& w, int n, int m, std::vector<uint8_t>& mask) {
  std::vector<int64_t> group;
  for (int64_t r = 0; r < w.rows; ++r) {
    for (int64_t c0 = 0; c0 < w.cols; c0 += m) {
      group.clear();
      for (int64_t c = c0; c < std::min(w.cols, c0 + m); ++c) group.push_back(r * w.cols + c);
      std::stable_sort(group.begin(), group.end(), [&](int64_t a, int64_t b) {
        return std::fabs(w.values[a]) > std::fabs(w.values[b]);
      });
      for (size_t i = static_cast<size_t>(n); i < group.size(); ++i) mask[group[i]] = 0;
    }
  }
}

}  // namespace

double SparsitySchedule::sparsity_at(int64_t step, int64_t last_step) const {
  if (step < begin_step) return 0.0;
  if (kind == Kind::constant) return target;
  const int64_t end = this->end(last_step);
  const double progress = end <= begin_step ? 1.0
                                            : std::clamp(static_cast<double>(step - begin_step) /
                                                             static_cast<double>(end - begin_step),
                                                         0.0, 1.0);
  return target + (initial - target) * std::pow(1.0 - progress, power);
}

bool SparsitySchedule::updates_at(int64_t step, int64_t last_step) const {
  if (step < begin_step) return false;
  const int64_t end = this->end(last_step);
  if (step > end) return false;
  return step == end || (step - begin_step) % std::max<int64_t>(1, frequency) == 0;
}

PruneStructure parse_prune_structure(const std::string& text, int* n, int* m) {
  if (text == "unstructured") return PruneStructure::unstructured;
  if (text == "block") return PruneStructure::block;
  const auto colon = text.find(':');
  if (colon != std::string::npos) {
    try {
      size_t used_n = 0, used_m = 0;
      const int nn = std::stoi(text.substr(0, colon), &used_n);
      const int mm = std::stoi(text.substr(colon + 1), &used_m);
      if (used_n == colon && used_m == text.size() - colon - 1 && nn >= 1 && mm > nn && mm <= 64) {
        if (n) *n = nn;
        if (m) *m = mm;
        return PruneStructure::n_of_m;
      }
    } catch (const std::exception&) {
    }
  }
  throw InputError("pruning structure '" + text +
                   "' is unknown; use unstructured, block or N:M with 1 <= N < M <= 64 (e.g. 2:4)");
}

std::vector<std::vector<uint8_t>> magnitude_masks(std::span<const WeightMatrix> layers,
                                                  double sparsity, const PruneOptions& options) {
  if (!(sparsity >= 0.0 && sparsity < 1.0))
    throw InputError("pruning: sparsity " + std::to_string(sparsity) + " is out of range [0, 1)");
  std::vector<std::vector<uint8_t>> masks;
  for (const auto& w : layers) {
    if (static_cast<int64_t>(w.values.size()) != w.rows * w.cols)
      throw RunError("pruning: a weight matrix's size does not match its rows x cols");
    masks.emplace_back(w.values.size(), uint8_t{1});
  }
  if (options.structure == PruneStructure::n_of_m) {
    for (size_t l = 0; l < layers.size(); ++l)
      n_of_m_mask(layers[l], options.n, options.m, masks[l]);
    return masks;
  }
  if (options.structure == PruneStructure::block &&
      (options.block_rows < 1 || options.block_cols < 1))
    throw InputError("pruning: block sizes must be at least 1x1");

  // Units of every layer, ranked together (global) or layer by layer.
  auto prune_smallest = [&](std::vector<Unit>& units, const std::vector<BlockGrid>& grids) {
    const auto k = static_cast<size_t>(std::llround(sparsity * static_cast<double>(units.size())));
    if (k == 0) return;
    std::nth_element(units.begin(), units.begin() + static_cast<std::ptrdiff_t>(k - 1), units.end(),
                     smaller);
    for (size_t i = 0; i < k; ++i) {
      const Unit& u = units[i];
      grids[u.layer].for_each(u.index, [&](int64_t at) { masks[u.layer][at] = 0; });
    }
  };
  std::vector<BlockGrid> grids;
  for (const auto& w : layers) grids.emplace_back(w, options);
  std::vector<Unit> units;
  for (size_t l = 0; l < layers.size(); ++l) {
    if (!options.global) units.clear();
    for (int64_t b = 0; b < grids[l].count(); ++b) {
      double sum = 0.0;
      int64_t count = 0;
      grids[l].for_each(b, [&](int64_t at) {
        sum += std::fabs(layers[l].values[at]);
        ++count;
      });
      units.push_back(
          {static_cast<float>(sum / static_cast<double>(count)), static_cast<uint32_t>(l), b});
    }
    if (!options.global) prune_smallest(units, grids);
  }
  if (options.global) prune_smallest(units, grids);
  return masks;
}

double zero_fraction(std::span<const float> values) {
  if (values.empty()) return 0.0;
  const auto zeros = std::count(values.begin(), values.end(), 0.0f);
  return static_cast<double>(zeros) / static_cast<double>(values.size());
}

}  // namespace pitlane::train
