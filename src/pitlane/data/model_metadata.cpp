#include "pitlane/data/model_metadata.h"

#include <cmath>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "pitlane/core/error.h"

namespace pitlane::data {
namespace {

using nlohmann::json;

[[noreturn]] void bad(const std::string& source, const std::string& key, const std::string& why) {
  throw InputError(source + ": metadata '" + key + "': " + why +
                   "; rewrite the model with pitlane or remove the key");
}

json parse_json(const std::string& text, const std::string& source, const std::string& key) {
  try {
    return json::parse(text);
  } catch (const json::exception&) {
    bad(source, key, "not valid JSON");
  }
}

template <typename T>
T get_or(const json& j, const char* name, T fallback, const std::string& source,
         const std::string& key) {
  if (!j.contains(name)) return fallback;
  try {
    return j.at(name).get<T>();
  } catch (const json::exception&) {
    bad(source, key, std::string("field '") + name + "' has the wrong type");
  }
}

}  // namespace

double OutputSpec::normalize(size_t i, double physical) const {
  const double span = max[i] - min[i];
  const double x = span != 0.0 ? (physical - min[i]) / span : 0.0;
  return std::clamp(x, 0.0, 1.0);
}

std::string preprocess_to_json(const PreprocessSpec& s) {
  json j;
  j["crop"] = {s.crop_row_begin, s.crop_row_end};
  j["size"] = {s.width, s.height};
  j["interpolation"] = s.interpolation;
  j["color"] = s.color;
  j["mean"] = s.mean;
  j["std"] = s.std;
  j["layout"] = s.layout;
  j["scale"] = s.scale;
  return j.dump();
}

std::string outputs_to_json(const OutputSpec& s) {
  json j;
  j["names"] = s.names;
  j["min"] = s.min;
  j["max"] = s.max;
  return j.dump();
}

std::map<std::string, std::string> to_props(const ModelMetadata& m) {
  std::map<std::string, std::string> p;
  p[kPreprocessKey] = preprocess_to_json(m.preprocess);
  p[kOutputsKey] = outputs_to_json(m.outputs);
  p[kRecipeKey] = m.recipe;
  p[kParentKey] = m.parent;
  p[kArchKey] = m.arch;
  p[kTrainingDataKey] = json(m.training_data).dump();
  p[kSeedKey] = m.seed;
  if (m.output_quantization.present())
    p[kOutputQuantizationKey] = json{{"scale", m.output_quantization.scale},
                                     {"zero_point", m.output_quantization.zero_point}}
                                    .dump();
  return p;
}

ModelMetadata metadata_from_props(const std::map<std::string, std::string>& props,
                                  const std::string& source) {
  ModelMetadata m;
  auto find = [&](const char* key) -> const std::string* {
    auto it = props.find(key);
    return it == props.end() ? nullptr : &it->second;
  };
  if (const auto* text = find(kPreprocessKey)) {
    const std::string key = kPreprocessKey;
    const json j = parse_json(*text, source, key);
    if (!j.is_object()) bad(source, key, "expected a JSON object");
    PreprocessSpec& s = m.preprocess;
    const auto crop =
        get_or<std::vector<int>>(j, "crop", {s.crop_row_begin, s.crop_row_end}, source, key);
    const auto size = get_or<std::vector<int>>(j, "size", {s.width, s.height}, source, key);
    if (crop.size() != 2 || crop[0] < 0 || crop[1] <= crop[0]) {
      bad(source, key, "'crop' must be [first_row, end_row] with end_row > first_row >= 0");
    }
    if (size.size() != 2 || size[0] <= 0 || size[1] <= 0 || size[0] > 4096 || size[1] > 4096) {
      bad(source, key, "'size' must be [width, height], each 1..4096");
    }
    s.crop_row_begin = crop[0];
    s.crop_row_end = crop[1];
    s.width = size[0];
    s.height = size[1];
    s.interpolation = get_or<std::string>(j, "interpolation", s.interpolation, source, key);
    s.color = get_or<std::string>(j, "color", s.color, source, key);
    s.mean = get_or<std::vector<double>>(j, "mean", s.mean, source, key);
    s.std = get_or<std::vector<double>>(j, "std", s.std, source, key);
    s.layout = get_or<std::string>(j, "layout", s.layout, source, key);
    s.scale = get_or<double>(j, "scale", s.scale, source, key);
    if (s.interpolation != "linear" && s.interpolation != "area" && s.interpolation != "nearest") {
      bad(source, key, "'interpolation' must be linear, area or nearest");
    }
    if (s.color != "rgb" && s.color != "bgr") bad(source, key, "'color' must be rgb or bgr");
    if (s.layout != "nchw" && s.layout != "nhwc") bad(source, key, "'layout' must be nchw or nhwc");
    if (s.mean.size() != 3 || s.std.size() != 3) bad(source, key, "'mean' and 'std' need 3 values");
    for (double x : s.std) {
      if (!(x > 0.0f)) bad(source, key, "'std' values must be positive");
    }
    if (!(s.scale > 0.0)) bad(source, key, "'scale' must be positive");
  }
  if (const auto* text = find(kOutputsKey)) {
    const std::string key = kOutputsKey;
    const json j = parse_json(*text, source, key);
    if (!j.is_object()) bad(source, key, "expected a JSON object");
    OutputSpec& o = m.outputs;
    o.names = get_or<std::vector<std::string>>(j, "names", o.names, source, key);
    o.min = get_or<std::vector<double>>(j, "min", o.min, source, key);
    o.max = get_or<std::vector<double>>(j, "max", o.max, source, key);
    if (o.names.empty() || o.min.size() != o.names.size() || o.max.size() != o.names.size()) {
      bad(source, key, "'names', 'min' and 'max' must have the same non-zero length");
    }
    for (size_t i = 0; i < o.names.size(); ++i) {
      if (!std::isfinite(o.min[i]) || !std::isfinite(o.max[i]) || !(o.min[i] < o.max[i]))
        bad(source, key,
            "output '" + o.names[i] + "' has range [" + std::to_string(o.min[i]) + ", " +
                std::to_string(o.max[i]) + "]; 'min' must be below 'max', both finite");
    }
  }
  if (const auto* t = find(kRecipeKey)) m.recipe = *t;
  if (const auto* t = find(kParentKey)) m.parent = *t;
  if (const auto* t = find(kArchKey)) m.arch = *t;
  if (const auto* t = find(kSeedKey)) m.seed = *t;
  if (const auto* text = find(kOutputQuantizationKey)) {
    const json j = parse_json(*text, source, kOutputQuantizationKey);
    m.output_quantization.scale = get_or<double>(j, "scale", 0.0, source, kOutputQuantizationKey);
    m.output_quantization.zero_point =
        get_or<int>(j, "zero_point", 0, source, kOutputQuantizationKey);
    if (!(m.output_quantization.scale > 0.0))
      throw InputError(source + ": " + kOutputQuantizationKey +
                       " needs a positive scale; the model's metadata is corrupt");
  }
  if (const auto* text = find(kTrainingDataKey)) {
    if (!text->empty()) {
      const json j = parse_json(*text, source, kTrainingDataKey);
      try {
        m.training_data = j.get<std::vector<std::string>>();
      } catch (const json::exception&) {
        bad(source, kTrainingDataKey, "expected a JSON array of folder names");
      }
    }
  }
  return m;
}

}  // namespace pitlane::data
