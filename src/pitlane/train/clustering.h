// Weight clustering as plain data (no libtorch): each output channel's (or each layer's) weights
// are tied to k shared values, the centroids, so the layer stores k floats per group plus a
// small index per weight, and fine-tuning trains the centroids (TensorFlow Model Optimization's
// clustering, per channel).
//
// Centroid initialization as in TFMOT: k-means++ (then Lloyd iterations to convergence), linear
// (evenly spaced between the group's min and max), density-based (at the quantiles of the
// group's values) or random (uniform between min and max, seeded). With `preserve_sparsity` the
// zeros are left out of the clustering and stay exactly zero.
//
//   Clustering c = cluster_weights({w, rows, cols}, {.clusters = 8});
//   std::vector<float> tied = c.values();   // every weight replaced by its centroid
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "pitlane/train/pruning.h"

namespace pitlane::train {

enum class CentroidInit { kmeans_plus_plus, linear, density, random };
// "kmeans++" | "linear" | "density" | "random"; InputError naming the choices otherwise.
CentroidInit parse_centroid_init(const std::string& name);

struct ClusterOptions {
  int clusters = 8;         // k, 2 to 256
  bool per_channel = true;  // k centroids per output channel (row) instead of per layer
  CentroidInit init = CentroidInit::kmeans_plus_plus;
  bool preserve_sparsity = false;  // zeros stay zero and take no centroid
  uint64_t seed = 0;               // k-means++ and random initialization
};

struct Clustering {
  int64_t rows = 0, cols = 0;
  int64_t groups = 0;            // rows when per channel, 1 per layer
  int clusters = 0;              // k
  std::vector<float> centroids;  // [groups, k]
  std::vector<int32_t> index;    // [rows * cols]: centroid within the weight's group; -1: zero

  int64_t group_of(int64_t weight) const { return groups == 1 ? 0 : weight / cols; }
  // The tied weights: each weight's centroid (0 where index is -1).
  std::vector<float> values() const;
};

Clustering cluster_weights(const WeightMatrix& w, const ClusterOptions& options);

// The clustering a weight matrix already has: each group's distinct values become its centroids
// (padded to k by repeating the last), zeros kept apart when `preserve_sparsity`. InputError when
// a group has more than k distinct values (the matrix was not clustered to k).
Clustering existing_clusters(const WeightMatrix& w, int clusters, bool per_channel,
                             bool preserve_sparsity);

// The largest number of distinct values any row of `w` has (the per-channel promise of CQAT).
int max_distinct_per_row(const WeightMatrix& w);

}  // namespace pitlane::train
