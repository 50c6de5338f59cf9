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

using Images = std::vector<std::vector<float>>;

// The float model a recipe starts from and its pitlane metadata.
struct ParentModel {
  ::onnx::ModelProto model;
  data::ModelMetadata meta;  // preprocessing, output ranges, ...
};

// What a recipe's rewrite tells the metadata and the report.
struct Rewrite {
  // Float tensor -> the tensor carrying its quantized-dequantized value in the optimized graph.
  std::map<std::string, std::string> renamed;
  data::OutputQuantization output_dq;  // int8-only: the int8 output's scale and zero point
  Images quant_images;                 // the calibration images as the optimized model takes them
};

// InputError for options no recipe runs with; the calibration method otherwise.
CalibrationMethod checked_calibration_method(const OptimizeOptions& options) {
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
  return method;
}

// InputError for a model the recipes cannot take, naming the file and the fix.
ParentModel read_parent(const std::filesystem::path& in) {
  ParentModel parent{.model = onnx::read_model(in)};
  const std::string source = in.string();
  try {
    onnx::check_model(parent.model, source);
  } catch (const InputError& e) {
    throw InputError(std::string(e.what()) +
                     " (this is the input model: fix or re-export it before optimizing)");
  }
  const ::onnx::GraphProto& g = parent.model.graph();
  if (onnx::default_opset(parent.model) < 13)
    throw InputError(source + ": opset " + std::to_string(onnx::default_opset(parent.model)) +
                     " is too old for per-channel quantization; re-export with opset 13 or newer");
  if (g.input_size() != 1 || g.output_size() != 1)
    throw InputError(source + ": the recipes handle models with one input and one output");
  parent.meta = data::metadata_from_props(onnx::metadata(parent.model), source);
  if (parent.meta.recipe != "baseline" && !parent.meta.recipe.empty())
    throw InputError(source + ": already optimized (recipe " + parent.meta.recipe +
                     "); optimize the float parent instead");
  return parent;
}

// The preprocessing of an int8-only model: raw pixel values in, no scaling or normalization.
data::PreprocessSpec raw_pixels(data::PreprocessSpec spec) {
  spec.scale = 1.0;
  spec.mean = {0.0, 0.0, 0.0};
  spec.std = {1.0, 1.0, 1.0};
  return spec;
}

// int8 / int8-only: static QDQ with activation ranges calibrated on `images` (on raw pixels for
// int8-only, whose first layer then normalizes).
Rewrite quantize_calibrated(::onnx::ModelProto& model, const OptimizeOptions& options,
                            const data::PreprocessSpec& preprocess, CalibrationMethod method,
                            const Images& images, json& params) {
  Rewrite rewrite{.quant_images = images};
  const bool int8_only = options.recipe == "int8-only";
  if (int8_only) {
    prepend_normalization(model, preprocess.scale, preprocess.mean, preprocess.std);
    rewrite.quant_images = calibration_images(options.calib, raw_pixels(preprocess),
                                              options.calib_images, options.seed);
  }
  fold_batchnorm_into_conv(model);
  const auto points = activation_points(model, int8_only);
  const auto ranges = calibrate(model, points, int8_only ? rewrite.quant_images : images, method);
  const StaticQuantization q = quantize_static(model, ranges, {.int8_only = int8_only});
  rewrite.renamed = q.dequantized;
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
    rewrite.output_dq = {.scale = q.output.scale, .zero_point = q.output.zero_point};
    params["input"] = "uint8 pixels (normalization folded into the first layer)";
    params["output"] = {
        {"type", "int8"}, {"scale", q.output.scale}, {"zero_point", q.output.zero_point}};
  }
  return rewrite;
}

