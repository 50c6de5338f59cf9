// A driving model opened for offline evaluation: loaded, checked against the driving-model shape
// and run on pitlane's runtime, one compiled session per batch size met (the last batch of a
// recording is usually smaller). A model the runtime cannot load is an InputError naming the
// file; there is no second executor.
//
//   OpenedModel m = open_model("model.onnx", /*threads=*/2);
//   std::vector<float> in(n * input_size(m.metadata.preprocess)), out(n * m.output_count);
//   m.runner.run(in, n, out);
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <span>
#include <string>

#include "pitlane/data/model_metadata.h"
#include "pitlane/runtime/model.h"

namespace pitlane::eval {

class ModelRunner {
 public:
  ModelRunner(runtime::Model model, int threads);
  // input: batch x C x H x W values (the model's preprocessed input); output: batch x outputs.
  void run(std::span<const float> input, int64_t batch, std::span<float> output);

 private:
  runtime::Model model_;
  int threads_;
  std::map<int64_t, runtime::Session> sessions_;
};

struct OpenedModel {
  data::ModelMetadata metadata;  // from metadata_props; defaults where a key is absent
  int64_t channels = 3, height = 66, width = 200;  // input image shape
  int64_t output_count = 2;                        // values per sample (v, w)
  std::string input_name, output_name;
  ModelRunner runner;
};

// Loads `path` once, checks it has the driving-model shape (one float32 or uint8 input
// [N,3,H,W] (or NHWC) matching its preprocessing metadata, one output [N,K] with K output
// names) and prepares the runner. InputError naming the file otherwise.
OpenedModel open_model(const std::filesystem::path& path, int threads);

}  // namespace pitlane::eval
