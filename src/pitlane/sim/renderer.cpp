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
Rgb scale(Rgb x, float k) { return {x.b * k, x.g * k, x.r * k}; }

uint8_t to_u8(float v) { return static_cast<uint8_t>(std::clamp(v, 0.0f, 255.0f) + 0.5f); }

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

constexpr int kGrainSize = 512;   // texels per side of the finest grain level
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
          acc += fine[static_cast<size_t>(((y + dy + size) % size) * size + (x + dx + size) % size)];
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

double CameraModel::focal_px() const { return 0.5 * width / std::tan(0.5 * hfov_rad); }

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
  Rgb sky_top, sky_horizon, asphalt, line, border, grass, wall, fog;
  bool has_line = true;
};

Renderer::Palette Renderer::make_palette(const RenderStyle& style) const {
  // Hue rotation about the grey axis (a rotation matrix in RGB space), then brightness.
  const float a = style.hue_shift_deg * static_cast<float>(std::numbers::pi / 180.0);
  const float c = std::cos(a), s = std::sin(a), k = (1.0f - c) / 3.0f, q = std::sqrt(1.0f / 3.0f) * s;
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
    column_xn_[static_cast<size_t>(u)] = (static_cast<float>(u) + 0.5f - 0.5f * static_cast<float>(camera_.width)) / focal_;
  }
  wall_z_.resize(static_cast<size_t>(camera_.width));
  wall_shade_.resize(static_cast<size_t>(camera_.width));
  grain_[0] = make_grain(kGrainSize, 0x5EED);
  for (size_t level = 1; level < grain_.size(); ++level) {
    grain_[level] = halve(grain_[level - 1], kGrainSize >> (level - 1));
  }
}

