#include "pitlane/sim/renderer.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "pitlane/core/error.h"

// The AVX2 pixel loops are compiled for x86-64 only, with target attributes, and chosen at
// construction where the CPU has AVX2; the portable loops run everywhere else.
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define PITLANE_RENDER_AVX2 1
#include <immintrin.h>
#else
#define PITLANE_RENDER_AVX2 0
#endif

namespace pitlane::sim {
namespace {

struct Rgb {
  float b, g, r;  // OpenCV order
};

Rgb mix(Rgb x, Rgb y, float t) {
  return {x.b + (y.b - x.b) * t, x.g + (y.g - x.g) * t, x.r + (y.r - x.r) * t};
}
Rgb scale(Rgb x, float k) {
  return {x.b * k, x.g * k, x.r * k};
}

// Rounds to nearest: the value is non-negative after the clamp, so +0.5 and truncation suffice
// (and stay in the hot loop, unlike a call to lround).
uint8_t to_u8(float v) {
  // NOLINTNEXTLINE(bugprone-incorrect-roundings): non-negative, so +0.5 rounds to nearest
  return static_cast<uint8_t>(std::clamp(v, 0.0f, 255.0f) + 0.5f);
}

void store(uint8_t* px, Rgb c) {
  px[0] = to_u8(c.b);
  px[1] = to_u8(c.g);
  px[2] = to_u8(c.r);
}

float coverage(float edge_distance, float footprint) {
  return std::clamp(edge_distance / footprint + 0.5f, 0.0f, 1.0f);
}

// What a ground pixel off the plain asphalt needs, fixed along one image row.
struct GroundShading {
  Rgb asphalt, grass, border, line, fog;  // the frame's palette
  bool has_line;                          // false: no centre line is drawn
  float road, line_half, border_in;       // offsets of the road's edge, the line's edge and the
                                          //   border's inner side, m
  float footprint;                        // metres per pixel across the road
  float fog_k;                            // the row's fog factor, 0..1
};

// A ground pixel at |offset| `a` with grain `grain_q` (x128) that is not plain asphalt: the
// border and grass at the road's edge, or the centre line, anti-aliased over the pixel's
// footprint; then fog.
Rgb shade_ground(const GroundShading& s, float a, int grain_q) {
  const float grain_k = static_cast<float>(grain_q) * (1.0f / 128.0f);
  Rgb c = scale(s.asphalt, grain_k);
  if (a > s.border_in - s.footprint) {
    const Rgb grass = scale(s.grass, 0.6f + 0.4f * grain_k);
    c = mix(c, s.border, coverage(a - s.border_in, s.footprint));
    c = mix(grass, c, coverage(s.road - a, s.footprint));
  } else if (s.has_line && a < s.line_half + s.footprint) {
    c = mix(c, s.line, coverage(s.line_half - a, s.footprint));
  }
  if (s.fog_k > 0) c = mix(c, s.fog, s.fog_k);
  return c;
}

uint64_t mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// The original world's colours (RGB as seen on its camera frames), given here as BGR.
constexpr Rgb kSkyTop{176, 122, 104};
constexpr Rgb kSkyHorizon{238, 212, 204};
constexpr Rgb kAsphalt{62, 58, 58};
constexpr Rgb kRedLine{28, 28, 214};
constexpr Rgb kWhiteLine{235, 235, 235};
constexpr Rgb kBorder{228, 228, 228};
constexpr Rgb kGrass{50, 118, 68};
constexpr Rgb kWall{205, 205, 205};
constexpr Rgb kFog{205, 200, 200};

constexpr float kLightX = 0.6f, kLightY = 0.8f;  // fixed sun direction over the ground plane

constexpr int kGrainSize = 512;    // texels per side of the finest grain level
constexpr float kTexelM = 0.006f;  // metres per texel of the finest level

// Value noise with two octaves, tileable over `size` texels, as luminance factors x128.
std::vector<uint8_t> make_grain(int size, uint64_t seed) {
  std::vector<float> coarse(static_cast<size_t>(size * size)), fine(coarse.size());
  Rng rng(seed);
  for (auto& v : fine) v = static_cast<float>(rng.uniform());
  // Coarse octave: fine noise blurred over 4 texels.
  for (int y = 0; y < size; ++y) {
    for (int x = 0; x < size; ++x) {
      float acc = 0;
      for (int dy = -2; dy <= 2; ++dy) {
        for (int dx = -2; dx <= 2; ++dx) {
          acc +=
              fine[static_cast<size_t>(((y + dy + size) % size) * size + (x + dx + size) % size)];
        }
      }
      coarse[static_cast<size_t>(y * size + x)] = acc / 25.0f;
    }
  }
  std::vector<uint8_t> out(coarse.size());
  for (size_t i = 0; i < out.size(); ++i) {
    const float lum = 1.0f + 0.5f * (fine[i] - 0.5f) + 0.9f * (coarse[i] - 0.5f);
    out[i] = static_cast<uint8_t>(std::clamp(lum * 128.0f, 0.0f, 255.0f));
  }
  return out;
}

// Box-filters a square texture to half size.
std::vector<uint8_t> halve(const std::vector<uint8_t>& tex, int size) {
  const int h = size / 2;
  std::vector<uint8_t> out(static_cast<size_t>(h * h));
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < h; ++x) {
      const int sum = tex[static_cast<size_t>(2 * y * size + 2 * x)] +
                      tex[static_cast<size_t>(2 * y * size + 2 * x + 1)] +
                      tex[static_cast<size_t>((2 * y + 1) * size + 2 * x)] +
                      tex[static_cast<size_t>((2 * y + 1) * size + 2 * x + 1)];
      out[static_cast<size_t>(y * h + x)] = static_cast<uint8_t>((sum + 2) / 4);
    }
  }
  return out;
}

// Fills a row of `width` pixels with one colour: one pixel, then doubling copies.
void fill_row(uint8_t* row, std::array<uint8_t, 3> colour, int width) {
  const auto n = static_cast<size_t>(3 * width);
  std::memcpy(row, colour.data(), 3);
  for (size_t filled = 3; filled < n;) {
    const size_t k = std::min(filled, n - filled);
    std::memcpy(row + filled, row, k);
    filled += k;
  }
}

// What the pixel loop of one image row reads: plain values, and pass 1's per-column arrays.
struct RowInputs {
  int v = 0;                     // image row
  float dv = 0;                  // rows below the horizon, at the pixel centre
  std::array<uint8_t, 3> sky{};  // the row's sky colour
  // Per column (Renderer::Columns): ground from ground_from, wall from wall_from, sky above.
  const int32_t* ground_from = nullptr;
  const int32_t* wall_from = nullptr;
  const float* wall_b = nullptr;
  const float* wall_g = nullptr;
  const float* wall_r = nullptr;
  const float* shade_per_row = nullptr;
  float wall_shade = 0;  // the walls' brightness factor at the horizon
  // The ground, read only where a column shows it.
  GroundShading ground{};
  const float* lateral = nullptr;   // offset at each column, m
  const uint32_t* grain = nullptr;  // the grain level's texels, each packed with its 2x2 quad
  int tex_shift = 0;                // log2 of the level's size
  uint32_t tex_mask = 0;            // the level's size - 1
  int32_t tu = 0, tv = 0;           // grain coordinates at column 0, 16.16 fixed point
  int32_t dtu = 0, dtv = 0;         // their step per column
  int asphalt_b = 0, asphalt_g = 0, asphalt_r = 0;  // the asphalt's colour, 8.8 fixed point
  float plain_lo = 0, plain_hi = 0;                 // |offset| strictly between them: plain asphalt
  bool plain_allowed = false;                       // no fog: plain asphalt takes the integer path
};

