#include "pitlane/sim/renderer.h"

#include <algorithm>
#include <cmath>

#include "pitlane/core/error.h"

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
  return static_cast<uint8_t>(std::clamp(v, 0.0f, 255.0f) +
                              0.5f);  // NOLINT(bugprone-incorrect-roundings)
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

Renderer::Renderer(const track::Circuit& circuit, CameraModel camera)
    : section_(circuit.cross_section()),
      camera_(camera),
      map_(circuit, circuit.cross_section().wall_offset_m + 0.6),
      focal_(static_cast<float>(camera.focal_px())) {
  column_xn_.resize(static_cast<size_t>(camera_.width));
  for (int u = 0; u < camera_.width; ++u) {
    column_xn_[static_cast<size_t>(u)] =
        (static_cast<float>(u) + 0.5f - 0.5f * static_cast<float>(camera_.width)) / focal_;
  }
  columns_.resize(static_cast<size_t>(camera_.width));
  // Triangular noise (the sum of two uniforms), unit variance, x32, as int8.
  Rng noise_rng(0x0015E);
  noise_table_.resize(static_cast<size_t>((camera_.height + kNoiseMarginRows) *
                                          (3 * camera_.width + kNoiseMarginCols)));
  for (auto& x : noise_table_) {
    const double tri = (noise_rng.uniform() - noise_rng.uniform()) * std::sqrt(6.0);
    x = static_cast<int8_t>(std::clamp(std::lround(32.0 * tri), -127l, 127l));
  }
  lateral_samples_.resize(static_cast<size_t>(camera_.width / kLateralStride + 2));
  lateral_row_.resize(static_cast<size_t>(camera_.width + kLateralStride));
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
  trace_walls(f, pal);
  // Pass 2, row by row.
  for (int v = 0; v < f.height; ++v) {
    const GroundRow g = ground_row(f, v);
    if (g.visible) lateral_offsets(f, g);
    shade_row(f, pal, g, v, out.ptr<uint8_t>(v));
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
  return f;
}

// Pass 1, per column: the wall's depth along the optical axis and the rows it covers.
void Renderer::trace_walls(const Frame& f, const Palette& pal) {
  for (int u = 0; u < f.width; ++u) {
    const auto uu = static_cast<size_t>(u);
    const float xn = column_xn_[uu];
    const float dx = f.fwd_x + xn * f.right_x, dy = f.fwd_y + xn * f.right_y;
    const float hit = wall_depth(f, dx, dy);
    ColumnWall& col = columns_[uu];
    col.depth = hit <= f.far ? hit : INFINITY;
    col.ground_from = f.far_row + 1;
    col.wall_from = f.height;  // no wall
    if (hit <= f.far) shade_wall(f, pal, dx, dy, hit, col);
  }
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
                          ColumnWall& col) const {
  col.ground_from = std::max(
      col.ground_from, static_cast<int>(std::floor(f.horizon - 0.5f + f.h * focal_ / hit)) + 1);
  col.wall_from = std::max(
      0, static_cast<int>(std::ceil(f.horizon - 0.5f - focal_ * (f.wall_height - f.h) / hit)));
  // Shade by the wall's facing: its normal is the gradient of |offset| at the hit point.
  const float px = f.cx + hit * dx, py = f.cy + hit * dy, e = 0.05f;
  const float gx = std::abs(map_.lateral(px + e, py)) - std::abs(map_.lateral(px - e, py));
  const float gy = std::abs(map_.lateral(px, py + e)) - std::abs(map_.lateral(px, py - e));
  const float gn = std::sqrt(gx * gx + gy * gy);
  const float lambert = gn > 0 && gn < 1.0f ? std::abs(gx * kLightX + gy * kLightY) / gn : 0.5f;
  Rgb c = scale(pal.wall, 0.55f + 0.45f * lambert);
  if (f.fog_density > 0) c = mix(c, pal.fog, 1.0f - std::exp(-f.fog_density * hit));
  col.colour_b = c.b;
  col.colour_g = c.g;
  col.colour_r = c.r;
  // Lighter towards the top: factor 0.8 + 0.2 * height / wall_height, linear in the row.
  col.shade_at_horizon = 0.8f + 0.2f * f.h / f.wall_height;
  col.shade_per_row = -0.2f * hit / (focal_ * f.wall_height);
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

// Fills lateral_row_ with the offset at every pixel of a ground row. The offset field is smooth
// along a row: look it up every kLateralStride pixels and interpolate, exactly where a sample
// lies beyond the band (next to a wall).
void Renderer::lateral_offsets(const Frame& f, const GroundRow& g) {
  for (int u = 0; u <= f.width; u += kLateralStride) {
    const float xn = (static_cast<float>(u) + 0.5f - 0.5f * static_cast<float>(f.width)) / focal_;
    lateral_samples_[static_cast<size_t>(u / kLateralStride)] =
        map_.lateral(g.base_x + xn * g.step_x, g.base_y + xn * g.step_y);
  }
  const float sample_step = static_cast<float>(kLateralStride);
  for (int k = 0; k * kLateralStride < f.width; ++k) {
    const float l0 = lateral_samples_[static_cast<size_t>(k)],
                l1 = lateral_samples_[static_cast<size_t>(k) + 1];
    float* dst = &lateral_row_[static_cast<size_t>(k * kLateralStride)];
    if (std::abs(l0) < GroundMap::kFar && std::abs(l1) < GroundMap::kFar) {
      const float step = (l1 - l0) / sample_step;
      for (int j = 0; j < kLateralStride; ++j) dst[j] = l0 + step * static_cast<float>(j);
    } else {
      for (int j = 0; j < kLateralStride; ++j) {
        const float xn = column_xn_[static_cast<size_t>(k * kLateralStride + j)];
        dst[j] = map_.lateral(g.base_x + xn * g.step_x, g.base_y + xn * g.step_y);
      }
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
// column's ground_from down, wall above it, sky above that. The ground needs lateral_row_.
void Renderer::shade_row(const Frame& f, const Palette& pal, const GroundRow& g, int v,
                         uint8_t* row) const {
  // Locals, not the callers' structs, in the pixel loop: stores through `row` could alias those.
  const int width = f.width;
  const float dv = g.dv;
  const std::array<uint8_t, 3> sky = sky_colour(f, pal, v);
  const GroundShading ground{pal.asphalt, pal.grass,    pal.border, pal.line,
                             pal.fog,     pal.has_line, f.road,     f.line_half,
                             f.border_in, g.footprint,  g.fog};
  const GrainRow texture = grain_row(g);
  const uint32_t* grain = texture.quads;
  const int tex_shift = texture.tex_shift;
  const uint32_t tex_mask = texture.tex_mask;
  const int32_t dtu = texture.dtu, dtv = texture.dtv;
  int32_t tu = texture.tu, tv = texture.tv;
  // Asphalt colour in 8.8 fixed point, times grain (x128) -> >> 15.
  auto fixed_8_8 = [](float c) { return static_cast<int>(std::clamp(c, 0.0f, 127.0f) * 256.0f); };
  const int asphalt_b = fixed_8_8(pal.asphalt.b), asphalt_g = fixed_8_8(pal.asphalt.g),
            asphalt_r = fixed_8_8(pal.asphalt.r);
  const float plain_lo = ground.line_half + ground.footprint,
              plain_hi = ground.border_in - ground.footprint;
  const bool plain_allowed = ground.fog_k == 0.0f;

  for (int u = 0; u < width; ++u, tu += dtu, tv += dtv) {
    uint8_t* px = row + 3 * u;
    const ColumnWall& col = columns_[static_cast<size_t>(u)];
    if (v >= col.ground_from) {
      const float a = std::abs(lateral_row_[static_cast<size_t>(u)]);
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
    } else if (v >= col.wall_from) {
      const float k = col.shade_at_horizon + col.shade_per_row * dv;
      px[0] = static_cast<uint8_t>(std::min(255.0f, col.colour_b * k));
      px[1] = static_cast<uint8_t>(std::min(255.0f, col.colour_g * k));
      px[2] = static_cast<uint8_t>(std::min(255.0f, col.colour_r * k));
    } else {
      px[0] = sky[0];
      px[1] = sky[1];
      px[2] = sky[2];
    }
  }
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
    for (int i = 0; i < n; ++i) {
      const int x = row[i] + ((noise[i] * sigma_q) >> 8);
      row[i] = static_cast<uint8_t>(std::clamp(x, 0, 255));
    }
  }
}

}  // namespace pitlane::sim
