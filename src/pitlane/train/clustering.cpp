#include "pitlane/train/clustering.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>

#include "pitlane/core/error.h"
#include "pitlane/core/rng.h"

namespace pitlane::train {
namespace {

// Index of the centroid nearest to x (the first of equals: deterministic).
int32_t nearest(std::span<const float> centroids, float x) {
  int32_t best = 0;
  float best_d = std::numeric_limits<float>::infinity();
  for (size_t c = 0; c < centroids.size(); ++c) {
    const float d = std::fabs(x - centroids[c]);
    if (d < best_d) best_d = d, best = static_cast<int32_t>(c);
  }
  return best;
}

// k-means++ seeding: each next centroid drawn with probability proportional to the squared
// distance to the nearest one chosen so far.
std::vector<float> kmeans_plus_plus(std::span<const float> x, int k, Rng& rng) {
  std::vector<float> c{x[rng.next_u64() % x.size()]};
  std::vector<double> d2(x.size());
  while (static_cast<int>(c.size()) < k) {
    double total = 0.0;
    for (size_t i = 0; i < x.size(); ++i) {
      const double d = x[i] - c[nearest(c, x[i])];
      total += d2[i] = d * d;
    }
    if (total <= 0.0) {  // fewer distinct values than k: repeat one
      c.push_back(c.back());
      continue;
    }
    double pick = rng.uniform(0.0, total);
    size_t i = 0;
    while (i + 1 < x.size() && pick >= d2[i]) pick -= d2[i++];
    c.push_back(x[i]);
  }
  return c;
}

void lloyd(std::span<const float> x, std::vector<float>& c) {
  std::vector<double> sum(c.size());
  std::vector<int64_t> count(c.size());
  for (int iteration = 0; iteration < 100; ++iteration) {
    std::fill(sum.begin(), sum.end(), 0.0);
    std::fill(count.begin(), count.end(), 0);
    for (float v : x) {
      const int32_t j = nearest(c, v);
      sum[j] += v;
      ++count[j];
    }
    bool moved = false;
    for (size_t j = 0; j < c.size(); ++j) {
      if (count[j] == 0) continue;  // an empty cluster keeps its centroid
      const auto next = static_cast<float>(sum[j] / static_cast<double>(count[j]));
      moved |= next != c[j];
      c[j] = next;
    }
    if (!moved) return;
  }
}

std::vector<float> initial_centroids(std::vector<float> x, int k, CentroidInit init, Rng& rng) {
  if (x.empty()) return std::vector<float>(k, 0.0f);
  const auto [lo, hi] = std::minmax_element(x.begin(), x.end());
  const float min = *lo, max = *hi;
  std::vector<float> c(k);
  switch (init) {
    case CentroidInit::linear:
      for (int j = 0; j < k; ++j) c[j] = min + (max - min) * static_cast<float>(j) / (k - 1);
      c[k - 1] = max;  // exactly, whatever the rounding above
      return c;
    case CentroidInit::random:
      for (int j = 0; j < k; ++j) c[j] = static_cast<float>(rng.uniform(min, max));
      std::sort(c.begin(), c.end());
      return c;
    case CentroidInit::density: {
      std::sort(x.begin(), x.end());
      for (int j = 0; j < k; ++j) {
        const double at = static_cast<double>(j) / (k - 1) * static_cast<double>(x.size() - 1);
        const auto i = static_cast<size_t>(at);
        const double f = at - static_cast<double>(i);
        c[j] = static_cast<float>(x[i] + f * (x[std::min(i + 1, x.size() - 1)] - x[i]));
      }
      return c;
    }
    case CentroidInit::kmeans_plus_plus:
      c = kmeans_plus_plus(x, k, rng);
      lloyd(x, c);
      std::sort(c.begin(), c.end());
      return c;
  }
  return c;
}

void check_shape(const WeightMatrix& w, int clusters) {
  if (static_cast<int64_t>(w.values.size()) != w.rows * w.cols || w.rows < 1)
    throw RunError("clustering: a weight matrix's size does not match its rows x cols");
  if (clusters < 2 || clusters > 256)
    throw InputError("clustering: " + std::to_string(clusters) +
                     " clusters is out of range; use 2 to 256");
}

}  // namespace

CentroidInit parse_centroid_init(const std::string& name) {
  if (name == "kmeans++") return CentroidInit::kmeans_plus_plus;
  if (name == "linear") return CentroidInit::linear;
  if (name == "density") return CentroidInit::density;
  if (name == "random") return CentroidInit::random;
  throw InputError("centroid initialization '" + name +
                   "' is unknown; use kmeans++, linear, density or random");
}

std::vector<float> Clustering::values() const {
  std::vector<float> v(index.size(), 0.0f);
  for (size_t i = 0; i < index.size(); ++i) {
    if (index[i] >= 0) v[i] = centroids[group_of(static_cast<int64_t>(i)) * clusters + index[i]];
  }
  return v;
}

Clustering cluster_weights(const WeightMatrix& w, const ClusterOptions& options) {
  check_shape(w, options.clusters);
  Clustering c;
  c.rows = w.rows;
  c.cols = w.cols;
  c.groups = options.per_channel ? w.rows : 1;
  c.clusters = options.clusters;
  c.index.assign(w.values.size(), -1);
  Rng rng(options.seed);
  const int64_t group_size = w.values.size() / c.groups;
  for (int64_t g = 0; g < c.groups; ++g) {
    const auto span = w.values.subspan(g * group_size, group_size);
    std::vector<float> x;
    for (float v : span)
      if (!(options.preserve_sparsity && v == 0.0f)) x.push_back(v);
    const std::vector<float> centroids = initial_centroids(x, options.clusters, options.init, rng);
    c.centroids.insert(c.centroids.end(), centroids.begin(), centroids.end());
    for (int64_t i = 0; i < group_size; ++i) {
      if (options.preserve_sparsity && span[i] == 0.0f) continue;
      c.index[g * group_size + i] = nearest(centroids, span[i]);
    }
  }
  return c;
}

Clustering existing_clusters(const WeightMatrix& w, int clusters, bool per_channel,
                             bool preserve_sparsity) {
  check_shape(w, clusters);
  Clustering c;
  c.rows = w.rows;
  c.cols = w.cols;
  c.groups = per_channel ? w.rows : 1;
  c.clusters = clusters;
  c.index.assign(w.values.size(), -1);
  const int64_t group_size = w.values.size() / c.groups;
  for (int64_t g = 0; g < c.groups; ++g) {
    const auto span = w.values.subspan(g * group_size, group_size);
    std::set<float> distinct;
    for (float v : span)
      if (!(preserve_sparsity && v == 0.0f)) distinct.insert(v);
    if (static_cast<int>(distinct.size()) > clusters)
      throw InputError("clustering: a group has " + std::to_string(distinct.size()) +
                       " distinct weights, more than " + std::to_string(clusters) +
                       "; cluster the model first (recipe cluster)");
    std::vector<float> centroids(distinct.begin(), distinct.end());
    if (centroids.empty()) centroids.push_back(0.0f);
    centroids.resize(clusters, centroids.back());
    for (int64_t i = 0; i < group_size; ++i) {
      if (preserve_sparsity && span[i] == 0.0f) continue;
      c.index[g * group_size + i] = static_cast<int32_t>(
          std::lower_bound(centroids.begin(), centroids.end(), span[i]) - centroids.begin());
    }
    c.centroids.insert(c.centroids.end(), centroids.begin(), centroids.end());
  }
  return c;
}

int max_distinct_per_row(const WeightMatrix& w) {
  int most = 0;
  for (int64_t r = 0; r < w.rows; ++r) {
    const auto row = w.values.subspan(r * w.cols, w.cols);
    most = std::max(most, static_cast<int>(std::set<float>(row.begin(), row.end()).size()));
  }
  return most;
}

}  // namespace pitlane::train
