#include "pitlane/track/segment_index.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace pitlane::track {

SegmentIndex::SegmentIndex(std::span<const Vec2> points, bool closed, double cell_m)
    : points_(points.begin(), points.end()), cell_(cell_m) {
  const auto n = static_cast<int32_t>(points_.size());
  segment_count_ = n < 2 ? 0 : (closed ? n : n - 1);
  if (n == 0) return;

  Vec2 lo = points_[0], hi = points_[0];
  for (Vec2 p : points_) {
    lo = {std::min(lo.x, p.x), std::min(lo.y, p.y)};
    hi = {std::max(hi.x, p.x), std::max(hi.y, p.y)};
  }
  // At most kMaxCells cells: a sparse line over a wide area gets coarser cells, not more memory.
  const double area = (hi.x - lo.x + 2 * cell_) * (hi.y - lo.y + 2 * cell_);
  if (area / (cell_ * cell_) > kMaxCells) cell_ = std::sqrt(area / kMaxCells);
  origin_ = lo - Vec2{cell_, cell_};
  nx_ = static_cast<int32_t>(std::ceil((hi.x - origin_.x) / cell_)) + 2;
  ny_ = static_cast<int32_t>(std::ceil((hi.y - origin_.y) / cell_)) + 2;

  // Two passes over the segments' bounding boxes: count per cell, then fill.
  auto cells_of = [&](int32_t s, auto&& visit) {
    const Vec2 a = points_[static_cast<size_t>(s)];
    const Vec2 b = points_[static_cast<size_t>((s + 1) % n)];
    const auto x0 = static_cast<int32_t>((std::min(a.x, b.x) - origin_.x) / cell_);
    const auto x1 = static_cast<int32_t>((std::max(a.x, b.x) - origin_.x) / cell_);
    const auto y0 = static_cast<int32_t>((std::min(a.y, b.y) - origin_.y) / cell_);
    const auto y1 = static_cast<int32_t>((std::max(a.y, b.y) - origin_.y) / cell_);
    for (int32_t y = y0; y <= y1; ++y) {
      for (int32_t x = x0; x <= x1; ++x) visit(y * nx_ + x);
    }
  };
  cell_start_.assign(static_cast<size_t>(nx_) * static_cast<size_t>(ny_) + 1, 0);
  for (int32_t s = 0; s < segment_count_; ++s) {
    cells_of(s, [&](int32_t c) { ++cell_start_[static_cast<size_t>(c) + 1]; });
  }
  for (size_t c = 1; c < cell_start_.size(); ++c) cell_start_[c] += cell_start_[c - 1];
  cell_items_.resize(static_cast<size_t>(cell_start_.back()));
  std::vector<int32_t> fill(cell_start_.begin(), cell_start_.end() - 1);
  for (int32_t s = 0; s < segment_count_; ++s) {
    cells_of(s, [&](int32_t c) {
      cell_items_[static_cast<size_t>(fill[static_cast<size_t>(c)]++)] = s;
    });
  }
}

SegmentHit SegmentIndex::distance_to_segment(Vec2 p, int32_t segment) const {
  const auto n = points_.size();
  const Vec2 a = points_[static_cast<size_t>(segment)];
  const Vec2 b = points_[(static_cast<size_t>(segment) + 1) % n];
  const Vec2 ab = b - a;
  const double len2 = ab.dot(ab);
  double t = len2 > 0.0 ? (p - a).dot(ab) / len2 : 0.0;
  t = std::clamp(t, 0.0, 1.0);
  SegmentHit hit;
  hit.segment = segment;
  hit.t = t;
  hit.point = a + ab * t;
  hit.distance = distance(p, hit.point);
  return hit;
}

SegmentHit SegmentIndex::nearest(Vec2 p) const {
  SegmentHit best;
  best.distance = std::numeric_limits<double>::infinity();
  if (segment_count_ == 0) {
    if (!points_.empty()) best = {0, 0.0, points_[0], distance(p, points_[0])};
    return best;
  }
  const auto cx = static_cast<int32_t>(std::floor((p.x - origin_.x) / cell_));
  const auto cy = static_cast<int32_t>(std::floor((p.y - origin_.y) / cell_));
  // Distance from p to the outside of the grid bounds how far rings must reach.
  const int32_t max_ring =
      std::max({std::abs(cx), std::abs(cy), std::abs(nx_ - 1 - cx), std::abs(ny_ - 1 - cy)});
  for (int32_t r = 0; r <= max_ring; ++r) {
    for (int32_t y = cy - r; y <= cy + r; ++y) {
      if (y < 0 || y >= ny_) continue;
      const bool edge_row = (y == cy - r || y == cy + r);
      for (int32_t x = cx - r; x <= cx + r; x += (edge_row ? 1 : 2 * r)) {
        if (x >= 0 && x < nx_) {
          const auto c = static_cast<size_t>(y * nx_ + x);
          for (int32_t i = cell_start_[c]; i < cell_start_[c + 1]; ++i) {
            const SegmentHit hit = distance_to_segment(p, cell_items_[static_cast<size_t>(i)]);
            if (hit.distance < best.distance ||
                (hit.distance == best.distance && hit.segment < best.segment)) {
              best = hit;
            }
          }
        }
        if (r == 0) break;
      }
    }
    // Every cell outside ring r is at least r * cell_ away from p's cell boundary.
    const double fx = (p.x - origin_.x) / cell_ - cx, fy = (p.y - origin_.y) / cell_ - cy;
    const double margin = std::min({fx, 1.0 - fx, fy, 1.0 - fy}) * cell_;
    if (best.distance <= r * cell_ + std::max(0.0, margin)) break;
  }
  return best;
}

}  // namespace pitlane::track
