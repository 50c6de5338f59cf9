// Clustering against hand computations: each initialization's centroids, k-means++ recovering
// well-separated groups, at most k values per channel, zeros kept, and a clustered matrix's
// own clusters read back exactly.
#include "pitlane/train/clustering.h"

#include <gtest/gtest.h>

#include <cmath>
#include <set>

#include "pitlane/core/error.h"
#include "pitlane/core/rng.h"

namespace pitlane::train {
namespace {

TEST(Clustering, LinearInitSpacesCentroidsEvenlyBetweenMinAndMax) {
  const std::vector<float> w = {-1.0f, 0.1f, 0.2f, 2.0f, 0.9f, 1.2f};
  const Clustering c = cluster_weights({w, 1, 6}, {.clusters = 4, .init = CentroidInit::linear});
  EXPECT_EQ(c.centroids, (std::vector<float>{-1.0f, 0.0f, 1.0f, 2.0f}));
  // Each weight tied to its nearest centroid.
  EXPECT_EQ(c.index, (std::vector<int32_t>{0, 1, 1, 3, 2, 2}));
  EXPECT_EQ(c.values(), (std::vector<float>{-1.0f, 0.0f, 0.0f, 2.0f, 1.0f, 1.0f}));
}

TEST(Clustering, DensityInitPlacesCentroidsAtQuantiles) {
  const std::vector<float> w = {4.0f, 0.0f, 1.0f, 3.0f, 2.0f};
  const Clustering c = cluster_weights({w, 1, 5}, {.clusters = 3, .init = CentroidInit::density});
  EXPECT_EQ(c.centroids, (std::vector<float>{0.0f, 2.0f, 4.0f}));
}

TEST(Clustering, KMeansPlusPlusFindsSeparatedGroupsPerChannel) {
  // Row r holds three tight groups around -1, 0.5 and 3 (shifted by r).
  Rng rng(4);
  const int rows = 3, cols = 60;
  std::vector<float> w;
  for (int r = 0; r < rows; ++r)
    for (int i = 0; i < cols; ++i)
      w.push_back(static_cast<float>((i % 3 == 0   ? -1.0
                                      : i % 3 == 1 ? 0.5
                                                   : 3.0) +
                                     r + rng.uniform(-0.01, 0.01)));
  const Clustering c = cluster_weights({w, rows, cols}, {.clusters = 3, .seed = 7});
  ASSERT_EQ(c.groups, rows);
  for (int r = 0; r < rows; ++r) {
    EXPECT_NEAR(c.centroids[r * 3 + 0], -1.0 + r, 0.01);
    EXPECT_NEAR(c.centroids[r * 3 + 1], 0.5 + r, 0.01);
    EXPECT_NEAR(c.centroids[r * 3 + 2], 3.0 + r, 0.01);
  }
  EXPECT_LE(max_distinct_per_row({c.values(), rows, cols}), 3);
}

TEST(Clustering, EveryInitGivesAtMostKValuesPerChannelOrPerLayer) {
  Rng rng(1);
  std::vector<float> w(8 * 50);
  for (float& x : w) x = static_cast<float>(rng.normal(0.0, 1.0));
  for (auto init : {CentroidInit::kmeans_plus_plus, CentroidInit::linear, CentroidInit::density,
                    CentroidInit::random}) {
    const Clustering ch = cluster_weights({w, 8, 50}, {.clusters = 5, .init = init, .seed = 2});
    EXPECT_LE(max_distinct_per_row({ch.values(), 8, 50}), 5);
    const Clustering layer =
        cluster_weights({w, 8, 50}, {.clusters = 5, .per_channel = false, .init = init});
    const auto v = layer.values();
    EXPECT_LE(std::set<float>(v.begin(), v.end()).size(), 5u);
  }
}

TEST(Clustering, PreservingSparsityKeepsZerosOutOfTheCentroids) {
  const std::vector<float> w = {0.0f, 1.0f, 0.0f, 1.1f, -2.0f, 0.0f, -2.1f, 0.0f};
  const Clustering c = cluster_weights(
      {w, 1, 8}, {.clusters = 2, .init = CentroidInit::linear, .preserve_sparsity = true});
  const auto v = c.values();
  for (size_t i = 0; i < w.size(); ++i) {
    if (w[i] == 0.0f) {
      EXPECT_EQ(c.index[i], -1);
      EXPECT_EQ(v[i], 0.0f);
    } else {
      EXPECT_NE(v[i], 0.0f);
    }
  }
  EXPECT_EQ(c.centroids, (std::vector<float>{-2.1f, 1.1f}));
}

TEST(Clustering, ExistingClustersReproduceAClusteredMatrix) {
  const std::vector<float> w = {0.5f, -1.0f, 0.5f, 0.0f, 3.0f, 3.0f, 3.0f, -2.0f};
  const Clustering c = existing_clusters({w, 2, 4}, 3, true, true);
  EXPECT_EQ(c.values(), w);
  EXPECT_EQ(c.index[3], -1);
  EXPECT_THROW(existing_clusters({w, 1, 8}, 3, false, false), InputError);  // 5 values > 3
  EXPECT_THROW(cluster_weights({w, 2, 4}, {.clusters = 1}), InputError);
  EXPECT_THROW(parse_centroid_init("kmeans"), InputError);
}

}  // namespace
}  // namespace pitlane::train
