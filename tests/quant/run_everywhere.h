// A written model on a few recording frames, in ONNX Runtime and on both of pitlane's backends,
// for the tests of the optimization recipes.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <vector>

#include "../runtime/ort_oracle.h"
#include "pitlane/data/model_metadata.h"
#include "pitlane/onnx/edit.h"
#include "pitlane/onnx/model_file.h"
#include "pitlane/onnx/tensor.h"
#include "pitlane/quant/calibrate.h"
#include "pitlane/runtime/model.h"

namespace pitlane::testing {

namespace fs = std::filesystem;

struct Outputs {
  std::vector<float> ort, reference, onednn;
};

// The written model on a few recording frames, in ORT and on both pitlane backends.
inline Outputs run_everywhere(const fs::path& model, const fs::path& rec, bool uint8_input) {
  const auto meta =
      data::metadata_from_props(onnx::metadata(onnx::read_model(model)), model.string());
  const fs::path dirs[] = {rec};
  const auto images = quant::calibration_images(dirs, meta.preprocess, 3, 9);
  const runtime::Model m = runtime::Model::load(model);
  Outputs out;
  runtime::testing::OrtOracle ort("quant_" + model.stem().string());
  for (const auto& x : images) {
    std::vector<int64_t> shape = {1, 3, 66, 200};
    const auto got =
        ort.run_file(model, {{m.inputs()[0].name, {shape, x, uint8_input ? "|u1" : "<f4"}}});
    const auto& y = got.at(m.outputs()[0].name).data;
    out.ort.insert(out.ort.end(), y.begin(), y.end());
    for (auto backend : {runtime::Backend::reference, runtime::Backend::onednn}) {
      runtime::Session s(m, {.backend = backend});
      std::vector<float> r(s.outputs()[0].element_count());
      s.run(x, r);
      auto& dst = backend == runtime::Backend::reference ? out.reference : out.onednn;
      dst.insert(dst.end(), r.begin(), r.end());
    }
  }
  return out;
}

inline float max_diff(const std::vector<float>& a, const std::vector<float>& b) {
  EXPECT_EQ(a.size(), b.size());
  float d = 0;
  for (size_t i = 0; i < std::min(a.size(), b.size()); ++i) d = std::max(d, std::abs(a[i] - b[i]));
  return d;
}

}  // namespace pitlane::testing
