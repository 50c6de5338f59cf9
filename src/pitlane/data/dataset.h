// Recordings in the DeepLearningStudio layout, their index, splits by recording and curve
// oversampling.
//
// A recording is one folder: frames `0.png, 1.png, ...` (640x480 RGB) and `data.csv` with the
// header `image_name, v, w, timestamp` (spaces optional) and one row per frame, e.g.
// `17.png, 7.000000, -1.234500, 0.850000` (v in m/s, w in rad/s, sim time in s; `17` is accepted
// for `17.png`). Bad input raises InputError naming the file and row.
//
//   std::vector<Recording> recs = load_recordings({"data/many_curves_cw", "data/nurburgring_cw"});
//   load_images(recs[0], spec, 2);                          // decode + crop + resize, cached
//   RecordingSplit split = split_by_recording(recs, 0.2, 0.0, 42);
//   std::vector<SampleRef> train = build_index(recs, split.train, /*oversample=*/true);
#pragma once

#include <cstdint>
#include <filesystem>
#include <opencv2/core.hpp>
#include <span>
#include <string>
#include <vector>

#include "pitlane/data/model_metadata.h"

namespace pitlane::data {

// One row of data.csv.
struct Frame {
  std::string image;  // image file name inside the recording folder, e.g. "17.png"
  double v = 0.0;     // linear velocity label, m/s
  double w = 0.0;     // angular velocity label, rad/s (positive = turning left)
  double t = 0.0;     // simulation time, s (0 if the column is absent)
  int csv_line = 0;   // 1-based line of data.csv this frame came from (the header is line 1)
};

struct Recording {
  std::string name;           // folder name, e.g. "many_curves_cw"
  std::filesystem::path dir;  // folder holding data.csv and the frames
  std::vector<Frame> frames;  // in data.csv order
  // Filled by load_images: frames.size() images of spec height x width x 3 (model colour order),
  // uint8, row-major, one after another. Empty until then.
  std::vector<uint8_t> pixels;
  int image_width = 0, image_height = 0;  // size of each cached image, px

  // The cached image of frame i (a view into `pixels`, no copy).
  cv::Mat image(size_t i) const;
};

// Parses `dir`/data.csv and checks that every referenced image exists.
Recording load_recording(const std::filesystem::path& dir);
// The recordings `dirs` name: each a recording folder, or a folder of recordings (the subfolders
// holding data.csv, in name order, as `pitlane record --out` writes them). InputError for a
// folder with neither.
std::vector<std::filesystem::path> find_recordings(std::span<const std::filesystem::path> dirs);
// Loads the recordings find_recordings() names; folder names must be distinct.
std::vector<Recording> load_recordings(std::span<const std::filesystem::path> dirs);

// Decodes every frame of `rec` and caches it cropped and resized by `spec` (crop_resize), using
// `threads` threads. A corrupt image raises InputError naming the image and its data.csv row.
void load_images(Recording& rec, const PreprocessSpec& spec, int threads);

// Recordings assigned to each split, as indices into the recordings vector. A recording is never
// in two splits, and splitting happens before oversampling, so no frame leaks across.
struct RecordingSplit {
  std::vector<int> train, validation, test;
};

// Shuffles the recordings with `seed` and fills test, then validation, until each holds at least
// its fraction of all frames (at least one recording when the fraction is positive); the rest is
// training. InputError when a split would be empty.
RecordingSplit split_by_recording(const std::vector<Recording>& recs, double validation_fraction,
                                  double test_fraction, uint64_t seed);

// Extra copies of a frame with angular velocity w (rad/s) in training: the study's table
// (|w| >= 4: 50, >= 3: 35, >= 2: 25, >= 1: 15, >= 0.5: 5, >= 0.3: 2, else 0).
int oversample_copies(double w);

// One training or evaluation sample: a frame of a recording.
struct SampleRef {
  uint32_t recording = 0;  // index into the recordings vector
  uint32_t frame = 0;      // index into that recording's frames
};

// All frames of the given recordings, each repeated 1 + oversample_copies(w) times if
// `oversample` (training only; never for validation or test).
std::vector<SampleRef> build_index(const std::vector<Recording>& recs,
                                   std::span<const int> recording_ids, bool oversample);

// Normalized labels of a frame: (v', w') in [0, 1] by `outputs` (section 4 of the reference).
inline std::pair<float, float> normalized_labels(const Frame& f, const OutputSpec& outputs) {
  return {static_cast<float>(outputs.normalize(0, f.v)),
          static_cast<float>(outputs.normalize(1, f.w))};
}

}  // namespace pitlane::data
