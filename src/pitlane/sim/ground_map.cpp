#include "pitlane/sim/ground_map.h"

#include <algorithm>
#include <cmath>

namespace pitlane::sim {

GroundMap::GroundMap(const track::Circuit& circuit, double band_m, double cell_m)
    : band_(band_m), inv_cell_(static_cast<float>(1.0 / cell_m)) {
  const auto pts = circuit.points();
  Vec2 lo = pts[0], hi = pts[0];
  for (Vec2 p : pts) {
    lo = {std::min(lo.x, p.x), std::min(lo.y, p.y)};
    hi = {std::max(hi.x, p.x), std::max(hi.y, p.y)};
  }
  const double margin = band_m + 2.0 * cell_m;
  origin_x_ = static_cast<float>(lo.x - margin);
  origin_y_ = static_cast<float>(lo.y - margin);
  const auto cells_x = static_cast<int32_t>(std::ceil((hi.x - lo.x + 2 * margin) / cell_m));
  const auto cells_y = static_cast<int32_t>(std::ceil((hi.y - lo.y + 2 * margin) / cell_m));
  tiles_x_ = (cells_x >> kTileShift) + 1;
  tiles_y_ = (cells_y >> kTileShift) + 1;
  max_gx_ = static_cast<float>(tiles_x_ * kTileCells);
  max_gy_ = static_cast<float>(tiles_y_ * kTileCells);
  tile_of_.assign(static_cast<size_t>(tiles_x_) * static_cast<size_t>(tiles_y_), -1);

  // Grid vertex (i, j) sits at origin + (i, j) * cell. Each centre-line segment writes the
  // signed distance into the vertices of its band box, keeping the smallest magnitude.
  const size_t per_tile = static_cast<size_t>(kTileStride) * kTileStride;
  auto ensure_tile = [&](int32_t tx, int32_t ty) {
    if (tx < 0 || ty < 0 || tx >= tiles_x_ || ty >= tiles_y_) return;
    int32_t& slot = tile_of_[static_cast<size_t>(ty * tiles_x_ + tx)];
    if (slot >= 0) return;
    slot = static_cast<int32_t>(values_.size() / per_tile);
    values_.resize(values_.size() + per_tile, kFar);
  };
  const size_t n = pts.size();
  const double reach = band_m + cell_m;
  for (size_t s = 0; s < n; ++s) {
    const Vec2 a = pts[s], b = pts[(s + 1) % n], ab = b - a;
    const double len2 = ab.dot(ab);
    const auto i0 = static_cast<int32_t>(std::floor((std::min(a.x, b.x) - reach - origin_x_) * inv_cell_));
    const auto i1 = static_cast<int32_t>(std::ceil((std::max(a.x, b.x) + reach - origin_x_) * inv_cell_));
    const auto j0 = static_cast<int32_t>(std::floor((std::min(a.y, b.y) - reach - origin_y_) * inv_cell_));
    const auto j1 = static_cast<int32_t>(std::ceil((std::max(a.y, b.y) + reach - origin_y_) * inv_cell_));
    for (int32_t j = std::max(0, j0); j <= j1; ++j) {
      for (int32_t i = std::max(0, i0); i <= i1; ++i) {
        const Vec2 p{origin_x_ + i * cell_m, origin_y_ + j * cell_m};
        const double t = len2 > 0 ? std::clamp((p - a).dot(ab) / len2, 0.0, 1.0) : 0.0;
        const Vec2 q = a + ab * t;
        const double dist = distance(p, q);
        if (dist > reach) continue;
        const float signed_d = static_cast<float>(ab.cross(p - q) >= 0 ? dist : -dist);
        // The vertex belongs to tile (i>>5, j>>5) and, on a shared edge, to its left/lower
        // neighbours as their last column/row.
        const int32_t tx = i >> kTileShift, ty = j >> kTileShift;
        const bool edge_x = (i & kTileMask) == 0 && tx > 0, edge_y = (j & kTileMask) == 0 && ty > 0;
        for (int k = 0; k < 4; ++k) {
          const bool left = (k & 1) != 0, down = (k & 2) != 0;
          if ((left && !edge_x) || (down && !edge_y)) continue;
          const int32_t ttx = tx - (left ? 1 : 0), tty = ty - (down ? 1 : 0);
          if (ttx >= tiles_x_ || tty >= tiles_y_) continue;
          ensure_tile(ttx, tty);
          const size_t tile = static_cast<size_t>(tile_of_[static_cast<size_t>(tty * tiles_x_ + ttx)]);
          const int32_t li = left ? kTileCells : (i & kTileMask);
          const int32_t lj = down ? kTileCells : (j & kTileMask);
          float& v = values_[tile * per_tile + static_cast<size_t>(lj * kTileStride + li)];
          if (std::abs(signed_d) < std::abs(v)) v = signed_d;
        }
      }
    }
  }
}

}  // namespace pitlane::sim
