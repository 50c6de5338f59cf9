#include "pitlane/quant/optimize.h"

#include <algorithm>

#include "pitlane/core/error.h"
#include "pitlane/core/files.h"
#include "pitlane/core/sha256.h"
#include "pitlane/onnx/edit.h"
#include "pitlane/onnx/model_file.h"
#include "pitlane/onnx/tensor.h"
#include "pitlane/quant/calibrate.h"
#include "pitlane/quant/recipes.h"
#include "pitlane/quant/report.h"

namespace pitlane::quant {
namespace {

using nlohmann::json;

// The layers a report compares: each quantizable node's result (after its Relu), named by node.
std::vector<LayerPair> layer_pairs(const ::onnx::ModelProto& float_model,
                                   const std::map<std::string, std::string>& renamed,
                                   const data::OutputQuantization& output_dq) {
  const ::onnx::GraphProto& g = float_model.graph();
  std::vector<LayerPair> pairs;
  const std::string output = g.output(0).name();
  for (const auto& n : g.node()) {
    if (!is_quantizable(g, n)) continue;
    std::string t = n.output(0);
    const auto readers = onnx::readers_of(g, t);
    if (readers.size() == 1 && g.node(readers[0]).op_type() == "Relu" &&
        !onnx::is_graph_output(g, t))
      t = g.node(readers[0]).output(0);
    LayerPair p{.layer = n.name().empty() ? t : n.name(), .float_tensor = t, .quant_tensor = t};
    if (auto it = renamed.find(t); it != renamed.end() && t != output) p.quant_tensor = it->second;
    if (t == output) p.dq = output_dq;
    pairs.push_back(p);
  }
  if (pairs.empty() || pairs.back().float_tensor != output)
    pairs.push_back(
        {.layer = "output", .float_tensor = output, .quant_tensor = output, .dq = output_dq});
  return pairs;
}

}  // namespace

std::vector<std::string> recipe_names() {
  return {"float16", "bf16", "dynamic-int8", "int8", "int8-only"};
}

OptimizeResult optimize_model(const std::filesystem::path& in, const std::filesystem::path& out,
                              const OptimizeOptions& options) {
  const auto names = recipe_names();
  if (std::find(names.begin(), names.end(), options.recipe) == names.end()) {
    std::string list;
    for (const auto& n : names) list += (list.empty() ? "" : ", ") + n;
    throw InputError("recipe '" + options.recipe + "' is unknown; use one of: " + list);
  }
  const CalibrationMethod method = parse_calibration_method(options.calib_method);
  const bool is_static = options.recipe == "int8" || options.recipe == "int8-only";
  if (is_static && options.calib.empty())
    throw InputError("recipe " + options.recipe +
                     " calibrates activations on recordings; pass --calib DIR (recording folders)");
  if (options.calib_images < 1 || options.calib_images > 100000)
    throw InputError("--calib-images " + std::to_string(options.calib_images) +
                     " is out of range; use 1 to 100000");
  check_writable(out);

  const ::onnx::ModelProto parent = onnx::read_model(in);
  const std::string source = in.string();
  try {
    onnx::check_model(parent, source);
  } catch (const InputError& e) {
    throw InputError(std::string(e.what()) +
                     " (this is the input model: fix or re-export it before optimizing)");
  }
  if (onnx::default_opset(parent) < 13)
    throw InputError(source + ": opset " + std::to_string(onnx::default_opset(parent)) +
                     " is too old for per-channel quantization; re-export with opset 13 or newer");
  if (parent.graph().input_size() != 1 || parent.graph().output_size() != 1)
    throw InputError(source + ": the recipes handle models with one input and one output");
  data::ModelMetadata meta = data::metadata_from_props(onnx::metadata(parent), source);
  if (meta.recipe != "baseline" && !meta.recipe.empty())
    throw InputError(source + ": already optimized (recipe " + meta.recipe +
                     "); optimize the float parent instead");

  OptimizeResult result;
  result.parent_sha256 = sha256_file(in);
  json params = {{"recipe", options.recipe}};
  ::onnx::ModelProto reference = parent;  // the float model the report compares against
  ::onnx::ModelProto model = parent;
  std::map<std::string, std::string> renamed;
  data::OutputQuantization output_dq;
  data::PreprocessSpec raw = meta.preprocess;  // raw pixels in (int8-only)
  raw.scale = 1.0;
  raw.mean = {0.0, 0.0, 0.0};
  raw.std = {1.0, 1.0, 1.0};
  std::vector<std::vector<float>> images, quant_images;
  std::vector<std::string> calib_names;
  for (const auto& c : options.calib) calib_names.push_back(c.filename().string());
  if (!options.calib.empty()) {
    images = calibration_images(options.calib, meta.preprocess, options.calib_images, options.seed);
    params["calibration"] = {
        {"recordings", calib_names}, {"images", images.size()}, {"seed", options.seed}};
  }
  quant_images = images;

  if (options.recipe == "float16" || options.recipe == "bf16") {
    convert_weights_to_half(model, options.recipe == "bf16");
    if (options.recipe == "bf16") onnx::set_metadata(model, "pitlane.compute", "bf16");
  } else if (options.recipe == "dynamic-int8") {
    quantize_dynamic(model);
    params["weights"] = "int8 symmetric per output channel";
    params["activations"] = "uint8 per tensor, per inference (DynamicQuantizeLinear)";
  } else {
    const bool int8_only = options.recipe == "int8-only";
    if (int8_only) {
      prepend_normalization(model, meta.preprocess.scale, meta.preprocess.mean,
                            meta.preprocess.std);
      quant_images = calibration_images(options.calib, raw, options.calib_images, options.seed);
    }
    fold_batchnorm_into_conv(model);
    const auto points = activation_points(model, int8_only);
    const auto ranges = calibrate(model, points, int8_only ? quant_images : images, method);
    const StaticQuantization q = quantize_static(model, ranges, {.int8_only = int8_only});
    renamed = q.dequantized;
    params["calib_method"] = calibration_method_name(method);
    params["weights"] = "int8 symmetric per output channel";
    params["activations"] = "uint8 per tensor (static, calibrated)";
    params["bias"] = "int32 at x_scale * w_scale";
    params["format"] = "QDQ";
    json act = json::object();
    for (const auto& [name, a] : q.params)
      act[name] = {{"scale", a.scale}, {"zero_point", a.zero_point}};
    params["activation_params"] = act;
    if (int8_only) {
      output_dq = {.scale = q.output.scale, .zero_point = q.output.zero_point};
      params["input"] = "uint8 pixels (normalization folded into the first layer)";
      params["output"] = {
          {"type", "int8"}, {"scale", q.output.scale}, {"zero_point", q.output.zero_point}};
    }
  }

  // Provenance and the parent's metadata (preprocessing, outputs, ...) carried over.
  meta.recipe = options.recipe;
  meta.parent = in.filename().string() + " sha256:" + result.parent_sha256;
  if (options.recipe == "int8-only") {
    meta.preprocess = raw;
    meta.output_quantization = output_dq;
  }
  for (const auto& [k, v] : data::to_props(meta)) onnx::set_metadata(model, k, v);
  onnx::set_metadata(model, "pitlane.optimize", params.dump());
  model.set_producer_name("pitlane optimize");

  onnx::check_model(model, out.string());
  json report = {{"recipe", options.recipe},
                 {"parameters", params},
                 {"parent", meta.parent},
                 {"parent_size_bytes", parent.ByteSizeLong()},
                 {"size_bytes", model.ByteSizeLong()}};
  if (!images.empty()) {
    // The float model on normalized images against the optimized one on its own input.
    const auto pairs = layer_pairs(reference, renamed, output_dq);
    json layers = compare_layers(reference, model, pairs, images, quant_images);
    report["layers"] = layers;
    std::vector<std::pair<double, std::string>> by_sqnr;
    for (const auto& l : layers) by_sqnr.emplace_back(l["sqnr_db"], l["layer"]);
    std::sort(by_sqnr.begin(), by_sqnr.end());
    json worst = json::array();
    for (size_t i = 0; i < std::min<size_t>(3, by_sqnr.size()); ++i)
      worst.push_back(by_sqnr[i].second);
    report["worst_layers"] = worst;
  }
  onnx::write_model(model, out);
  result.size_bytes = static_cast<int64_t>(model.ByteSizeLong());
  result.report = std::move(report);
  return result;
}

}  // namespace pitlane::quant
