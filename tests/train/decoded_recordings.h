// Two small synthetic recordings, written and decoded once per test suite for the trainer's
// tests: recs[0] "train_a" (48 frames) trains, recs[1] "val_b" (16 frames) validates.
//
//   static DecodedRecordings* data = new DecodedRecordings("trainer");   // SetUpTestSuite
//   train_pilotnet(data->recs, {0}, {1}, {}, {}, config);
#pragma once

#include <string>
#include <vector>

#include "pitlane/data/dataset.h"
#include "synthetic.h"

namespace pitlane::test {

struct DecodedRecordings {
  explicit DecodedRecordings(const std::string& name) : tmp(name) {
    const std::vector<std::filesystem::path> dirs = {
        RecordingBuilder().frames(48).seed(1).write(tmp.path() / "train_a"),
        RecordingBuilder().frames(16).seed(2).write(tmp.path() / "val_b")};
    recs = data::load_recordings(dirs);
    for (auto& r : recs) data::load_images(r, data::PreprocessSpec{}, 2);
  }
  TempDir tmp;
  std::vector<data::Recording> recs;
};

}  // namespace pitlane::test
