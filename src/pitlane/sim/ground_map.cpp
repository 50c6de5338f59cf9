#include "pitlane/sim/ground_map.h"

#include <algorithm>
#include <cmath>
#include <span>
#include <utility>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define PITLANE_GROUND_MAP_AVX2 1
#include <immintrin.h>
#else
#define PITLANE_GROUND_MAP_AVX2 0
#endif

namespace pitlane::sim {

namespace {

#if PITLANE_GROUND_MAP_AVX2
// GroundMap::lateral() on eight points at once: the same float operations lane by lane (no FMA),
// with gathers for the tile table and the four corner values. Returns how many leading points
// it did (a multiple of 8).
struct RasterView {
  float origin_x, origin_y, inv_cell, max_gx, max_gy;
  int32_t tiles_x;
  const int32_t* tile_of;
  const float* values;
};

__attribute__((target("avx2"))) size_t lateral_points_avx2(const RasterView& r, const float* x,
                                                           const float* y, size_t n, float* out) {
  constexpr int kShift = GroundMap::kTileShift, kStride = GroundMap::kTileStride;
  const __m256 origin_x = _mm256_set1_ps(r.origin_x), origin_y = _mm256_set1_ps(r.origin_y),
               inv_cell = _mm256_set1_ps(r.inv_cell), max_gx = _mm256_set1_ps(r.max_gx),
               max_gy = _mm256_set1_ps(r.max_gy), zero = _mm256_setzero_ps(),
               far = _mm256_set1_ps(GroundMap::kFar);
  const __m256 abs_mask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7FFFFFFF));
  const __m256i tiles_x = _mm256_set1_epi32(r.tiles_x),
                cell_mask = _mm256_set1_epi32(GroundMap::kTileMask);
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 gx = _mm256_mul_ps(_mm256_sub_ps(_mm256_loadu_ps(x + i), origin_x), inv_cell);
    const __m256 gy = _mm256_mul_ps(_mm256_sub_ps(_mm256_loadu_ps(y + i), origin_y), inv_cell);
    const __m256 inside_f = _mm256_and_ps(
        _mm256_and_ps(_mm256_cmp_ps(gx, zero, _CMP_GE_OQ), _mm256_cmp_ps(gy, zero, _CMP_GE_OQ)),
        _mm256_and_ps(_mm256_cmp_ps(gx, max_gx, _CMP_LT_OQ),
                      _mm256_cmp_ps(gy, max_gy, _CMP_LT_OQ)));
    const __m256i inside = _mm256_castps_si256(inside_f);
    // Lanes outside the grid look up cell (0, 0); their result is kFar.
    const __m256i ix = _mm256_and_si256(_mm256_cvttps_epi32(gx), inside);
    const __m256i iy = _mm256_and_si256(_mm256_cvttps_epi32(gy), inside);
    const __m256i tile_index = _mm256_add_epi32(
        _mm256_mullo_epi32(_mm256_srai_epi32(iy, kShift), tiles_x), _mm256_srai_epi32(ix, kShift));
    const __m256i tile = _mm256_i32gather_epi32(r.tile_of, tile_index, 4);
    const __m256i valid = _mm256_andnot_si256(_mm256_cmpgt_epi32(_mm256_setzero_si256(), tile),
                                              inside);  // inside, and the tile exists
    // index = tile * kStride^2 + (iy & mask) * kStride + (ix & mask); kStride = 2^kShift + 1.
    const __m256i t = _mm256_and_si256(tile, valid);
    const __m256i cy = _mm256_and_si256(iy, cell_mask);
    const __m256i index = _mm256_add_epi32(
        _mm256_add_epi32(_mm256_mullo_epi32(t, _mm256_set1_epi32(kStride * kStride)),
                         _mm256_add_epi32(_mm256_slli_epi32(cy, kShift), cy)),
        _mm256_and_si256(ix, cell_mask));
    const __m256 a = _mm256_i32gather_ps(r.values, index, 4);
    const __m256 b = _mm256_i32gather_ps(r.values + 1, index, 4);
    const __m256 c = _mm256_i32gather_ps(r.values + kStride, index, 4);
    const __m256 d = _mm256_i32gather_ps(r.values + kStride + 1, index, 4);
    const __m256 sum = _mm256_add_ps(
        _mm256_add_ps(_mm256_add_ps(_mm256_and_ps(abs_mask, a), _mm256_and_ps(abs_mask, b)),
                      _mm256_and_ps(abs_mask, c)),
        _mm256_and_ps(abs_mask, d));
    const __m256 near =
        _mm256_andnot_ps(_mm256_cmp_ps(sum, far, _CMP_GE_OQ), _mm256_castsi256_ps(valid));
    const __m256 fx = _mm256_sub_ps(gx, _mm256_cvtepi32_ps(ix));
    const __m256 fy = _mm256_sub_ps(gy, _mm256_cvtepi32_ps(iy));
    const __m256 top = _mm256_add_ps(a, _mm256_mul_ps(_mm256_sub_ps(b, a), fx));
    const __m256 bottom = _mm256_add_ps(c, _mm256_mul_ps(_mm256_sub_ps(d, c), fx));
    const __m256 value = _mm256_add_ps(top, _mm256_mul_ps(_mm256_sub_ps(bottom, top), fy));
    _mm256_storeu_ps(out + i, _mm256_blendv_ps(far, value, near));
  }
  return i;
}
#endif

