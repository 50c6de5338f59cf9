// GroundMap: the circuit's signed lateral offset field, rasterized for the renderer.
//
// The renderer asks "how far from the centre line is this ground point?" for every pixel, so the
// answer must cost a few loads, not a nearest-segment search. The field is sampled on a 0.1 m
// grid within a band around the centre line, stored in 32x32-cell tiles (only where the road
// is), and interpolated bilinearly: the offset is nearly linear across the road, so edges stay
// sharp to a fraction of a millimetre even at the bottom image row, 0.13 m ahead of the camera.
//
//   GroundMap map(circuit, /*band_m=*/2.5);
//   float d = map.lateral(x, y);   // signed offset, m; GroundMap::kFar beyond the band
#pragma once

#include <cmath>
#include <cstdint>
#include <span>
#include <vector>

#include "pitlane/track/circuit.h"

namespace pitlane::sim {

class GroundMap {
 public:
  static constexpr float kFar = 1.0e6f;  // returned beyond the band (behind the walls)
  // The raster's layout: tiles of 32 x 32 cells, each holding 33 x 33 vertex values.
  static constexpr int32_t kTileShift = 5;  // 32 cells per tile side
  static constexpr int32_t kTileCells = 1 << kTileShift;
  static constexpr int32_t kTileMask = kTileCells - 1;
  static constexpr int32_t kTileStride = kTileCells + 1;  // one shared edge for interpolation
  static constexpr size_t kValuesPerTile = static_cast<size_t>(kTileStride) * kTileStride;

  GroundMap(const track::Circuit& circuit, double band_m, double cell_m = 0.1);

  float lateral(float x, float y) const {
    const float gx = (x - origin_x_) * inv_cell_;
    const float gy = (y - origin_y_) * inv_cell_;
    if (!(gx >= 0.0f && gy >= 0.0f && gx < max_gx_ && gy < max_gy_)) return kFar;
    const auto ix = static_cast<int32_t>(gx), iy = static_cast<int32_t>(gy);
    const int32_t tile =
        tile_of_[static_cast<size_t>((iy >> kTileShift) * tiles_x_ + (ix >> kTileShift))];
    if (tile < 0) return kFar;
    const float* t =
        &values_[static_cast<size_t>(tile) * kTileStride * kTileStride +
                 static_cast<size_t>((iy & kTileMask) * kTileStride + (ix & kTileMask))];
    const float a = t[0], b = t[1], c = t[kTileStride], d = t[kTileStride + 1];
    if (std::abs(a) + std::abs(b) + std::abs(c) + std::abs(d) >= kFar) return kFar;
    const float fx = gx - static_cast<float>(ix), fy = gy - static_cast<float>(iy);
    const float top = a + (b - a) * fx, bottom = c + (d - c) * fx;
    return top + (bottom - top) * fy;
  }

  // lateral() at n points (x[i], y[i]), into out[i]. With `avx2` (only where
  // avx2_available()) eight points at a time: the same values, several times faster.
  void lateral_points(const float* x, const float* y, size_t n, float* out, bool avx2) const;
  // Whether this build and this CPU can run the AVX2 loops (of this class and the renderer).
  static bool avx2_available();

  double band() const { return band_; }
  size_t tile_count() const { return values_.size() / kValuesPerTile; }

 private:
  // Construction: the grid's extent, then each centre-line segment's strip of vertices, row by
  // row. tile_values is inline (defined in ground_map.cpp, its only user) to stay in the loop.
  struct Segment;  // defined in ground_map.cpp
  void lay_out_grid(std::span<const Vec2> pts, double margin, double cell_m);
  void rasterize_segment(Vec2 a, Vec2 b, double reach, double cell_m);
  void rasterize_row(const Segment& s, int32_t j, double y, int32_t i0, int32_t i1, double cell_m);
  inline size_t tile_values(int32_t tx, int32_t ty);

  double band_ = 0.0;
  float origin_x_ = 0, origin_y_ = 0, inv_cell_ = 10.0f;
  float max_gx_ = 0, max_gy_ = 0;  // grid extent in cells
  int32_t tiles_x_ = 0, tiles_y_ = 0;
  std::vector<int32_t> tile_of_;  // tiles_x_ * tiles_y_: index into values_ or -1
  std::vector<float> values_;     // tile-major, kTileStride^2 signed offsets (m) per tile
};

}  // namespace pitlane::sim