// Pixels u0..u1-1 of a row, one at a time: the portable loop, and the oracle of the AVX2 one.
void shade_pixels(const RowInputs& in, int u0, int u1, uint8_t* row) {
  // Locals, not `in`, in the pixel loop: stores through `row` could alias it.
  const int v = in.v;
  const float dv = in.dv, wall_shade = in.wall_shade;
  const std::array<uint8_t, 3> sky = in.sky;
  const int32_t* ground_from = in.ground_from;
  const int32_t* wall_from = in.wall_from;
  const float *wall_b = in.wall_b, *wall_g = in.wall_g, *wall_r = in.wall_r;
  const float* shade_per_row = in.shade_per_row;
  const GroundShading ground = in.ground;
  const float* lateral = in.lateral;
  const uint32_t* grain = in.grain;
  const int tex_shift = in.tex_shift;
  const uint32_t tex_mask = in.tex_mask;
  const int32_t dtu = in.dtu, dtv = in.dtv;
  int32_t tu = in.tu + u0 * dtu, tv = in.tv + u0 * dtv;
  const int asphalt_b = in.asphalt_b, asphalt_g = in.asphalt_g, asphalt_r = in.asphalt_r;
  const float plain_lo = in.plain_lo, plain_hi = in.plain_hi;
  const bool plain_allowed = in.plain_allowed;

  for (int u = u0; u < u1; ++u, tu += dtu, tv += dtv) {
    uint8_t* px = row + 3 * u;
    const auto uu = static_cast<size_t>(u);
    if (v >= ground_from[uu]) {
      const float a = std::abs(lateral[uu]);
      // Bilinear grain in fixed point (luminance x128): one load fetches the texel's 2x2 quad.
      const auto ux = static_cast<uint32_t>(tu), vy = static_cast<uint32_t>(tv);
      const uint32_t quad = grain[(((vy >> 16) & tex_mask) << tex_shift) | ((ux >> 16) & tex_mask)];
      const int wx = static_cast<int>((ux >> 8) & 0xFF), wy = static_cast<int>((vy >> 8) & 0xFF);
      const int t00 = static_cast<int>(quad & 0xFF), t01 = static_cast<int>((quad >> 8) & 0xFF);
      const int t10 = static_cast<int>((quad >> 16) & 0xFF), t11 = static_cast<int>(quad >> 24);
      const int top = t00 * 256 + (t01 - t00) * wx;
      const int bottom = t10 * 256 + (t11 - t10) * wx;
      const int grain_q = (top * 256 + (bottom - top) * wy) >> 16;
      if (plain_allowed && a > plain_lo && a < plain_hi) {
        // Plain asphalt, the common case. Channels are at most 127 x 2: no clamp needed.
        px[0] = static_cast<uint8_t>((asphalt_b * grain_q) >> 15);
        px[1] = static_cast<uint8_t>((asphalt_g * grain_q) >> 15);
        px[2] = static_cast<uint8_t>((asphalt_r * grain_q) >> 15);
        continue;
      }
      store(px, shade_ground(ground, a, grain_q));
    } else if (v >= wall_from[uu]) {
      const float k = wall_shade + shade_per_row[uu] * dv;
      px[0] = static_cast<uint8_t>(std::min(255.0f, wall_b[uu] * k));
      px[1] = static_cast<uint8_t>(std::min(255.0f, wall_g[uu] * k));
      px[2] = static_cast<uint8_t>(std::min(255.0f, wall_r[uu] * k));
    } else {
      px[0] = sky[0];
      px[1] = sky[1];
      px[2] = sky[2];
    }
  }
}

// Adds the noise window to one row of n bytes, one byte at a time.
void add_noise_bytes(uint8_t* row, const int8_t* noise, int i0, int n, int sigma_q) {
  for (int i = i0; i < n; ++i) {
    const int x = row[i] + ((noise[i] * sigma_q) >> 8);
    row[i] = static_cast<uint8_t>(std::clamp(x, 0, 255));
  }
}

#if PITLANE_RENDER_AVX2
// The AVX2 loops do, lane by lane, the integer and float operations of the portable ones in the
// same order (no FMA: -ffp-contract=off; min/max with the operand order of std::min and
// std::clamp), so that they write the same bytes.
#define PITLANE_AVX2 __attribute__((target("avx2")))

// Eight pixels' channels (int32 lanes, 0..255), stored as 24 interleaved bytes at px (writes
// px[0..23] only).
PITLANE_AVX2 inline void store_pixels(uint8_t* px, __m256i b, __m256i g, __m256i r) {
  const __m256i bg = _mm256_packus_epi32(b, g);       // per half: b0..b3 g0..g3, 16 bit
  const __m256i rr = _mm256_packus_epi32(r, r);       // per half: r0..r3 r0..r3
  const __m256i bytes = _mm256_packus_epi16(bg, rr);  // per half: b0..b3 g0..g3 r0..r3 r0..r3
  const __m256i order = _mm256_setr_epi8(0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11, 12, 13, 14, 15,  //
                                         0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11, 12, 13, 14, 15);
  const __m256i bgr = _mm256_shuffle_epi8(bytes, order);  // per half: 4 pixels, 4 spare bytes
  const __m128i hi = _mm256_extracti128_si256(bgr, 1);
  _mm_storeu_si128(reinterpret_cast<__m128i*>(px), _mm256_castsi256_si128(bgr));
  _mm_storel_epi64(reinterpret_cast<__m128i*>(px + 12), hi);
  const int32_t last = _mm_extract_epi32(hi, 2);
  std::memcpy(px + 20, &last, 4);
}

// to_u8 on eight lanes: clamp to 0..255, + 0.5, truncate.
PITLANE_AVX2 inline __m256i to_u8_lanes(__m256 v) {
  const __m256 clamped =
      _mm256_min_ps(_mm256_set1_ps(255.0f), _mm256_max_ps(_mm256_setzero_ps(), v));
  return _mm256_cvttps_epi32(_mm256_add_ps(clamped, _mm256_set1_ps(0.5f)));
}

// coverage() on eight lanes: clamp(edge / footprint + 0.5, 0, 1).
PITLANE_AVX2 inline __m256 coverage_lanes(__m256 edge_distance, __m256 footprint) {
  const __m256 t = _mm256_add_ps(_mm256_div_ps(edge_distance, footprint), _mm256_set1_ps(0.5f));
  return _mm256_min_ps(_mm256_set1_ps(1.0f), _mm256_max_ps(_mm256_setzero_ps(), t));
}

// mix() on eight lanes: x + (y - x) * t.
PITLANE_AVX2 inline __m256 mix_lanes(__m256 x, __m256 y, __m256 t) {
  return _mm256_add_ps(x, _mm256_mul_ps(_mm256_sub_ps(y, x), t));
}