// An interval of x on one grid row; empty when lo > hi.
struct XInterval {
  double lo = -1e300, hi = 1e300;
};

// Narrows `x` to the points (x, y) of one row with lo <= axis . ((x, y) - a) <= hi.
void clip_to_slab(XInterval& x, Vec2 a, double y, Vec2 axis, double lo, double hi) {
  const double rest = axis.y * (y - a.y);
  if (std::abs(axis.x) < 1e-12) {
    if (rest < lo || rest > hi) x.lo = 1, x.hi = 0;
    return;
  }
  double x0 = a.x + (lo - rest) / axis.x, x1 = a.x + (hi - rest) / axis.x;
  if (x0 > x1) std::swap(x0, x1);
  x.lo = std::max(x.lo, x0);
  x.hi = std::min(x.hi, x1);
}

}  // namespace

GroundMap::GroundMap(const track::Circuit& circuit, double band_m, double cell_m)
    : band_(band_m), inv_cell_(static_cast<float>(1.0 / cell_m)) {
  const std::span<const Vec2> pts = circuit.points();
  lay_out_grid(pts, band_m + 2.0 * cell_m, cell_m);
  // Grid vertex (i, j) sits at origin + (i, j) * cell. Each centre-line segment writes the
  // signed distance into the vertices of its band box, keeping the smallest magnitude.
  const size_t n = pts.size();
  const double reach = band_m + cell_m;
  for (size_t s = 0; s < n; ++s) rasterize_segment(pts[s], pts[(s + 1) % n], reach, cell_m);
}

bool GroundMap::avx2_available() {
#if PITLANE_GROUND_MAP_AVX2
  return __builtin_cpu_supports("avx2");
#else
  return false;
#endif
}

void GroundMap::lateral_points(const float* x, const float* y, size_t n, float* out,
                               bool avx2) const {
  size_t done = 0;
#if PITLANE_GROUND_MAP_AVX2
  if (avx2 && !values_.empty()) {
    const RasterView view{origin_x_, origin_y_, inv_cell_,       max_gx_,
                          max_gy_,   tiles_x_,  tile_of_.data(), values_.data()};
    done = lateral_points_avx2(view, x, y, n, out);
  }
#else
  (void)avx2;
#endif
  for (size_t i = done; i < n; ++i) out[i] = lateral(x[i], y[i]);
}

// The grid covers the centre line's bounding box plus `margin`, in whole tiles; no tile is
// allocated yet.
void GroundMap::lay_out_grid(std::span<const Vec2> pts, double margin, double cell_m) {
  Vec2 lo = pts[0], hi = pts[0];
  for (Vec2 p : pts) {
    lo = {std::min(lo.x, p.x), std::min(lo.y, p.y)};
    hi = {std::max(hi.x, p.x), std::max(hi.y, p.y)};
  }
  origin_x_ = static_cast<float>(lo.x - margin);
  origin_y_ = static_cast<float>(lo.y - margin);
  const auto cells_x = static_cast<int32_t>(std::ceil((hi.x - lo.x + 2 * margin) / cell_m));
  const auto cells_y = static_cast<int32_t>(std::ceil((hi.y - lo.y + 2 * margin) / cell_m));
  tiles_x_ = (cells_x >> kTileShift) + 1;
  tiles_y_ = (cells_y >> kTileShift) + 1;
  max_gx_ = static_cast<float>(tiles_x_ * kTileCells);
  max_gy_ = static_cast<float>(tiles_y_ * kTileCells);
  tile_of_.assign(static_cast<size_t>(tiles_x_) * static_cast<size_t>(tiles_y_), -1);
}

