#include "pitlane/quant/optimize.h"

#include <algorithm>
#include <set>

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

// The layers a report compares: each quantizable node's result (after its Relu), named by node,
// with the tensor `optimized` feeds the node of that name and the precision it computes in.
std::vector<LayerPair> layer_pairs(const ::onnx::ModelProto& float_model,
                                   const ::onnx::ModelProto& optimized,
                                   const std::map<std::string, std::string>& renamed,
                                   const data::OutputQuantization& output_dq) {
  const ::onnx::GraphProto& g = float_model.graph();
  const ::onnx::GraphProto& og = optimized.graph();
  std::vector<LayerPair> pairs;
  const std::string output = g.output(0).name();
  for (const auto& n : g.node()) {
    if (!is_quantizable(g, n)) continue;
    std::string t = n.output(0);
    const auto readers = onnx::readers_of(g, t);
    if (readers.size() == 1 && g.node(readers[0]).op_type() == "Relu" &&
        !onnx::is_graph_output(g, t))
      t = g.node(readers[0]).output(0);
    LayerPair p{.layer = layer_name(n), .float_tensor = t, .quant_tensor = t};
    if (auto it = renamed.find(t); it != renamed.end() && t != output) p.quant_tensor = it->second;
    if (t == output) p.dq = output_dq;
    for (const auto& q : og.node())
      if (layer_name(q) == p.layer && q.op_type() == n.op_type()) p.quant_input = q.input(0);
    p.precision = layer_precision(optimized, p.layer);
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
  Images quant_images;                 // the compared images as the optimized model takes them
  // The float model the recipe rewrote (batch norms folded, ...): the layers' float twins.
  ::onnx::ModelProto prepared;
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

// The frames a recipe calibrates on and the ones its report compares on (the same unless
// --report-data names other recordings), preprocessed as the float model takes them.
struct Frames {
  Images calib;
  Images compared;
};

// The recorded parameters of a static quantization.
void record_static_params(json& params, CalibrationMethod method, const StaticQuantization& q) {
  params["calib_method"] = calibration_method_name(method);
  params["weights"] = "int8 symmetric per output channel";
  params["activations"] = "uint8 per tensor (static, calibrated)";
  params["bias"] = "int32 at x_scale * w_scale";
  params["format"] = "QDQ";
  json act = json::object();
  for (const auto& [name, a] : q.params)
    act[name] = {{"scale", a.scale}, {"zero_point", a.zero_point}};
  params["activation_params"] = act;
}

// int8 / int8-only: static QDQ with activation ranges calibrated on the calibration frames (on
// raw pixels for int8-only, whose first layer then normalizes).
Rewrite quantize_calibrated(::onnx::ModelProto& model, const OptimizeOptions& options,
                            const data::PreprocessSpec& preprocess, CalibrationMethod method,
                            const Frames& frames, json& params) {
  Rewrite rewrite{.quant_images = frames.compared};
  const bool int8_only = options.recipe == "int8-only";
  Images calib = frames.calib;
  if (int8_only) {
    prepend_normalization(model, preprocess.scale, preprocess.mean, preprocess.std);
    calib = calibration_images(options.calib, raw_pixels(preprocess), options.calib_images,
                               options.seed);
    rewrite.quant_images = options.report_data.empty()
                               ? calib
                               : calibration_images(options.report_data, raw_pixels(preprocess),
                                                    options.calib_images, options.seed);
  }
  fold_batchnorm_into_conv(model);
  rewrite.prepared = model;
  const auto points = activation_points(model, int8_only);
  const auto ranges = calibrate(model, points, calib, method);
  const StaticQuantization q = quantize_static(model, ranges, {.int8_only = int8_only});
  rewrite.renamed = q.dequantized;
  record_static_params(params, method, q);
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
                     const Frames& frames, json& params) {
  if (options.recipe == "float16" || options.recipe == "bf16") {
    Rewrite r{.quant_images = frames.compared, .prepared = model};
    convert_weights_to_half(model, options.recipe == "bf16");
    if (options.recipe == "bf16") onnx::set_metadata(model, "pitlane.compute", "bf16");
    return r;
  }
  if (options.recipe == "dynamic-int8") {
    Rewrite r{.quant_images = frames.compared, .prepared = model};
    quantize_dynamic(model);
    params["weights"] = "int8 symmetric per output channel";
    params["activations"] = "uint8 per tensor, per inference (DynamicQuantizeLinear)";
    return r;
  }
  return quantize_calibrated(model, options, preprocess, method, frames, params);
}

// The recording folders' names, for the parameters.
std::vector<std::string> folder_names(const std::vector<std::filesystem::path>& dirs) {
  std::vector<std::string> names;
  for (const auto& c : dirs) names.push_back(c.filename().string());
  return names;
}

// Calibration and report frames of `options` (none without --calib).
Frames read_frames(const OptimizeOptions& options, const data::PreprocessSpec& preprocess,
                   json& params) {
  Frames f;
  if (options.calib.empty()) return f;
  f.calib = calibration_images(options.calib, preprocess, options.calib_images, options.seed);
  params["calibration"] = {{"recordings", folder_names(options.calib)},
                           {"images", f.calib.size()},
                           {"seed", options.seed}};
  f.compared = options.report_data.empty() ? f.calib
                                           : calibration_images(options.report_data, preprocess,
                                                                options.calib_images, options.seed);
  return f;
}

// Where the report's frames come from, for the report.
json frames_description(const OptimizeOptions& options, size_t images) {
  const auto& dirs = options.report_data.empty() ? options.calib : options.report_data;
  std::string source;
  for (const auto& n : folder_names(dirs)) source += (source.empty() ? "" : ", ") + n;
  return {{"source", source},
          {"images", images},
          {"held_out", !options.report_data.empty()},
          {"seed", options.seed}};
}

void check_frame_counts(const OptimizeOptions& options) {
  if (options.calib_images < 1 || options.calib_images > 100000)
    throw InputError("--calib-images " + std::to_string(options.calib_images) +
                     " is out of range; use 1 to 100000");
  if (!options.report_data.empty() && options.calib.empty())
    throw InputError("--report-data needs --calib (the recordings the recipe calibrates on)");
}

}  // namespace

std::vector<std::string> recipe_names() {
  return {"float16", "bf16", "dynamic-int8", "int8", "int8-only"};
}

nlohmann::json compare_report(const ::onnx::ModelProto& reference,
                              const ::onnx::ModelProto& prepared,
                              const ::onnx::ModelProto& optimized,
                              const std::map<std::string, std::string>& renamed,
                              const data::OutputQuantization& output_dq, const Images& images,
                              const Images& quant_images) {
  const auto pairs = layer_pairs(reference, optimized, renamed, output_dq);
  json layers = compare_layers({.reference = reference, .optimized = optimized, .twins = prepared},
                               pairs, images, quant_images);
  auto worst = [&](const char* key) {
    std::vector<std::pair<double, std::string>> by;
    for (const auto& l : layers)
      if (l[key].is_number()) by.emplace_back(l[key].get<double>(), l["layer"]);
    std::stable_sort(by.begin(), by.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    json w = json::array();
    for (size_t i = 0; i < std::min<size_t>(3, by.size()); ++i) w.push_back(by[i].second);
    return w;
  };
  json out = {{"layers", layers}};
  out["worst_layers"] = worst("sqnr_db");
  out["worst_own_layers"] = worst("own_sqnr_db");
  return out;
}

StaticBase prepare_static(const std::filesystem::path& in, const OptimizeOptions& options) {
  const CalibrationMethod method = parse_calibration_method(options.calib_method);
  if (options.calib.empty())
    throw InputError(
        "mixed precision calibrates activations on recordings; pass --calib DIR "
        "(recording folders)");
  check_frame_counts(options);
  ParentModel parent = read_parent(in);
  StaticBase base;
  base.parent_sha256 = sha256_file(in);
  base.parent_name = in.filename().string();
  base.meta = std::move(parent.meta);
  base.params = {{"calib_method", calibration_method_name(method)}};
  const Frames frames = read_frames(options, base.meta.preprocess, base.params);
  base.images = frames.calib;
  base.report_images = frames.compared;
  base.report_frames = frames_description(options, frames.compared.size());
  base.prepared = parent.model;
  base.parent = std::move(parent.model);
  fold_batchnorm_into_conv(base.prepared);
  base.layers = quantizable_layers(base.prepared);
  if (base.layers.empty())
    throw InputError(in.string() +
                     ": no layer to quantize (Conv, Gemm or MatMul with constant "
                     "float weights)");
  base.ranges =
      calibrate(base.prepared, activation_points(base.prepared, false), base.images, method);
  return base;
}

MixedModel quantize_layers(const StaticBase& base, const std::set<std::string>& int8_layers) {
  MixedModel m{.model = base.prepared};
  const StaticQuantization q = quantize_static(m.model, base.ranges, {.layers = int8_layers});
  m.renamed = q.dequantized;
  m.params = base.params;
  record_static_params(m.params, parse_calibration_method(base.params["calib_method"]), q);
  json precision = json::object();
  for (const auto& l : base.layers) precision[l] = int8_layers.count(l) ? "int8" : "fp32";
  m.params["layer_precision"] = precision;
  return m;
}

OptimizeResult optimize_model(const std::filesystem::path& in, const std::filesystem::path& out,
                              const OptimizeOptions& options) {
  const CalibrationMethod method = checked_calibration_method(options);
  check_frame_counts(options);
  check_writable(out);
  const ParentModel parent = read_parent(in);

  OptimizeResult result;
  result.parent_sha256 = sha256_file(in);
  json params = {{"recipe", options.recipe}};
  const Frames frames = read_frames(options, parent.meta.preprocess, params);
  ::onnx::ModelProto model = parent.model;
  const Rewrite rewrite =
      apply_recipe(model, options, parent.meta.preprocess, method, frames, params);

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
  if (!frames.compared.empty()) {
    const json c = compare_report(parent.model, rewrite.prepared, model, rewrite.renamed,
                                  rewrite.output_dq, frames.compared, rewrite.quant_images);
    for (const auto& [k, v] : c.items()) report[k] = v;
    report["frames"] = frames_description(options, frames.compared.size());
  }
  onnx::write_model(model, out);
  result.size_bytes = static_cast<int64_t>(model.ByteSizeLong());
  result.report = std::move(report);
  return result;
}

}  // namespace pitlane::quant