void Renderer::render(const Pose2& car, const RenderStyle& style, uint64_t frame_seed,
                      cv::Mat& out) {
  const int width = camera_.width, height = camera_.height;
  if (out.rows != height || out.cols != width || out.type() != CV_8UC3) out.create(height, width, CV_8UC3);
  const Palette pal = make_palette(style);
  const Pose2 cam = camera_.camera_pose(car);
  const float cx = static_cast<float>(cam.position.x), cy = static_cast<float>(cam.position.y);
  const float fwd_x = static_cast<float>(std::cos(cam.yaw)), fwd_y = static_cast<float>(std::sin(cam.yaw));
  const float right_x = fwd_y, right_y = -fwd_x;
  const float h = static_cast<float>(camera_.height_m);
  const float far = static_cast<float>(camera_.far_m);
  const float horizon = 0.5f * static_cast<float>(height);
  const float wall_offset = static_cast<float>(section_.wall_offset_m);
  const float wall_height = static_cast<float>(section_.wall_height_m);
  const float road = static_cast<float>(section_.road_half_width_m);
  const float line_half = static_cast<float>(section_.line_half_width_m);
  const float border_in = road - static_cast<float>(section_.border_width_m);

  // Pass 1, per column: depth of the wall along the optical axis (infinity if none within the
  // far clip), found by sphere tracing (|offset| grows at most 1 m per metre travelled).
  std::vector<float>& wall_z = wall_z_;
  std::vector<float>& wall_shade = wall_shade_;
  const float light_x = 0.6f, light_y = 0.8f;  // fixed sun direction over the ground plane
  for (int u = 0; u < width; ++u) {
    const float xn = column_xn_[static_cast<size_t>(u)];
    const float dx = fwd_x + xn * right_x, dy = fwd_y + xn * right_y;
    const float ground_per_z = std::sqrt(dx * dx + dy * dy);
    float z = 0.05f, hit = INFINITY, prev = z;
    for (int it = 0; it < 200 && z <= far; ++it) {
      const float rem = wall_offset - std::abs(map_.lateral(cx + z * dx, cy + z * dy));
      if (rem <= 0.0f) {
        // Refine between the last free depth and this one.
        float lo = prev, hi = z;
        for (int b = 0; b < 10; ++b) {
          const float mid = 0.5f * (lo + hi);
          (wall_offset - std::abs(map_.lateral(cx + mid * dx, cy + mid * dy)) <= 0.0f ? hi : lo) = mid;
        }
        hit = hi;
        break;
      }
      prev = z;
      z += std::max(rem, 0.01f) / ground_per_z;
    }
    wall_z[static_cast<size_t>(u)] = hit <= far ? hit : INFINITY;
    if (hit <= far) {
      // Shade by the wall's facing: its normal is the gradient of |offset| at the hit point.
      const float px = cx + hit * dx, py = cy + hit * dy, e = 0.05f;
      const float gx = std::abs(map_.lateral(px + e, py)) - std::abs(map_.lateral(px - e, py));
      const float gy = std::abs(map_.lateral(px, py + e)) - std::abs(map_.lateral(px, py - e));
      const float gn = std::sqrt(gx * gx + gy * gy);
      const float lambert = gn > 0 && gn < 1.0f ? std::abs(gx * light_x + gy * light_y) / gn : 0.5f;
      wall_shade[static_cast<size_t>(u)] = 0.55f + 0.45f * lambert;
    }
  }

  // Pass 2, row by row.
  const float fog_density = style.fog_density;
  const uint64_t noise_base = mix64(frame_seed ^ 0xA5A5A5A5ull);
  for (int v = 0; v < height; ++v) {
    uint8_t* row = out.ptr<uint8_t>(v);
    const float yn = (static_cast<float>(v) + 0.5f - horizon) / focal_;  // > 0 below the horizon
    const float sky_t = std::clamp(static_cast<float>(v) / horizon, 0.0f, 1.0f);
    const Rgb sky = mix(pal.sky_top, pal.sky_horizon, sky_t * sky_t);
    const float z_ground = yn > 0 ? h / yn : INFINITY;
    const bool ground_row = z_ground <= far;
    const float footprint = z_ground / focal_;  // metres per pixel across the road
    // Mip level: the finest whose texel is no smaller than the pixel's footprint.
    int mip = 0;
    while (mip < 3 && footprint > kTexelM * static_cast<float>(1 << mip)) ++mip;
    const std::vector<uint8_t>& grain = grain_[static_cast<size_t>(mip)];
    const int tex_size = kGrainSize >> mip;
    const float tex_scale = 1.0f / (kTexelM * static_cast<float>(1 << mip));  // texels per metre
    const int tex_mask = tex_size - 1;
    const float ground_fog = fog_density > 0 && ground_row ? 1.0f - std::exp(-fog_density * z_ground) : 0.0f;
    // Ground points along this row: P(u) = cam + z * (fwd + xn(u) * right).
    const float base_x = cx + z_ground * fwd_x, base_y = cy + z_ground * fwd_y;
    const float step_x = z_ground * right_x, step_y = z_ground * right_y;
    for (int u = 0; u < width; ++u) {
      uint8_t* px = row + 3 * u;
      const float wz = wall_z[static_cast<size_t>(u)];
      if (ground_row && z_ground < wz) {
        const float xn = column_xn_[static_cast<size_t>(u)];
        const float gx = base_x + xn * step_x, gy = base_y + xn * step_y;
        const float a = std::abs(map_.lateral(gx, gy));
        // Bilinear grain lookup.
        const float fx = gx * tex_scale, fy = gy * tex_scale;
        const float flx = std::floor(fx), fly = std::floor(fy);
        const int tx = static_cast<int>(flx) & tex_mask, ty = static_cast<int>(fly) & tex_mask;
        const int tx1 = (tx + 1) & tex_mask, ty1 = (ty + 1) & tex_mask;
        const float wx = fx - flx, wy = fy - fly;
        const float g0 = grain[static_cast<size_t>(ty * tex_size + tx)] +
                         wx * static_cast<float>(grain[static_cast<size_t>(ty * tex_size + tx1)] - grain[static_cast<size_t>(ty * tex_size + tx)]);
        const float g1 = grain[static_cast<size_t>(ty1 * tex_size + tx)] +
                         wx * static_cast<float>(grain[static_cast<size_t>(ty1 * tex_size + tx1)] - grain[static_cast<size_t>(ty1 * tex_size + tx)]);
        const float grain_k = (g0 + (g1 - g0) * wy) * (1.0f / 128.0f);
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
      } else if (wz < INFINITY && static_cast<float>(v) + 0.5f >= horizon - focal_ * (wall_height - h) / wz) {
        // Wall: lighter towards its top edge.
        const float height_at = h - yn * wz;
        Rgb c = scale(pal.wall, wall_shade[static_cast<size_t>(u)] * (0.8f + 0.2f * height_at / wall_height));
        if (fog_density > 0) c = mix(c, pal.fog, 1.0f - std::exp(-fog_density * wz));
        store(px, c);
      } else {
        store(px, fog_density > 0 ? mix(sky, pal.fog, 0.5f) : sky);
      }
    }
    if (style.noise_sigma > 0) {
      // Triangular noise from a counter-based hash: same seed, same frame, same pixels.
      uint64_t state = mix64(noise_base + static_cast<uint64_t>(v));
      const float k = style.noise_sigma * 2.45f / 65536.0f;  // two uniforms: stddev = sigma
      for (int i = 0; i < 3 * width; i += 2) {
        state = mix64(state + 0x9E3779B97F4A7C15ull);
        for (int j = 0; j < 2 && i + j < 3 * width; ++j) {
          const auto bits = static_cast<uint32_t>(state >> (32 * j));
          const float n = (static_cast<float>(bits & 0xFFFF) - static_cast<float>(bits >> 16)) * k;
          row[i + j] = to_u8(static_cast<float>(row[i + j]) + n);
        }
      }
    }
  }
}

}  // namespace pitlane::sim
