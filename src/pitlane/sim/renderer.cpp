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

void Renderer::render(const Pose2& car, const RenderStyle& style, uint64_t frame_seed,
                      cv::Mat& out) {
  const int width = camera_.width, height = camera_.height;
  if (out.rows != height || out.cols != width || out.type() != CV_8UC3)
    out.create(height, width, CV_8UC3);
  const Palette pal = make_palette(style);
  const Pose2 cam = camera_.camera_pose(car);
  const float cx = static_cast<float>(cam.position.x), cy = static_cast<float>(cam.position.y);
  const float fwd_x = static_cast<float>(std::cos(cam.yaw)),
              fwd_y = static_cast<float>(std::sin(cam.yaw));
  const float right_x = fwd_y, right_y = -fwd_x;
  const float h = static_cast<float>(camera_.height_m);
  const float far = static_cast<float>(camera_.far_m);
  const float horizon = 0.5f * static_cast<float>(height);
  const float wall_offset = static_cast<float>(section_.wall_offset_m);
  const float wall_height = static_cast<float>(section_.wall_height_m);
  const float road = static_cast<float>(section_.road_half_width_m);
  const float line_half = static_cast<float>(section_.line_half_width_m);
  const float border_in = road - static_cast<float>(section_.border_width_m);
  const float fog_density = style.fog_density;

  // Pass 1, per column: the wall's depth along the optical axis, found by sphere tracing
  // (|offset| grows at most 1 m per metre travelled), and the rows it covers.
  const float light_x = 0.6f, light_y = 0.8f;  // fixed sun direction over the ground plane
  // Ground rows start below the far clip's row; a wall moves that start down.
  const int far_row = static_cast<int>(std::floor(horizon - 0.5f + h * focal_ / far));
  for (int u = 0; u < width; ++u) {
    const auto uu = static_cast<size_t>(u);
    const float xn = column_xn_[uu];
    const float dx = fwd_x + xn * right_x, dy = fwd_y + xn * right_y;
    const float ground_per_z = std::sqrt(dx * dx + dy * dy);
    float z = 0.05f, hit = INFINITY, prev = z;
    for (int it = 0; it < 200 && z <= far; ++it) {
      const float rem = wall_offset - std::abs(map_.lateral(cx + z * dx, cy + z * dy));
      if (rem <= 0.0f) {
        float lo = prev, hi = z;  // refine between the last free depth and this one
        for (int b = 0; b < 10; ++b) {
          const float mid = 0.5f * (lo + hi);
          (wall_offset - std::abs(map_.lateral(cx + mid * dx, cy + mid * dy)) <= 0.0f ? hi : lo) =
              mid;
        }
        hit = hi;
        break;
      }
      prev = z;
      z += std::max(rem, 0.01f) / ground_per_z;
    }
    ColumnWall& col = columns_[uu];
    col.depth = hit <= far ? hit : INFINITY;
    col.ground_from = far_row + 1;
    col.wall_from = height;  // no wall
    if (hit <= far) {
      col.ground_from = std::max(
          col.ground_from, static_cast<int>(std::floor(horizon - 0.5f + h * focal_ / hit)) + 1);
      col.wall_from = std::max(
          0, static_cast<int>(std::ceil(horizon - 0.5f - focal_ * (wall_height - h) / hit)));
      // Shade by the wall's facing: its normal is the gradient of |offset| at the hit point.
      const float px = cx + hit * dx, py = cy + hit * dy, e = 0.05f;
      const float gx = std::abs(map_.lateral(px + e, py)) - std::abs(map_.lateral(px - e, py));
      const float gy = std::abs(map_.lateral(px, py + e)) - std::abs(map_.lateral(px, py - e));
      const float gn = std::sqrt(gx * gx + gy * gy);
      const float lambert = gn > 0 && gn < 1.0f ? std::abs(gx * light_x + gy * light_y) / gn : 0.5f;
      Rgb c = scale(pal.wall, 0.55f + 0.45f * lambert);
      if (fog_density > 0) c = mix(c, pal.fog, 1.0f - std::exp(-fog_density * hit));
      col.colour_b = c.b;
      col.colour_g = c.g;
      col.colour_r = c.r;
      // Lighter towards the top: factor 0.8 + 0.2 * height / wall_height, linear in the row.
      col.shade_at_horizon = 0.8f + 0.2f * h / wall_height;
      col.shade_per_row = -0.2f * hit / (focal_ * wall_height);
    }
  }

  // Pass 2, row by row.
  const float sample_step = static_cast<float>(kLateralStride);
  for (int v = 0; v < height; ++v) {
    uint8_t* row = out.ptr<uint8_t>(v);
    const float dv = static_cast<float>(v) + 0.5f - horizon;  // > 0 below the horizon
    const float sky_t = std::clamp(static_cast<float>(v) / horizon, 0.0f, 1.0f);
    const Rgb sky_rgb = mix(pal.sky_top, pal.sky_horizon, sky_t * sky_t);
    const uint8_t sky[3] = {to_u8(fog_density > 0 ? 0.5f * (sky_rgb.b + pal.fog.b) : sky_rgb.b),
                            to_u8(fog_density > 0 ? 0.5f * (sky_rgb.g + pal.fog.g) : sky_rgb.g),
                            to_u8(fog_density > 0 ? 0.5f * (sky_rgb.r + pal.fog.r) : sky_rgb.r)};
    const bool ground_row = v > far_row;
    const float z_ground = ground_row ? h * focal_ / dv : 0.0f;
    const float footprint = z_ground / focal_;  // metres per pixel across the road
    const float ground_fog =
        fog_density > 0 && ground_row ? 1.0f - std::exp(-fog_density * z_ground) : 0.0f;
    // Ground points along this row are linear in u: P(u) = cam + z * (fwd + xn(u) * right).
    const float base_x = cx + z_ground * fwd_x, base_y = cy + z_ground * fwd_y;
    const float step_x = z_ground * right_x, step_y = z_ground * right_y;
    if (ground_row) {
      // The offset field is smooth along a row: look it up every kLateralStride pixels and
      // interpolate, exactly where a sample lies beyond the band (next to a wall).
      for (int u = 0; u <= width; u += kLateralStride) {
        const float xn = (static_cast<float>(u) + 0.5f - 0.5f * static_cast<float>(width)) / focal_;
        lateral_samples_[static_cast<size_t>(u / kLateralStride)] =
            map_.lateral(base_x + xn * step_x, base_y + xn * step_y);
      }
    }
    // Grain coordinates in 16.16 fixed point, linear in u, wrapped to the texture's period.
    int mip = 0;
    while (mip < 3 && footprint > kTexelM * static_cast<float>(1 << mip)) ++mip;
    const std::vector<uint32_t>& grain = grain_quads_[static_cast<size_t>(mip)];
    const int tex_shift = 9 - mip;  // log2 of the level's size
    const uint32_t tex_mask = (1u << tex_shift) - 1;
    const float tex_scale = 1.0f / (kTexelM * static_cast<float>(1 << mip));
    const float period = static_cast<float>(1 << tex_shift);
    const float xn0 = column_xn_[0], dxn = 1.0f / focal_;
    const float tu0 = (base_x + xn0 * step_x) * tex_scale,
                tv0 = (base_y + xn0 * step_y) * tex_scale;
    auto fixed = [&](float t) {
      return static_cast<int32_t>((t - period * std::floor(t / period)) * 65536.0f);
    };
    int32_t tu = fixed(tu0), tv = fixed(tv0);
    const auto dtu = static_cast<int32_t>(dxn * step_x * tex_scale * 65536.0f);
    const auto dtv = static_cast<int32_t>(dxn * step_y * tex_scale * 65536.0f);

    if (ground_row) {
      // Per-pixel offsets: lerp between samples; exact lookups where a sample is off the band.
      for (int k = 0; k * kLateralStride < width; ++k) {
        const float l0 = lateral_samples_[static_cast<size_t>(k)],
                    l1 = lateral_samples_[static_cast<size_t>(k) + 1];
        float* dst = &lateral_row_[static_cast<size_t>(k * kLateralStride)];
        if (std::abs(l0) < GroundMap::kFar && std::abs(l1) < GroundMap::kFar) {
          const float step = (l1 - l0) / sample_step;
          for (int j = 0; j < kLateralStride; ++j) dst[j] = l0 + step * static_cast<float>(j);
        } else {
          for (int j = 0; j < kLateralStride; ++j) {
            const float xn = column_xn_[static_cast<size_t>(k * kLateralStride + j)];
            dst[j] = map_.lateral(base_x + xn * step_x, base_y + xn * step_y);
          }
        }
      }
    }
    // Asphalt colour in 8.8 fixed point, times grain (x128) -> >> 15.
    auto fixed_8_8 = [](float c) { return static_cast<int>(std::clamp(c, 0.0f, 127.0f) * 256.0f); };
    const int asphalt_b = fixed_8_8(pal.asphalt.b), asphalt_g = fixed_8_8(pal.asphalt.g),
              asphalt_r = fixed_8_8(pal.asphalt.r);
    const float plain_lo = line_half + footprint, plain_hi = border_in - footprint;
    const bool plain_allowed = ground_fog == 0.0f;

    for (int u = 0; u < width; ++u, tu += dtu, tv += dtv) {
      uint8_t* px = row + 3 * u;
      const ColumnWall& col = columns_[static_cast<size_t>(u)];
      if (v >= col.ground_from) {
        const float a = std::abs(lateral_row_[static_cast<size_t>(u)]);
        // Bilinear grain in fixed point (luminance x128): one load fetches the texel's 2x2 quad.
        const auto ux = static_cast<uint32_t>(tu), vy = static_cast<uint32_t>(tv);
        const uint32_t quad =
            grain[(((vy >> 16) & tex_mask) << tex_shift) | ((ux >> 16) & tex_mask)];
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
        const float grain_k = static_cast<float>(grain_q) * (1.0f / 128.0f);
        Rgb c = scale(pal.asphalt, grain_k);
        if (a > border_in - footprint) {
          const Rgb grass = scale(pal.grass, 0.6f + 0.4f * grain_k);
          c = mix(c, pal.border, coverage(a - border_in, footprint));
          c = mix(grass, c, coverage(road - a, footprint));
        } else if (pal.has_line && a < line_half + footprint) {
          c = mix(c, pal.line, coverage(line_half - a, footprint));
        }
        if (ground_fog > 0) c = mix(c, pal.fog, ground_fog);
        store(px, c);
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
  if (style.noise_sigma > 0) add_noise(out, style.noise_sigma, frame_seed);
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
