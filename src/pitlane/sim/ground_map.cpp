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
  // Each segment writes only the vertices of its own strip: the rectangle of points whose
  // projection falls on the segment (extended by `overhang` at both ends to cover the wedges on
  // the outside of bends) and whose distance to the line is within `reach`.
  const double overhang = 0.5 + reach * 0.1;  // m, covers bends down to ~1 m radius at 0.1 m spacing
  for (size_t s = 0; s < n; ++s) {
    const Vec2 a = pts[s], b = pts[(s + 1) % n], ab = b - a;
    const double len = ab.norm();
    if (len <= 0) continue;
    const Vec2 dir = ab * (1.0 / len), nrm = dir.perp();
    // Slabs in grid coordinates: along <= dir.(p - a) <= along_hi, |nrm.(p - a)| <= reach.
    const double along_lo = -overhang, along_hi = len + overhang;
    const Vec2 corners[4] = {a + dir * along_lo + nrm * reach, a + dir * along_lo - nrm * reach,
                             a + dir * along_hi + nrm * reach, a + dir * along_hi - nrm * reach};
    double ylo = corners[0].y, yhi = corners[0].y;
    for (const Vec2& c : corners) {
      ylo = std::min(ylo, c.y);
      yhi = std::max(yhi, c.y);
    }
    const auto j0 = static_cast<int32_t>(std::ceil((ylo - origin_y_) * inv_cell_));
    const auto j1 = static_cast<int32_t>(std::floor((yhi - origin_y_) * inv_cell_));
    for (int32_t j = std::max(0, j0); j <= j1; ++j) {
      const double y = origin_y_ + j * cell_m;
      // x interval where both slab conditions hold on this row.
      double xlo = -1e300, xhi = 1e300;
      auto clip = [&](Vec2 axis, double lo, double hi) {
        // lo <= axis.x * (x - a.x) + axis.y * (y - a.y) <= hi
        const double rest = axis.y * (y - a.y);
        if (std::abs(axis.x) < 1e-12) {
          if (rest < lo || rest > hi) xlo = 1, xhi = 0;
          return;
        }
        double x0 = a.x + (lo - rest) / axis.x, x1 = a.x + (hi - rest) / axis.x;
        if (x0 > x1) std::swap(x0, x1);
        xlo = std::max(xlo, x0);
        xhi = std::min(xhi, x1);
      };
      clip(dir, along_lo, along_hi);
      clip(nrm, -reach, reach);
      if (xlo > xhi) continue;
      const auto i0 = static_cast<int32_t>(std::ceil((xlo - origin_x_) * inv_cell_));
      const auto i1 = static_cast<int32_t>(std::floor((xhi - origin_x_) * inv_cell_));
      for (int32_t i = std::max(0, i0); i <= i1; ++i) {
        const Vec2 p{origin_x_ + i * cell_m, y};
        const double t = std::clamp((p - a).dot(dir), 0.0, len);
        const Vec2 pq = p - (a + dir * t);
        const double dist2 = pq.dot(pq);
        if (dist2 > reach * reach) continue;
        const double dist = std::sqrt(dist2);
        const float signed_d = static_cast<float>(ab.cross(pq) >= 0 ? dist : -dist);
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
