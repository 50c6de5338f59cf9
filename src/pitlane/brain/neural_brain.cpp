#include "pitlane/brain/neural_brain.h"

#include <algorithm>
#include <chrono>
#include <map>

#include <nlohmann/json.hpp>

#include "pitlane/core/error.h"
#include "pitlane/data/preprocess.h"

namespace pitlane::brain {
namespace {

data::ModelMetadata resolve_metadata(const runtime::Model& model, const std::string& source,
                                     const NeuralBrainOptions& options) {
  std::map<std::string, std::string> props = model.metadata();
  // Overrides are merged key by key into the model's own JSON, so a flag can change one field.
  auto merge = [&](const char* key, const std::string& override_json, const std::string& base) {
    if (override_json.empty()) return;
    nlohmann::json merged = nlohmann::json::parse(base);
    nlohmann::json patch;
    try {
      patch = nlohmann::json::parse(override_json);
    } catch (const nlohmann::json::exception&) {
      throw InputError(source + ": override for " + key + " is not JSON: '" + override_json +
                       "'; write e.g. {\"color\":\"bgr\"}");
    }
    if (!patch.is_object())
      throw InputError(source + ": override for " + key + " must be a JSON object");
    merged.merge_patch(patch);
    props[key] = merged.dump();
  };
  const data::ModelMetadata declared = data::metadata_from_props(props, source);
  merge(data::kPreprocessKey, options.preprocess_json,
        data::preprocess_to_json(declared.preprocess));
  merge(data::kOutputsKey, options.outputs_json, data::outputs_to_json(declared.outputs));
  return data::metadata_from_props(props, source);
}

}  // namespace

NeuralBrain::NeuralBrain(const std::filesystem::path& model_path, const NeuralBrainOptions& options)
    : name_(model_path.filename().string()), model_(runtime::Model::load(model_path)) {
  const std::string source = model_path.string();
  metadata_ = resolve_metadata(model_, source, options);
  const data::PreprocessSpec& p = metadata_.preprocess;
  if (model_.inputs().size() != 1 || model_.outputs().empty()) {
    throw InputError(source +
                     ": a driving model needs one image input and an output; this one has " +
                     std::to_string(model_.inputs().size()) + " inputs");
  }
  runtime::SessionOptions so;
  so.backend = options.backend;
  so.threads = options.threads;
  so.batch = 1;
  so.bf16 = so.backend != runtime::Backend::reference && model_.prefers_bf16();
  session_.emplace(model_, so);
  const runtime::TensorInfo& in = session_->inputs()[0];
  const auto expected = static_cast<int64_t>(data::input_size(p));
  if (in.element_count() != expected) {
    throw InputError(
        source + ": input '" + in.name + "' holds " + std::to_string(in.element_count()) +
        " values per image but the preprocessing makes 3x" + std::to_string(p.height) + "x" +
        std::to_string(p.width) + "; set the size with --preprocess '{\"size\":[W,H]}'");
  }
  const runtime::TensorInfo& out = session_->outputs()[0];
  if (out.element_count() < static_cast<int64_t>(metadata_.outputs.names.size()) ||
      metadata_.outputs.names.size() < 2) {
    throw InputError(source + ": output '" + out.name + "' has " +
                     std::to_string(out.element_count()) +
                     " values; a driving model outputs (v, w)");
  }
  input_.assign(static_cast<size_t>(expected), 0.0f);
  output_.assign(static_cast<size_t>(out.element_count()), 0.0f);
}

std::vector<float> NeuralBrain::model_input(const cv::Mat& frame_bgr) const {
  std::vector<float> input(input_.size());
  data::preprocess(frame_bgr, data::PixelOrder::bgr, metadata_.preprocess, input);
  return input;
}

sim::Command NeuralBrain::act(const cv::Mat& frame_bgr) {
  data::preprocess(frame_bgr, data::PixelOrder::bgr, metadata_.preprocess, input_);
  const auto t0 = std::chrono::steady_clock::now();
  session_->run(input_, output_);
  last_ms_ =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  const data::OutputSpec& o = metadata_.outputs;
  // Labels were clipped to [0, 1] in training; clip the outputs the same way.
  // int8-only models give quantized outputs; their metadata says how to read them.
  const data::OutputQuantization& q = metadata_.output_quantization;
  const double v = o.denormalize(0, std::clamp(q.dequantize(output_[0]), 0.0, 1.0));
  const double w = o.denormalize(1, std::clamp(q.dequantize(output_[1]), 0.0, 1.0));
  return {v, w};
}

}  // namespace pitlane::brain