// The row's pixels eight at a time, as shade_pixels does them one at a time. Returns how many
// leading pixels it did (a multiple of 8); the caller does the rest.
PITLANE_AVX2 int shade_pixels_avx2(const RowInputs& in, int width, uint8_t* row) {
  const __m256i v_plus_1 = _mm256_set1_epi32(in.v + 1);  // a column shows X where v + 1 > X_from
  // Sky: its channels, and 8 pixels of it as bytes 0..15 and 8..23.
  const __m256i sky_b = _mm256_set1_epi32(in.sky[0]), sky_g = _mm256_set1_epi32(in.sky[1]),
                sky_r = _mm256_set1_epi32(in.sky[2]);
  uint8_t sky_bytes[24];
  for (int i = 0; i < 8; ++i) std::memcpy(sky_bytes + 3 * i, in.sky.data(), 3);
  const __m128i sky_0 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(sky_bytes));
  const __m128i sky_8 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(sky_bytes + 8));
  // Walls.
  const __m256 dv = _mm256_set1_ps(in.dv), wall_shade = _mm256_set1_ps(in.wall_shade);
  const __m256 c255 = _mm256_set1_ps(255.0f);
  // Ground: grain coordinates of the 8 lanes, and the shading constants.
  const __m256i lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  __m256i tu = _mm256_add_epi32(_mm256_set1_epi32(in.tu),
                                _mm256_mullo_epi32(lanes, _mm256_set1_epi32(in.dtu)));
  __m256i tv = _mm256_add_epi32(_mm256_set1_epi32(in.tv),
                                _mm256_mullo_epi32(lanes, _mm256_set1_epi32(in.dtv)));
  const __m256i tu_step = _mm256_set1_epi32(8 * in.dtu), tv_step = _mm256_set1_epi32(8 * in.dtv);
  const __m256i tex_mask = _mm256_set1_epi32(static_cast<int32_t>(in.tex_mask));
  const __m128i tex_shift = _mm_cvtsi32_si128(in.tex_shift);
  const __m256i low_byte = _mm256_set1_epi32(0xFF), c256 = _mm256_set1_epi32(256);
  // A texel quad's bytes t00 t01 t10 t11 as the 16-bit pairs (t00, t01) and (t10, t11).
  const __m256i top_pairs =
      _mm256_setr_epi8(0, -1, 1, -1, 4, -1, 5, -1, 8, -1, 9, -1, 12, -1, 13, -1, 0, -1, 1, -1, 4,
                       -1, 5, -1, 8, -1, 9, -1, 12, -1, 13, -1);
  const __m256i bottom_pairs =
      _mm256_setr_epi8(2, -1, 3, -1, 6, -1, 7, -1, 10, -1, 11, -1, 14, -1, 15, -1,  //
                       2, -1, 3, -1, 6, -1, 7, -1, 10, -1, 11, -1, 14, -1, 15, -1);
  const int* grain = reinterpret_cast<const int*>(in.grain);
  // Plain asphalt: (c * grain_q) >> 15 == (2c * grain_q) >> 16, the high half of a 16-bit
  // product (2c <= 2 x 127 x 256 fits 16 bits; grain_q <= 255 and the lanes' upper halves are 0).
  const __m256i asphalt2_b = _mm256_set1_epi32(2 * in.asphalt_b),
                asphalt2_g = _mm256_set1_epi32(2 * in.asphalt_g),
                asphalt2_r = _mm256_set1_epi32(2 * in.asphalt_r);
  const __m256 abs_mask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7FFFFFFF));
  const __m256 plain_lo = _mm256_set1_ps(in.plain_lo), plain_hi = _mm256_set1_ps(in.plain_hi);
  const GroundShading& s = in.ground;
  const __m256 footprint = _mm256_set1_ps(s.footprint), road = _mm256_set1_ps(s.road),
               border_in = _mm256_set1_ps(s.border_in), line_half = _mm256_set1_ps(s.line_half),
               fog_k = _mm256_set1_ps(s.fog_k);
  const __m256 asphalt_b = _mm256_set1_ps(s.asphalt.b), asphalt_g = _mm256_set1_ps(s.asphalt.g),
               asphalt_r = _mm256_set1_ps(s.asphalt.r);
  const __m256 grass_b = _mm256_set1_ps(s.grass.b), grass_g = _mm256_set1_ps(s.grass.g),
               grass_r = _mm256_set1_ps(s.grass.r);
  const __m256 border_b = _mm256_set1_ps(s.border.b), border_g = _mm256_set1_ps(s.border.g),
               border_r = _mm256_set1_ps(s.border.r);
  const __m256 line_b = _mm256_set1_ps(s.line.b), line_g = _mm256_set1_ps(s.line.g),
               line_r = _mm256_set1_ps(s.line.r);
  const __m256 fog_b = _mm256_set1_ps(s.fog.b), fog_g = _mm256_set1_ps(s.fog.g),
               fog_r = _mm256_set1_ps(s.fog.r);
  const bool has_fog = s.fog_k > 0, has_line = s.has_line, plain_allowed = in.plain_allowed;

  int u = 0;
  for (; u + 8 <= width;
       u += 8, tu = _mm256_add_epi32(tu, tu_step), tv = _mm256_add_epi32(tv, tv_step)) {
    uint8_t* px = row + 3 * u;
    const __m256i ground = _mm256_cmpgt_epi32(
        v_plus_1, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(in.ground_from + u)));
    const __m256i wall = _mm256_cmpgt_epi32(
        v_plus_1, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(in.wall_from + u)));
    const int ground_bits = _mm256_movemask_ps(_mm256_castsi256_ps(ground));
    const int covered_bits = ground_bits | _mm256_movemask_ps(_mm256_castsi256_ps(wall));
    if (covered_bits == 0) {
      _mm_storeu_si128(reinterpret_cast<__m128i*>(px), sky_0);
      _mm_storeu_si128(reinterpret_cast<__m128i*>(px + 8), sky_8);
      continue;
    }
    __m256i b = sky_b, g = sky_g, r = sky_r;
    if (covered_bits != ground_bits) {
      // Wall: brightness k = wall_shade + shade_per_row * dv, channels min(255, colour * k).
      const __m256 k =
          _mm256_add_ps(wall_shade, _mm256_mul_ps(_mm256_loadu_ps(in.shade_per_row + u), dv));
      const __m256i wb = _mm256_cvttps_epi32(
          _mm256_min_ps(_mm256_mul_ps(_mm256_loadu_ps(in.wall_b + u), k), c255));
      const __m256i wg = _mm256_cvttps_epi32(
          _mm256_min_ps(_mm256_mul_ps(_mm256_loadu_ps(in.wall_g + u), k), c255));
      const __m256i wr = _mm256_cvttps_epi32(
          _mm256_min_ps(_mm256_mul_ps(_mm256_loadu_ps(in.wall_r + u), k), c255));
      b = _mm256_blendv_epi8(b, wb, wall);
      g = _mm256_blendv_epi8(g, wg, wall);
      r = _mm256_blendv_epi8(r, wr, wall);
    }
    if (ground_bits != 0) {
      const __m256 a = _mm256_and_ps(abs_mask, _mm256_loadu_ps(in.lateral + u));
      // Bilinear grain (luminance x128): one gather fetches each lane's 2x2 quad.
      const __m256i ix = _mm256_and_si256(_mm256_srli_epi32(tu, 16), tex_mask);
      const __m256i iy = _mm256_and_si256(_mm256_srli_epi32(tv, 16), tex_mask);
      const __m256i quad =
          _mm256_i32gather_epi32(grain, _mm256_or_si256(_mm256_sll_epi32(iy, tex_shift), ix), 4);
      const __m256i wx = _mm256_and_si256(_mm256_srli_epi32(tu, 8), low_byte);
      const __m256i wy = _mm256_and_si256(_mm256_srli_epi32(tv, 8), low_byte);
      // top = t00 (256 - wx) + t01 wx, the same integer as t00 256 + (t01 - t00) wx, as one
      // multiply-add of 16-bit pairs; bottom likewise from t10 and t11.
      const __m256i weights =
          _mm256_or_si256(_mm256_sub_epi32(c256, wx), _mm256_slli_epi32(wx, 16));
      const __m256i top = _mm256_madd_epi16(_mm256_shuffle_epi8(quad, top_pairs), weights);
      const __m256i bottom = _mm256_madd_epi16(_mm256_shuffle_epi8(quad, bottom_pairs), weights);
      const __m256i grain_q =
          _mm256_srai_epi32(_mm256_add_epi32(_mm256_slli_epi32(top, 8),
                                             _mm256_mullo_epi32(_mm256_sub_epi32(bottom, top), wy)),
                            16);
      // Plain asphalt in fixed point.
      const __m256i pb = _mm256_mulhi_epu16(grain_q, asphalt2_b);
      const __m256i pg = _mm256_mulhi_epu16(grain_q, asphalt2_g);
      const __m256i pr = _mm256_mulhi_epu16(grain_q, asphalt2_r);
      const __m256 plain = plain_allowed ? _mm256_and_ps(_mm256_cmp_ps(a, plain_lo, _CMP_GT_OQ),
                                                         _mm256_cmp_ps(a, plain_hi, _CMP_LT_OQ))
                                         : _mm256_setzero_ps();
      const int plain_bits = _mm256_movemask_ps(plain) & ground_bits;
      __m256i gb = pb, gg = pg, gr = pr;
      if (plain_bits != ground_bits) {
        // shade_ground() on every lane: grained asphalt, then the border and grass at the
        // road's edge or the centre line, anti-aliased; then fog.
        const __m256 grain_k =
            _mm256_mul_ps(_mm256_cvtepi32_ps(grain_q), _mm256_set1_ps(1.0f / 128.0f));
        __m256 cb = _mm256_mul_ps(asphalt_b, grain_k), cg = _mm256_mul_ps(asphalt_g, grain_k),
               cr = _mm256_mul_ps(asphalt_r, grain_k);
        const __m256 edge = _mm256_cmp_ps(a, plain_hi, _CMP_GT_OQ);  // a > border_in - footprint
        const __m256 line = has_line
                                ? _mm256_andnot_ps(edge, _mm256_cmp_ps(a, plain_lo, _CMP_LT_OQ))
                                : _mm256_setzero_ps();
        if ((_mm256_movemask_ps(edge) & ground_bits) != 0) {
          const __m256 grass_k =
              _mm256_add_ps(_mm256_set1_ps(0.6f), _mm256_mul_ps(_mm256_set1_ps(0.4f), grain_k));
          const __m256 to_border = coverage_lanes(_mm256_sub_ps(a, border_in), footprint);
          const __m256 on_road = coverage_lanes(_mm256_sub_ps(road, a), footprint);
          const __m256 eb = mix_lanes(_mm256_mul_ps(grass_b, grass_k),
                                      mix_lanes(cb, border_b, to_border), on_road);
          const __m256 eg = mix_lanes(_mm256_mul_ps(grass_g, grass_k),
                                      mix_lanes(cg, border_g, to_border), on_road);
          const __m256 er = mix_lanes(_mm256_mul_ps(grass_r, grass_k),
                                      mix_lanes(cr, border_r, to_border), on_road);
          cb = _mm256_blendv_ps(cb, eb, edge);
          cg = _mm256_blendv_ps(cg, eg, edge);
          cr = _mm256_blendv_ps(cr, er, edge);
        }
        if ((_mm256_movemask_ps(line) & ground_bits) != 0) {
          const __m256 on_line = coverage_lanes(_mm256_sub_ps(line_half, a), footprint);
          cb = _mm256_blendv_ps(cb, mix_lanes(cb, line_b, on_line), line);
          cg = _mm256_blendv_ps(cg, mix_lanes(cg, line_g, on_line), line);
          cr = _mm256_blendv_ps(cr, mix_lanes(cr, line_r, on_line), line);
        }
        if (has_fog) {
          cb = mix_lanes(cb, fog_b, fog_k);
          cg = mix_lanes(cg, fog_g, fog_k);
          cr = mix_lanes(cr, fog_r, fog_k);
        }
        const __m256i plain_lanes = _mm256_castps_si256(plain);
        gb = _mm256_blendv_epi8(to_u8_lanes(cb), pb, plain_lanes);
        gg = _mm256_blendv_epi8(to_u8_lanes(cg), pg, plain_lanes);
        gr = _mm256_blendv_epi8(to_u8_lanes(cr), pr, plain_lanes);
      }
      if (ground_bits == 0xFF) {
        b = gb, g = gg, r = gr;
      } else {
        b = _mm256_blendv_epi8(b, gb, ground);
        g = _mm256_blendv_epi8(g, gg, ground);
        r = _mm256_blendv_epi8(r, gr, ground);
      }
    }
    store_pixels(px, b, g, r);
  }
  return u;
}

