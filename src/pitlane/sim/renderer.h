// Renderer: the car's camera, as the original JdeRobot F1 world shows it (REFERENCE section 2).
//
// A pinhole camera 0.10 m above the ground looks straight ahead (horizon at row 240, 90 degree
// horizontal field of view, 15 m far clip). Each column casts one ray over the ground map to find
// the wall (sphere tracing on the offset field); each ground pixel looks its offset up in the
// ground map to pick red line, asphalt, white edge line or grass, with anti-aliased edges; the
// sky is a vertical gradient. Colour randomization (brightness, hue) is folded into the palette
// once per frame, so it costs nothing per pixel; noise and fog are per pixel.
//
// Where the CPU has AVX2, the wall trace, the offset lookups and the pixel loops run eight
// columns at a time; they do each lane's integer and float operations in the portable loops'
// order, so both write the same bytes (about 1,500 frames/s against 500 on one core).
//
//   Renderer renderer(circuit);
//   cv::Mat frame;                                  // reused between frames
//   renderer.render(car_pose, RenderStyle{}, frame_index, frame);   // 480x640 BGR
#pragma once

#include <array>
#include <cstdint>
#include <string_view>
#include <vector>

#include <opencv2/core.hpp>

#include "pitlane/core/geometry.h"
#include "pitlane/core/rng.h"
#include "pitlane/sim/ground_map.h"
#include "pitlane/track/circuit.h"

namespace pitlane::sim {

struct CameraModel {
  int width = 640;          // px
  int height = 480;         // px
  double hfov_rad = 1.57;   // horizontal field of view
  double height_m = 0.10;   // above the ground
  double forward_m = 0.45;  // ahead of the car's origin
  double left_m = 0.04;     // left of the car's origin
  double far_m = 15.0;      // far clip: beyond it the background shows

  double focal_px() const;  // fx = fy, px
  Pose2 camera_pose(const Pose2& car) const { return {car.to_world(forward_m, left_m), car.yaw}; }
};

enum class LineStyle { kRed, kWhite, kNone };
LineStyle parse_line_style(std::string_view text);  // "red" | "white" | "none"

// How a frame looks. The default is the original world's look.
struct RenderStyle {
  LineStyle line = LineStyle::kRed;
  float brightness = 1.0f;     // multiplies every colour
  float hue_shift_deg = 0.0f;  // rotation of hue around the grey axis
  float noise_sigma = 0.0f;    // per-pixel Gaussian-like noise, in 0..255 units
  float fog_density = 0.0f;    // 1/m; colour -> fog colour by 1 - exp(-density * depth)
};

// Seeded domain randomization: brightness 0.7..1.3, hue +-12 deg, noise 0..6, fog on 1 in 4.
RenderStyle random_style(Rng& rng);

// Which pixel loops render() runs. kBest: AVX2 where the CPU has it (checked once, at
// construction), else the portable loops. Both write the same bytes; tests compare them.
enum class RenderKernels { kBest, kPortable };

class Renderer {
 public:
  explicit Renderer(const track::Circuit& circuit, CameraModel camera = {},
                    RenderKernels kernels = RenderKernels::kBest);

  // Renders the camera view of a car at `car` into `out` (CV_8UC3, BGR, height x width; it is
  // (re)allocated only if its size or type differ). `frame_seed` seeds the per-pixel noise.
  // Not const: it reuses per-column scratch, so use one Renderer per thread.
  void render(const Pose2& car, const RenderStyle& style, uint64_t frame_seed, cv::Mat& out);

  const CameraModel& camera() const { return camera_; }
  const GroundMap& ground_map() const { return map_; }
  bool uses_avx2() const { return avx2_; }

 private:
  track::CrossSection section_;
  CameraModel camera_;
  GroundMap map_;
  float focal_ = 0.0f;
  bool avx2_ = false;             // run the AVX2 pixel loops
  std::vector<float> column_xn_;  // per column: (u + 0.5 - cx) / f
  std::vector<float> sample_xn_;  // the same at every kLateralStride-th column, and at u = width
  // Asphalt and grass grain: luminance factors (x128), four mip levels of 512, 256, 128 and
  // 64 texels per side, 6 mm per texel at the finest; each texel packed with its right, lower
  // and lower-right neighbours, so one load serves a bilinear lookup.
  std::array<std::vector<uint32_t>, 4> grain_quads_;
  static constexpr int kLateralStride = 4;  // ground offsets are looked up every 4 px and lerped
  static constexpr int kNoiseMarginRows = 61, kNoiseMarginCols = 127;  // per-frame offsets
  std::vector<int8_t> noise_table_;  // (height + margin) x (3 width + margin) noise samples

  // Per-column scratch of render(), filled by pass 1: where the wall is and how it looks, one
  // array per field (width entries each) so that the pixel loops load 8 columns at once.
  struct Columns {
    std::vector<int32_t> ground_from;  // first image row showing ground
    std::vector<int32_t> wall_from;    // first image row showing wall (height: no wall)
    std::vector<float> b, g, r;        // the wall's colour before the height shading
    std::vector<float> shade_per_row;  // brightness = Frame::wall_shade + shade_per_row * dv,
                                       //   dv: rows below the horizon
  };
  Columns columns_;
  std::vector<int32_t> group_ground_from_;  // per kLateralStride columns: their least ground_from
  std::vector<float> sample_x_, sample_y_;  // ground points every kLateralStride px of a row, m
  std::vector<float> lateral_samples_;      // offsets there
  std::vector<uint32_t> far_groups_;        // groups with a sample beyond the band (AVX2 loop)
  std::vector<float> lateral_row_;          // offsets at every px of a ground row

  // The stages of render(), in order, and the per-frame and per-row values they pass on (plain
  // structs, defined in renderer.cpp).
  struct Palette;    // colours after brightness and hue
  struct Frame;      // the camera's pose and the cross-section, as floats
  struct RowSpans;   // the first rows that show wall and ground
  struct GroundRow;  // where one image row's rays meet the ground
  struct GrainRow;   // the grain texture's mip level and coordinates along one row
  Palette make_palette(const RenderStyle& style) const;
  Frame make_frame(const Pose2& car, const RenderStyle& style) const;
  RowSpans trace_walls(const Frame& f, const Palette& pal);  // pass 1: fills columns_
  float wall_depth(const Frame& f, float dx, float dy) const;
  void shade_wall(const Frame& f, const Palette& pal, float dx, float dy, float hit, size_t u);
  GroundRow ground_row(const Frame& f, int v) const;
  void lateral_offsets(const GroundRow& g, int v);  // fills lateral_row_ where ground shows
  GrainRow grain_row(const GroundRow& g) const;
  std::array<uint8_t, 3> sky_colour(const Frame& f, const Palette& pal, int v) const;
  void shade_row(const Frame& f, const Palette& pal, const RowSpans& spans, int v,
                 uint8_t* row);  // pass 2
  void add_noise(cv::Mat& image, float sigma, uint64_t frame_seed) const;
};

}  // namespace pitlane::sim
