// Exact nearest-point queries on a polyline, made fast by a uniform grid of its segments.
//
// Used for the circuit's centre line (closed) and for driven paths (open). A query searches grid
// rings outwards from the query's cell and stops once no unsearched cell can hold a closer
// segment, so the answer is the exact nearest point, usually after one or two rings.
//
//   SegmentIndex index(points, /*closed=*/true, /*cell_m=*/2.0);
//   SegmentHit hit = index.nearest({3.0, 4.0});   // hit.segment, hit.t, hit.distance
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "pitlane/core/geometry.h"

namespace pitlane::track {

struct SegmentHit {
  int32_t segment = -1;   // index i of the segment points[i] -> points[i + 1] (wrapping if closed)
  double t = 0.0;         // position along the segment, 0..1
  Vec2 point;             // the nearest point, world m
  double distance = 0.0;  // m
};

class SegmentIndex {
 public:
  // Grid cells at most; `cell_m` grows when the points' bounding box would need more.
  static constexpr double kMaxCells = 1 << 22;

  SegmentIndex() = default;
  SegmentIndex(std::span<const Vec2> points, bool closed, double cell_m);

  SegmentHit nearest(Vec2 p) const;
  // The exact distance from p to segment i, with its parameter.
  SegmentHit distance_to_segment(Vec2 p, int32_t segment) const;
  int32_t segment_count() const { return segment_count_; }
  bool empty() const { return segment_count_ == 0; }

 private:
  std::vector<Vec2> points_;
  int32_t segment_count_ = 0;
  double cell_ = 1.0;
  Vec2 origin_;  // lower-left corner of the grid, m
  int32_t nx_ = 0, ny_ = 0;
  std::vector<int32_t> cell_start_;  // CSR layout: segments of cell c are
  std::vector<int32_t> cell_items_;  //   cell_items_[cell_start_[c] .. cell_start_[c + 1])
};

}  // namespace pitlane::track