// Renderer::wall_depth for 8 columns side by side, lane by lane the same steps: each lane
// marches until it passes the wall, the far clip or 200 steps, then the lanes that hit the
// wall bisect together. Rays (dx[j], dy[j]) per unit depth; depths into hit (INFINITY: none).
struct WallTrace {
  const GroundMap& map;
  float cx, cy;       // camera position over the ground, m
  float wall_offset;  // m
  float far;          // far clip, m
};

// The wall's offset minus |offset| at depth z on each lane's ray (scratch: 3 x 8 floats).
PITLANE_AVX2 inline __m256 wall_room(const WallTrace& t, __m256 z, __m256 dx, __m256 dy,
                                     float* scratch) {
  _mm256_storeu_ps(scratch, _mm256_add_ps(_mm256_set1_ps(t.cx), _mm256_mul_ps(z, dx)));
  _mm256_storeu_ps(scratch + 8, _mm256_add_ps(_mm256_set1_ps(t.cy), _mm256_mul_ps(z, dy)));
  t.map.lateral_points(scratch, scratch + 8, 8, scratch + 16, true);
  const __m256 abs_mask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7FFFFFFF));
  return _mm256_sub_ps(_mm256_set1_ps(t.wall_offset),
                       _mm256_and_ps(abs_mask, _mm256_loadu_ps(scratch + 16)));
}

PITLANE_AVX2 void wall_depths_avx2(const WallTrace& t, const float* dx, const float* dy,
                                   float* hit) {
  const __m256 dx8 = _mm256_loadu_ps(dx), dy8 = _mm256_loadu_ps(dy);
  const __m256 far = _mm256_set1_ps(t.far), zero = _mm256_setzero_ps(),
               min_step = _mm256_set1_ps(0.01f);
  const __m256 ground_per_z =
      _mm256_sqrt_ps(_mm256_add_ps(_mm256_mul_ps(dx8, dx8), _mm256_mul_ps(dy8, dy8)));
  float scratch[24];
  __m256 z = _mm256_set1_ps(0.05f), prev = z, lo = zero, hi = zero, found = zero;
  __m256 marching = _mm256_cmp_ps(z, far, _CMP_LE_OQ);
  for (int it = 0; it < 200 && _mm256_movemask_ps(marching) != 0; ++it) {
    const __m256 rem = wall_room(t, z, dx8, dy8, scratch);
    const __m256 at_wall = _mm256_and_ps(marching, _mm256_cmp_ps(rem, zero, _CMP_LE_OQ));
    lo = _mm256_blendv_ps(lo, prev, at_wall);  // refine between the last free depth and this one
    hi = _mm256_blendv_ps(hi, z, at_wall);
    found = _mm256_or_ps(found, at_wall);
    marching = _mm256_andnot_ps(at_wall, marching);
    prev = _mm256_blendv_ps(prev, z, marching);
    z = _mm256_blendv_ps(
        z, _mm256_add_ps(z, _mm256_div_ps(_mm256_max_ps(min_step, rem), ground_per_z)), marching);
    marching = _mm256_and_ps(marching, _mm256_cmp_ps(z, far, _CMP_LE_OQ));
  }
  if (_mm256_movemask_ps(found) != 0) {
    for (int b = 0; b < 10; ++b) {
      const __m256 mid = _mm256_mul_ps(_mm256_set1_ps(0.5f), _mm256_add_ps(lo, hi));
      const __m256 wall = _mm256_cmp_ps(wall_room(t, mid, dx8, dy8, scratch), zero, _CMP_LE_OQ);
      hi = _mm256_blendv_ps(hi, mid, wall);
      lo = _mm256_blendv_ps(mid, lo, wall);
    }
  }
  _mm256_storeu_ps(hit, _mm256_blendv_ps(_mm256_set1_ps(INFINITY), hi, found));
}