// Rewrites `model` as options.recipe says and records the recipe's parameters in `params`.
Rewrite apply_recipe(::onnx::ModelProto& model, const OptimizeOptions& options,
                     const data::PreprocessSpec& preprocess, CalibrationMethod method,
                     const Images& images, json& params) {
  if (options.recipe == "float16" || options.recipe == "bf16") {
    convert_weights_to_half(model, options.recipe == "bf16");
    if (options.recipe == "bf16") onnx::set_metadata(model, "pitlane.compute", "bf16");
    return {.quant_images = images};
  }
  if (options.recipe == "dynamic-int8") {
    quantize_dynamic(model);
    params["weights"] = "int8 symmetric per output channel";
    params["activations"] = "uint8 per tensor, per inference (DynamicQuantizeLinear)";
    return {.quant_images = images};
  }
  return quantize_calibrated(model, options, preprocess, method, images, params);
}

// The float model on normalized images against the optimized one on its own input, layer by
// layer ("layers"), and the three layers with the lowest SQNR ("worst_layers").
void add_layer_comparison(json& report, const ::onnx::ModelProto& reference,
                          const ::onnx::ModelProto& model, const Rewrite& rewrite,
                          const Images& images) {
  const auto pairs = layer_pairs(reference, rewrite.renamed, rewrite.output_dq);
  json layers = compare_layers(reference, model, pairs, images, rewrite.quant_images);
  report["layers"] = layers;
  std::vector<std::pair<double, std::string>> by_sqnr;
  for (const auto& l : layers) by_sqnr.emplace_back(l["sqnr_db"], l["layer"]);
  std::sort(by_sqnr.begin(), by_sqnr.end());
  json worst = json::array();
  for (size_t i = 0; i < std::min<size_t>(3, by_sqnr.size()); ++i)
    worst.push_back(by_sqnr[i].second);
  report["worst_layers"] = worst;
}

}  // namespace

std::vector<std::string> recipe_names() {
  return {"float16", "bf16", "dynamic-int8", "int8", "int8-only"};
}

OptimizeResult optimize_model(const std::filesystem::path& in, const std::filesystem::path& out,
                              const OptimizeOptions& options) {
  const CalibrationMethod method = checked_calibration_method(options);
  check_writable(out);
  const ParentModel parent = read_parent(in);

  OptimizeResult result;
  result.parent_sha256 = sha256_file(in);
  json params = {{"recipe", options.recipe}};
  Images images;
  if (!options.calib.empty()) {
    std::vector<std::string> calib_names;
    for (const auto& c : options.calib) calib_names.push_back(c.filename().string());
    images = calibration_images(options.calib, parent.meta.preprocess, options.calib_images,
                                options.seed);
    params["calibration"] = {
        {"recordings", calib_names}, {"images", images.size()}, {"seed", options.seed}};
  }
  ::onnx::ModelProto model = parent.model;
  const Rewrite rewrite =
      apply_recipe(model, options, parent.meta.preprocess, method, images, params);

  // Provenance and the parent's metadata (preprocessing, outputs, ...) carried over.
  data::ModelMetadata meta = parent.meta;
  meta.recipe = options.recipe;
  meta.parent = in.filename().string() + " sha256:" + result.parent_sha256;
  if (options.recipe == "int8-only") {
    meta.preprocess = raw_pixels(meta.preprocess);
    meta.output_quantization = rewrite.output_dq;
  }
  for (const auto& [k, v] : data::to_props(meta)) onnx::set_metadata(model, k, v);
  onnx::set_metadata(model, "pitlane.optimize", params.dump());
  model.set_producer_name("pitlane optimize");

  onnx::check_model(model, out.string());
  json report = {{"recipe", options.recipe},
                 {"parameters", params},
                 {"parent", meta.parent},
                 {"parent_size_bytes", parent.model.ByteSizeLong()},
                 {"size_bytes", model.ByteSizeLong()}};
  if (!images.empty()) add_layer_comparison(report, parent.model, model, rewrite, images);
  onnx::write_model(model, out);
  result.size_bytes = static_cast<int64_t>(model.ByteSizeLong());
  result.report = std::move(report);
  return result;
}

}  // namespace pitlane::quant