// A centre-line segment, as its strip of vertices needs it.
struct GroundMap::Segment {
  Vec2 a, ab;          // start, and start -> end
  Vec2 dir;            // unit direction of ab
  double len = 0.0;    // |ab|, m
  double reach = 0.0;  // the strip's half width, m
};

// Segment a -> b writes only the vertices of its own strip: the rectangle of points whose
// projection falls on the segment (extended by `overhang` at both ends to cover the wedges on
// the outside of bends) and whose distance to the line is within `reach`.
void GroundMap::rasterize_segment(Vec2 a, Vec2 b, double reach, double cell_m) {
  const double overhang =
      0.5 + reach * 0.1;  // m, covers bends down to ~1 m radius at 0.1 m spacing
  const Vec2 ab = b - a;
  const double len = ab.norm();
  if (len <= 0) return;
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
  const Segment segment{a, ab, dir, len, reach};
  const auto j0 = static_cast<int32_t>(std::ceil((ylo - origin_y_) * inv_cell_));
  const auto j1 = static_cast<int32_t>(std::floor((yhi - origin_y_) * inv_cell_));
  for (int32_t j = std::max(0, j0); j <= j1; ++j) {
    const double y = origin_y_ + j * cell_m;
    // x interval where both slab conditions hold on this row.
    XInterval x;
    clip_to_slab(x, a, y, dir, along_lo, along_hi);
    clip_to_slab(x, a, y, nrm, -reach, reach);
    if (x.lo > x.hi) continue;
    const auto i0 = static_cast<int32_t>(std::ceil((x.lo - origin_x_) * inv_cell_));
    const auto i1 = static_cast<int32_t>(std::floor((x.hi - origin_x_) * inv_cell_));
    rasterize_row(segment, j, y, std::max(0, i0), i1, cell_m);
  }
}

// Vertices i0..i1 of grid row j (at y) within the segment's reach take its signed distance,
// left of the segment positive, where it is the smallest magnitude so far.
void GroundMap::rasterize_row(const Segment& s, int32_t j, double y, int32_t i0, int32_t i1,
                              double cell_m) {
  for (int32_t i = i0; i <= i1; ++i) {
    const Vec2 p{origin_x_ + i * cell_m, y};
    const double t = std::clamp((p - s.a).dot(s.dir), 0.0, s.len);
    const Vec2 pq = p - (s.a + s.dir * t);
    const double dist2 = pq.dot(pq);
    if (dist2 > s.reach * s.reach) continue;
    const double dist = std::sqrt(dist2);
    const float signed_d = static_cast<float>(s.ab.cross(pq) >= 0 ? dist : -dist);
    // The vertex belongs to tile (i>>5, j>>5) and, on a shared edge, to its left/lower
    // neighbours as their last column/row.
    const int32_t tx = i >> kTileShift, ty = j >> kTileShift;
    const bool edge_x = (i & kTileMask) == 0 && tx > 0, edge_y = (j & kTileMask) == 0 && ty > 0;
    for (int k = 0; k < 4; ++k) {
      const bool left = (k & 1) != 0, down = (k & 2) != 0;
      if ((left && !edge_x) || (down && !edge_y)) continue;
      const int32_t ttx = tx - (left ? 1 : 0), tty = ty - (down ? 1 : 0);
      if (ttx >= tiles_x_ || tty >= tiles_y_) continue;
      const int32_t li = left ? kTileCells : (i & kTileMask);
      const int32_t lj = down ? kTileCells : (j & kTileMask);
      float& v = values_[tile_values(ttx, tty) + static_cast<size_t>(lj * kTileStride + li)];
      if (std::abs(signed_d) < std::abs(v)) v = signed_d;
    }
  }
}

// Where tile (tx, ty)'s values start in values_ (the tile must lie in the grid); the tile is
// allocated, all kFar, on first use.
size_t GroundMap::tile_values(int32_t tx, int32_t ty) {
  int32_t& slot = tile_of_[static_cast<size_t>(ty * tiles_x_ + tx)];
  if (slot < 0) {
    slot = static_cast<int32_t>(values_.size() / kValuesPerTile);
    values_.resize(values_.size() + kValuesPerTile, kFar);
  }
  return static_cast<size_t>(slot) * kValuesPerTile;
}

}  // namespace pitlane::sim