// The groups of columns k0..k1-1 that hold every group showing ground on row v (from[k] <= v);
// k0 >= k1 when none does.
PITLANE_AVX2 void visible_groups_avx2(const int32_t* from, size_t groups, int v, size_t& k0,
                                      size_t& k1) {
  const __m256i v_plus_1 = _mm256_set1_epi32(v + 1);
  k0 = groups;
  k1 = 0;
  size_t k = 0;
  for (; k + 8 <= groups; k += 8) {
    const auto bits =
        static_cast<unsigned>(_mm256_movemask_ps(_mm256_castsi256_ps(_mm256_cmpgt_epi32(
            v_plus_1, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(from + k))))));
    if (bits == 0) continue;
    k0 = std::min(k0, k + static_cast<size_t>(__builtin_ctz(bits)));
    k1 = k + 8 - static_cast<size_t>(__builtin_clz(bits) - 24);
  }
  for (; k < groups; ++k) {
    if (v >= from[k]) {
      k0 = std::min(k0, k);
      k1 = k + 1;
    }
  }
}

// Points (bx + t[i] * dx, by + t[i] * dy), i < n, into x and y.
PITLANE_AVX2 void line_points_avx2(const float* t, size_t n, float bx, float dx, float by, float dy,
                                   float* x, float* y) {
  const __m256 bx8 = _mm256_set1_ps(bx), dx8 = _mm256_set1_ps(dx), by8 = _mm256_set1_ps(by),
               dy8 = _mm256_set1_ps(dy);
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 t8 = _mm256_loadu_ps(t + i);
    _mm256_storeu_ps(x + i, _mm256_add_ps(bx8, _mm256_mul_ps(t8, dx8)));
    _mm256_storeu_ps(y + i, _mm256_add_ps(by8, _mm256_mul_ps(t8, dy8)));
  }
  for (; i < n; ++i) {
    x[i] = bx + t[i] * dx;
    y[i] = by + t[i] * dy;
  }
}

// The interpolation of Renderer::lateral_offsets for groups k0..k1-1 of 4 columns, 8 groups
// at a time: out[4k + j] = s[k] + (s[k + 1] - s[k]) / 4 * j. Groups with a sample beyond the
// band (kFar) are listed in far_groups for the caller to redo; returns how many.
PITLANE_AVX2 size_t lerp_offsets_avx2(const float* samples, size_t k0, size_t k1, float* out,
                                      uint32_t* far_groups) {
  const __m256 stride = _mm256_set1_ps(4.0f), j = _mm256_setr_ps(0, 1, 2, 3, 0, 1, 2, 3);
  const __m256 abs_mask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7FFFFFFF)),
               far = _mm256_set1_ps(GroundMap::kFar);
  size_t k = k0, n_far = 0;
  for (; k + 8 <= k1; k += 8) {
    const __m256 l0 = _mm256_loadu_ps(samples + k), l1 = _mm256_loadu_ps(samples + k + 1);
    const __m256 step = _mm256_div_ps(_mm256_sub_ps(l1, l0), stride);
    for (int pair = 0; pair < 4; ++pair) {
      // Groups k + 2 pair and k + 2 pair + 1: lanes 0..3 and 4..7.
      const __m256i which = _mm256_setr_epi32(2 * pair, 2 * pair, 2 * pair, 2 * pair, 2 * pair + 1,
                                              2 * pair + 1, 2 * pair + 1, 2 * pair + 1);
      const __m256 base = _mm256_permutevar8x32_ps(l0, which);
      const __m256 slope = _mm256_permutevar8x32_ps(step, which);
      _mm256_storeu_ps(out + 4 * k + 8 * pair, _mm256_add_ps(base, _mm256_mul_ps(slope, j)));
    }
    const __m256 near = _mm256_and_ps(_mm256_cmp_ps(_mm256_and_ps(abs_mask, l0), far, _CMP_LT_OQ),
                                      _mm256_cmp_ps(_mm256_and_ps(abs_mask, l1), far, _CMP_LT_OQ));
    for (auto bits = static_cast<unsigned>(_mm256_movemask_ps(near)) ^ 0xFFu; bits != 0;
         bits &= bits - 1) {
      far_groups[n_far++] = static_cast<uint32_t>(k + static_cast<size_t>(__builtin_ctz(bits)));
    }
  }
  for (; k < k1; ++k) {
    const float l0 = samples[k], l1 = samples[k + 1];
    if (std::abs(l0) < GroundMap::kFar && std::abs(l1) < GroundMap::kFar) {
      const float step = (l1 - l0) / 4.0f;
      for (int i = 0; i < 4; ++i)
        out[4 * k + static_cast<size_t>(i)] = l0 + step * static_cast<float>(i);
    } else {
      far_groups[n_far++] = static_cast<uint32_t>(k);
    }
  }
  return n_far;
}

// add_noise_bytes, 16 bytes at a time in 16-bit lanes; |noise x sigma_q| must fit 16 bits.
// Returns how many leading bytes it did.
PITLANE_AVX2 int add_noise_avx2(uint8_t* row, const int8_t* noise, int n, int sigma_q) {
  const __m256i sigma = _mm256_set1_epi16(static_cast<int16_t>(sigma_q));
  int i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m256i x =
        _mm256_cvtepu8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(row + i)));
    const __m256i z =
        _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(noise + i)));
    const __m256i y = _mm256_add_epi16(x, _mm256_srai_epi16(_mm256_mullo_epi16(z, sigma), 8));
    const __m256i packed = _mm256_permute4x64_epi64(_mm256_packus_epi16(y, y), 0x08);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(row + i), _mm256_castsi256_si128(packed));
  }
  return i;
}
#undef PITLANE_AVX2
#endif

}  // namespace

double CameraModel::focal_px() const {
  return 0.5 * width / std::tan(0.5 * hfov_rad);
}

LineStyle parse_line_style(std::string_view text) {
  if (text == "red") return LineStyle::kRed;
  if (text == "white") return LineStyle::kWhite;
  if (text == "none") return LineStyle::kNone;
  throw InputError("line style '" + std::string(text) + "' is not known; use red, white or none");
}

RenderStyle random_style(Rng& rng) {
  RenderStyle s;
  s.brightness = static_cast<float>(rng.uniform(0.7, 1.3));
  s.hue_shift_deg = static_cast<float>(rng.uniform(-12.0, 12.0));
  s.noise_sigma = static_cast<float>(rng.uniform(0.0, 6.0));
  s.fog_density = rng.uniform() < 0.25 ? static_cast<float>(rng.uniform(0.02, 0.12)) : 0.0f;
  return s;
}

struct Renderer::Palette {
  Rgb sky_top{}, sky_horizon{}, asphalt{}, line{}, border{}, grass{}, wall{}, fog{};
  bool has_line = true;
};

Renderer::Palette Renderer::make_palette(const RenderStyle& style) const {
  // Hue rotation about the grey axis (a rotation matrix in RGB space), then brightness.
  const float a = style.hue_shift_deg * static_cast<float>(std::numbers::pi / 180.0);
  const float c = std::cos(a), s = std::sin(a), k = (1.0f - c) / 3.0f,
              q = std::sqrt(1.0f / 3.0f) * s;
  const float m[3][3] = {{c + k, k - q, k + q}, {k + q, c + k, k - q}, {k - q, k + q, c + k}};
  auto tone = [&](Rgb x) {
    const float r = m[0][0] * x.r + m[0][1] * x.g + m[0][2] * x.b;
    const float g = m[1][0] * x.r + m[1][1] * x.g + m[1][2] * x.b;
    const float b = m[2][0] * x.r + m[2][1] * x.g + m[2][2] * x.b;
    return scale(Rgb{b, g, r}, style.brightness);
  };
  Palette p;
  p.sky_top = tone(kSkyTop);
  p.sky_horizon = tone(kSkyHorizon);
  p.asphalt = tone(kAsphalt);
  p.line = tone(style.line == LineStyle::kWhite ? kWhiteLine : kRedLine);
  p.has_line = style.line != LineStyle::kNone;
  p.border = tone(kBorder);
  p.grass = tone(kGrass);
  p.wall = tone(kWall);
  p.fog = tone(kFog);
  return p;
}

Renderer::Renderer(const track::Circuit& circuit, CameraModel camera, RenderKernels kernels)
    : section_(circuit.cross_section()),
      camera_(camera),
      map_(circuit, circuit.cross_section().wall_offset_m + 0.6),
      focal_(static_cast<float>(camera.focal_px())) {
  avx2_ = PITLANE_RENDER_AVX2 && kernels == RenderKernels::kBest && GroundMap::avx2_available();
  // Columns are looked up in groups of kLateralStride; the arrays cover whole groups.
  const int groups = (camera_.width + kLateralStride - 1) / kLateralStride;
  auto xn = [&](int u) {
    return (static_cast<float>(u) + 0.5f - 0.5f * static_cast<float>(camera_.width)) / focal_;
  };
  column_xn_.resize(static_cast<size_t>(groups * kLateralStride));
  for (size_t u = 0; u < column_xn_.size(); ++u) column_xn_[u] = xn(static_cast<int>(u));
  sample_xn_.resize(static_cast<size_t>(groups + 1));
  for (size_t k = 0; k < sample_xn_.size(); ++k) {
    sample_xn_[k] = xn(static_cast<int>(k) * kLateralStride);
  }
  const auto width = static_cast<size_t>(camera_.width);
  for (auto* ints : {&columns_.ground_from, &columns_.wall_from}) ints->resize(width);
  for (auto* floats : {&columns_.b, &columns_.g, &columns_.r, &columns_.shade_per_row}) {
    floats->resize(width);
  }
  group_ground_from_.resize(static_cast<size_t>(groups));
  // Triangular noise (the sum of two uniforms), unit variance, x32, as int8.
  Rng noise_rng(0x0015E);
  noise_table_.resize(static_cast<size_t>((camera_.height + kNoiseMarginRows) *
                                          (3 * camera_.width + kNoiseMarginCols)));
  for (auto& x : noise_table_) {
    const double tri = (noise_rng.uniform() - noise_rng.uniform()) * std::sqrt(6.0);
    x = static_cast<int8_t>(std::clamp(std::lround(32.0 * tri), -127l, 127l));
  }
  for (auto* samples : {&sample_x_, &sample_y_, &lateral_samples_}) {
    samples->resize(static_cast<size_t>(groups + 1));
  }
  far_groups_.resize(static_cast<size_t>(groups));
  lateral_row_.resize(static_cast<size_t>(groups * kLateralStride));
  // Asphalt and grass grain, luminance x128, one mip level per halving.
  std::array<std::vector<uint8_t>, 4> grain;
  grain[0] = make_grain(kGrainSize, 0x5EED);
  for (size_t level = 1; level < grain.size(); ++level) {
    grain[level] = halve(grain[level - 1], kGrainSize >> (level - 1));
  }
  // Each texel with its right, lower and lower-right neighbours (wrapping), packed in 32 bits.
  for (size_t level = 0; level < grain.size(); ++level) {
    const int size = kGrainSize >> level;
    const std::vector<uint8_t>& g = grain[level];
    std::vector<uint32_t>& q = grain_quads_[level];
    q.resize(g.size());
    for (int y = 0; y < size; ++y) {
      for (int x = 0; x < size; ++x) {
        const int x1 = (x + 1) % size, y1 = (y + 1) % size;
        q[static_cast<size_t>(y * size + x)] =
            static_cast<uint32_t>(g[static_cast<size_t>(y * size + x)]) |
            static_cast<uint32_t>(g[static_cast<size_t>(y * size + x1)]) << 8 |
            static_cast<uint32_t>(g[static_cast<size_t>(y1 * size + x)]) << 16 |
            static_cast<uint32_t>(g[static_cast<size_t>(y1 * size + x1)]) << 24;
      }
    }
  }
}

// One frame's camera and cross-section, in the float units both passes work in.
struct Renderer::Frame {
  int width = 0, height = 0;               // px
  float cx = 0, cy = 0;                    // camera position over the ground, m
  float fwd_x = 0, fwd_y = 0;              // optical axis over the ground, unit
  float right_x = 0, right_y = 0;          // image right over the ground, unit
  float h = 0;                             // camera height above the ground, m
  float far = 0;                           // far clip, m
  float horizon = 0;                       // image row of the horizon, px
  int far_row = 0;                         // ground rows start below this row (the far clip's)
  float wall_offset = 0, wall_height = 0;  // m
  float road = 0;                          // offset of the road's edge, m
  float line_half = 0;                     // half width of the centre line, m
  float border_in = 0;                     // offset of the edge border's inner side, m
  float fog_density = 0;                   // 1/m
  float wall_shade = 0;                    // the walls' brightness factor at the horizon
};

// The rows pass 2 starts shading walls and ground at: above both, rows are all sky.
struct Renderer::RowSpans {
  int first_wall = 0;    // least wall_from of all columns
  int first_ground = 0;  // least ground_from of all columns
};

// Where one image row's rays meet the ground plane.
struct Renderer::GroundRow {
  float dv = 0;                  // rows below the horizon, at the pixel centre (> 0 below it)
  bool visible = false;          // below the far clip's row: the row can show ground
  float z = 0;                   // depth of the row's ground points along the optical axis, m
  float footprint = 0;           // metres per pixel across the road
  float fog = 0;                 // fog factor of the row's ground, 0..1
  float base_x = 0, base_y = 0;  // ground points are linear in u: base + xn(u) * step, m
  float step_x = 0, step_y = 0;
};

// The grain texture along one ground row: one mip level, coordinates linear in u.
struct Renderer::GrainRow {
  const uint32_t* quads = nullptr;  // the level's texels, each packed with its 2x2 quad
  int tex_shift = 0;                // log2 of the level's size
  uint32_t tex_mask = 0;            // the level's size - 1
  int32_t tu = 0, tv = 0;           // texture coordinates at column 0, 16.16 fixed point
  int32_t dtu = 0, dtv = 0;         // their step per column
};

void Renderer::render(const Pose2& car, const RenderStyle& style, uint64_t frame_seed,
                      cv::Mat& out) {
  if (out.rows != camera_.height || out.cols != camera_.width || out.type() != CV_8UC3)
    out.create(camera_.height, camera_.width, CV_8UC3);
  const Palette pal = make_palette(style);
  const Frame f = make_frame(car, style);
  const RowSpans spans = trace_walls(f, pal);
  // Pass 2, row by row.
  for (int v = 0; v < f.height; ++v) {
    uint8_t* row = out.ptr<uint8_t>(v);
    if (v < spans.first_wall && v < spans.first_ground) {
      fill_row(row, sky_colour(f, pal, v), f.width);
    } else {
      shade_row(f, pal, spans, v, row);
    }
  }
  if (style.noise_sigma > 0) add_noise(out, style.noise_sigma, frame_seed);
}

Renderer::Frame Renderer::make_frame(const Pose2& car, const RenderStyle& style) const {
  Frame f;
  f.width = camera_.width;
  f.height = camera_.height;
  const Pose2 cam = camera_.camera_pose(car);
  f.cx = static_cast<float>(cam.position.x);
  f.cy = static_cast<float>(cam.position.y);
  f.fwd_x = static_cast<float>(std::cos(cam.yaw));
  f.fwd_y = static_cast<float>(std::sin(cam.yaw));
  f.right_x = f.fwd_y;
  f.right_y = -f.fwd_x;
  f.h = static_cast<float>(camera_.height_m);
  f.far = static_cast<float>(camera_.far_m);
  f.horizon = 0.5f * static_cast<float>(f.height);
  // Ground rows start below the far clip's row; a wall moves that start down.
  f.far_row = static_cast<int>(std::floor(f.horizon - 0.5f + f.h * focal_ / f.far));
  f.wall_offset = static_cast<float>(section_.wall_offset_m);
  f.wall_height = static_cast<float>(section_.wall_height_m);
  f.road = static_cast<float>(section_.road_half_width_m);
  f.line_half = static_cast<float>(section_.line_half_width_m);
  f.border_in = f.road - static_cast<float>(section_.border_width_m);
  f.fog_density = style.fog_density;
  // Walls are lighter towards the top: factor 0.8 + 0.2 * height / wall_height.
  f.wall_shade = 0.8f + 0.2f * f.h / f.wall_height;
  return f;
}

// Pass 1, per column: whether a wall shows within the far clip, the rows it covers and its
// colour. Returns the first rows that show wall and ground.
Renderer::RowSpans Renderer::trace_walls(const Frame& f, const Palette& pal) {
  RowSpans spans{f.height, f.height};
  auto column = [&](size_t u, float dx, float dy, float hit) {
    columns_.ground_from[u] = f.far_row + 1;
    columns_.wall_from[u] = f.height;  // no wall
    if (hit <= f.far) shade_wall(f, pal, dx, dy, hit, u);
    spans.first_wall = std::min(spans.first_wall, columns_.wall_from[u]);
    spans.first_ground = std::min(spans.first_ground, columns_.ground_from[u]);
  };
  size_t u = 0;
  const auto width = static_cast<size_t>(f.width);
#if PITLANE_RENDER_AVX2
  if (avx2_) {
    const WallTrace trace{map_, f.cx, f.cy, f.wall_offset, f.far};
    for (; u + 8 <= width; u += 8) {
      float dx[8], dy[8], hit[8];
      for (size_t j = 0; j < 8; ++j) {
        dx[j] = f.fwd_x + column_xn_[u + j] * f.right_x;
        dy[j] = f.fwd_y + column_xn_[u + j] * f.right_y;
      }
      wall_depths_avx2(trace, dx, dy, hit);
      for (size_t j = 0; j < 8; ++j) column(u + j, dx[j], dy[j], hit[j]);
    }
  }
#endif
  for (; u < width; ++u) {
    const float xn = column_xn_[u];
    const float dx = f.fwd_x + xn * f.right_x, dy = f.fwd_y + xn * f.right_y;
    column(u, dx, dy, wall_depth(f, dx, dy));
  }
  // Each group of kLateralStride columns needs its ground offsets from its first ground row.
  for (size_t k = 0; k < group_ground_from_.size(); ++k) {
    const size_t u0 = k * kLateralStride,
                 u1 = std::min(u0 + kLateralStride, columns_.ground_from.size());
    group_ground_from_[k] =
        *std::min_element(columns_.ground_from.begin() + static_cast<ptrdiff_t>(u0),
                          columns_.ground_from.begin() + static_cast<ptrdiff_t>(u1));
  }
  return spans;
}

// Sphere tracing along the ground ray (dx, dy) per unit depth (|offset| grows at most 1 m per
// metre travelled), refined by bisection. Returns the wall's depth, or infinity if none is hit.
float Renderer::wall_depth(const Frame& f, float dx, float dy) const {
  const float ground_per_z = std::sqrt(dx * dx + dy * dy);
  float z = 0.05f, prev = z;
  for (int it = 0; it < 200 && z <= f.far; ++it) {
    const float rem = f.wall_offset - std::abs(map_.lateral(f.cx + z * dx, f.cy + z * dy));
    if (rem <= 0.0f) {
      float lo = prev, hi = z;  // refine between the last free depth and this one
      for (int b = 0; b < 10; ++b) {
        const float mid = 0.5f * (lo + hi);
        (f.wall_offset - std::abs(map_.lateral(f.cx + mid * dx, f.cy + mid * dy)) <= 0.0f ? hi
                                                                                          : lo) =
            mid;
      }
      return hi;
    }
    prev = z;
    z += std::max(rem, 0.01f) / ground_per_z;
  }
  return INFINITY;
}

// A column whose ray hits the wall at depth `hit`: the rows the wall covers and its colour.
void Renderer::shade_wall(const Frame& f, const Palette& pal, float dx, float dy, float hit,
                          size_t u) {
  columns_.ground_from[u] =
      std::max(columns_.ground_from[u],
               static_cast<int>(std::floor(f.horizon - 0.5f + f.h * focal_ / hit)) + 1);
  columns_.wall_from[u] = std::max(
      0, static_cast<int>(std::ceil(f.horizon - 0.5f - focal_ * (f.wall_height - f.h) / hit)));
  // Shade by the wall's facing: its normal is the gradient of |offset| at the hit point.
  const float px = f.cx + hit * dx, py = f.cy + hit * dy, e = 0.05f;
  const float gx = std::abs(map_.lateral(px + e, py)) - std::abs(map_.lateral(px - e, py));
  const float gy = std::abs(map_.lateral(px, py + e)) - std::abs(map_.lateral(px, py - e));
  const float gn = std::sqrt(gx * gx + gy * gy);
  const float lambert = gn > 0 && gn < 1.0f ? std::abs(gx * kLightX + gy * kLightY) / gn : 0.5f;
  Rgb c = scale(pal.wall, 0.55f + 0.45f * lambert);
  if (f.fog_density > 0) c = mix(c, pal.fog, 1.0f - std::exp(-f.fog_density * hit));
  columns_.b[u] = c.b;
  columns_.g[u] = c.g;
  columns_.r[u] = c.r;
  // Lighter towards the top (f.wall_shade at the horizon), linear in the row.
  columns_.shade_per_row[u] = -0.2f * hit / (focal_ * f.wall_height);
}

Renderer::GroundRow Renderer::ground_row(const Frame& f, int v) const {
  GroundRow g;
  g.dv = static_cast<float>(v) + 0.5f - f.horizon;
  g.visible = v > f.far_row;
  g.z = g.visible ? f.h * focal_ / g.dv : 0.0f;
  g.footprint = g.z / focal_;
  g.fog = f.fog_density > 0 && g.visible ? 1.0f - std::exp(-f.fog_density * g.z) : 0.0f;
  // Ground points along this row are linear in u: P(u) = cam + z * (fwd + xn(u) * right).
  g.base_x = f.cx + g.z * f.fwd_x;
  g.base_y = f.cy + g.z * f.fwd_y;
  g.step_x = g.z * f.right_x;
  g.step_y = g.z * f.right_y;
  return g;
}

// Fills lateral_row_ with the offset at every pixel of a ground row that shows ground (the
// rest keep stale values nobody reads). The offset field is smooth along a row: look it up
// every kLateralStride pixels and interpolate, exactly where a sample lies beyond the band (next
// to a wall).
void Renderer::lateral_offsets(const GroundRow& g, int v) {
  auto exact = [&](size_t k) {  // group k, looked up at every pixel
    for (size_t j = 0; j < kLateralStride; ++j) {
      const float xn = column_xn_[k * kLateralStride + j];
      lateral_row_[k * kLateralStride + j] =
          map_.lateral(g.base_x + xn * g.step_x, g.base_y + xn * g.step_y);
    }
  };
  const size_t groups = group_ground_from_.size();
#if PITLANE_RENDER_AVX2
  if (avx2_) {
    size_t k0 = 0, k1 = 0;
    visible_groups_avx2(group_ground_from_.data(), groups, v, k0, k1);
    if (k0 >= k1) return;
    line_points_avx2(&sample_xn_[k0], k1 - k0 + 1, g.base_x, g.step_x, g.base_y, g.step_y,
                     &sample_x_[k0], &sample_y_[k0]);
    map_.lateral_points(&sample_x_[k0], &sample_y_[k0], k1 - k0 + 1, &lateral_samples_[k0], true);
    const size_t n_far =
        lerp_offsets_avx2(lateral_samples_.data(), k0, k1, lateral_row_.data(), far_groups_.data());
    for (size_t i = 0; i < n_far; ++i) {
      if (v >= group_ground_from_[far_groups_[i]]) exact(far_groups_[i]);
    }
    return;
  }
#endif
  // Groups k0..k1-1 hold every group of columns that shows ground on this row.
  size_t k0 = groups, k1 = 0;
  for (size_t k = 0; k < groups; ++k) {
    if (v >= group_ground_from_[k]) {
      k0 = std::min(k0, k);
      k1 = k + 1;
    }
  }
  for (size_t k = k0; k <= k1 && k0 < k1; ++k) {
    lateral_samples_[k] =
        map_.lateral(g.base_x + sample_xn_[k] * g.step_x, g.base_y + sample_xn_[k] * g.step_y);
  }
  const float sample_step = static_cast<float>(kLateralStride);
  for (size_t k = k0; k < k1; ++k) {
    if (v < group_ground_from_[k]) continue;  // the wall hides these columns' ground
    const float l0 = lateral_samples_[k], l1 = lateral_samples_[k + 1];
    if (std::abs(l0) < GroundMap::kFar && std::abs(l1) < GroundMap::kFar) {
      const float step = (l1 - l0) / sample_step;
      float* dst = &lateral_row_[k * kLateralStride];
      for (int j = 0; j < kLateralStride; ++j) dst[j] = l0 + step * static_cast<float>(j);
    } else {
      exact(k);
    }
  }
}

// Grain coordinates in 16.16 fixed point, linear in u, wrapped to the texture's period; the mip
// level is the finest whose texels are at least a pixel's footprint.
Renderer::GrainRow Renderer::grain_row(const GroundRow& g) const {
  int mip = 0;
  while (mip < 3 && g.footprint > kTexelM * static_cast<float>(1 << mip)) ++mip;
  GrainRow grain;
  grain.quads = grain_quads_[static_cast<size_t>(mip)].data();
  grain.tex_shift = 9 - mip;
  grain.tex_mask = (1u << grain.tex_shift) - 1;
  const float tex_scale = 1.0f / (kTexelM * static_cast<float>(1 << mip));
  const float period = static_cast<float>(1 << grain.tex_shift);
  const float xn0 = column_xn_[0], dxn = 1.0f / focal_;
  const float tu0 = (g.base_x + xn0 * g.step_x) * tex_scale,
              tv0 = (g.base_y + xn0 * g.step_y) * tex_scale;
  auto fixed = [&](float t) {
    return static_cast<int32_t>((t - period * std::floor(t / period)) * 65536.0f);
  };
  grain.tu = fixed(tu0);
  grain.tv = fixed(tv0);
  grain.dtu = static_cast<int32_t>(dxn * g.step_x * tex_scale * 65536.0f);
  grain.dtv = static_cast<int32_t>(dxn * g.step_y * tex_scale * 65536.0f);
  return grain;
}

// The sky's colour on row v: a vertical gradient, half fog when there is fog.
std::array<uint8_t, 3> Renderer::sky_colour(const Frame& f, const Palette& pal, int v) const {
  const float sky_t = std::clamp(static_cast<float>(v) / f.horizon, 0.0f, 1.0f);
  const Rgb sky_rgb = mix(pal.sky_top, pal.sky_horizon, sky_t * sky_t);
  const bool fog = f.fog_density > 0;
  return {to_u8(fog ? 0.5f * (sky_rgb.b + pal.fog.b) : sky_rgb.b),
          to_u8(fog ? 0.5f * (sky_rgb.g + pal.fog.g) : sky_rgb.g),
          to_u8(fog ? 0.5f * (sky_rgb.r + pal.fog.r) : sky_rgb.r)};
}

// Pass 2, one row of pixels: ground (asphalt with grain, line, border, grass, fog) from the
// column's ground_from down, wall above it, sky above that.
void Renderer::shade_row(const Frame& f, const Palette& pal, const RowSpans& spans, int v,
                         uint8_t* row) {
  RowInputs in;
  in.v = v;
  in.dv = static_cast<float>(v) + 0.5f - f.horizon;
  in.sky = sky_colour(f, pal, v);
  in.ground_from = columns_.ground_from.data();
  in.wall_from = columns_.wall_from.data();
  in.wall_b = columns_.b.data();
  in.wall_g = columns_.g.data();
  in.wall_r = columns_.r.data();
  in.shade_per_row = columns_.shade_per_row.data();
  in.wall_shade = f.wall_shade;
  if (v >= spans.first_ground) {
    const GroundRow g = ground_row(f, v);
    lateral_offsets(g, v);
    in.ground = {pal.asphalt, pal.grass,   pal.border,  pal.line,    pal.fog, pal.has_line,
                 f.road,      f.line_half, f.border_in, g.footprint, g.fog};
    in.lateral = lateral_row_.data();
    const GrainRow texture = grain_row(g);
    in.grain = texture.quads;
    in.tex_shift = texture.tex_shift;
    in.tex_mask = texture.tex_mask;
    in.tu = texture.tu;
    in.tv = texture.tv;
    in.dtu = texture.dtu;
    in.dtv = texture.dtv;
    // Asphalt colour in 8.8 fixed point, times grain (x128) -> >> 15.
    auto fixed_8_8 = [](float c) { return static_cast<int>(std::clamp(c, 0.0f, 127.0f) * 256.0f); };
    in.asphalt_b = fixed_8_8(pal.asphalt.b);
    in.asphalt_g = fixed_8_8(pal.asphalt.g);
    in.asphalt_r = fixed_8_8(pal.asphalt.r);
    in.plain_lo = in.ground.line_half + in.ground.footprint;
    in.plain_hi = in.ground.border_in - in.ground.footprint;
    in.plain_allowed = in.ground.fog_k == 0.0f;
  }
  int done = 0;
#if PITLANE_RENDER_AVX2
  if (avx2_) done = shade_pixels_avx2(in, f.width, row);
#endif
  shade_pixels(in, done, f.width, row);
}

void Renderer::add_noise(cv::Mat& image, float sigma, uint64_t frame_seed) const {
  // A window of the precomputed noise table at a per-frame offset: same seed, same frame, same
  // pixels. Table values are 32 x a unit-variance sample; scale by sigma in 1/8 steps.
  const uint64_t h = mix64(frame_seed ^ 0x6E015Eull);
  const auto oy = static_cast<int>(h % kNoiseMarginRows);
  const auto ox = static_cast<int>((h >> 20) % kNoiseMarginCols);
  const int sigma_q = static_cast<int>(std::lround(sigma * 8.0f));
  const int n = 3 * image.cols;
  const int stride = n + kNoiseMarginCols;
  for (int v = 0; v < image.rows; ++v) {
    uint8_t* row = image.ptr<uint8_t>(v);
    const int8_t* noise = &noise_table_[static_cast<size_t>((v + oy) * stride + ox)];
    int done = 0;
#if PITLANE_RENDER_AVX2
    if (avx2_ && 127 * std::abs(sigma_q) <= 32767) done = add_noise_avx2(row, noise, n, sigma_q);
#endif
    add_noise_bytes(row, noise, done, n, sigma_q);
  }
}

}  // namespace pitlane::sim
