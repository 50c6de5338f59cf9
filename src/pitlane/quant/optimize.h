// Post-training optimization of a pitlane (or any PilotNet-shaped) ONNX model: one call from a
// float model to an optimized one, with its provenance in the metadata and a float-vs-optimized
// report.
//
// Recipes (DESIGN.md "Optimization recipes"):
//   float16       weights stored fp16, widened by Cast nodes (about half the file)
//   bf16          weights stored bf16 (Cast nodes); pitlane.compute=bf16 asks for bf16 compute
//                 where the CPU has it (the runtime computes in fp32 elsewhere)
//   dynamic-int8  int8 per-channel weights, activations quantized per inference
//                 (DynamicQuantizeLinear + ConvInteger / MatMulInteger, as ONNX Runtime writes it)
//   int8          static QDQ: int8 symmetric per-output-channel weights, uint8 per-tensor
//                 activations calibrated on recordings, int32 bias; float input and output
//   int8-only     as int8 with uint8 pixels in (normalization folded into the first layer) and an
//                 int8 output whose scale / zero point are in pitlane.output_quantization
//
//   OptimizeOptions o{.recipe = "int8", .calib = {"rec/many_curves_cw"}};
//   OptimizeResult r = optimize_model("pilotnet.onnx", "pilotnet_int8.onnx", o);
//   std::cout << report_table(r.report);
//
// Every written model passes onnx::checker::check_model and is written atomically; it records
// pitlane.recipe, pitlane.parent ("file.onnx sha256:HEX") and pitlane.optimize (the parameters)
// and keeps the parent's other metadata (preprocessing, output ranges, ...).
#pragma once

#include <onnx/onnx_pb.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "pitlane/data/model_metadata.h"
#include "pitlane/quant/observer.h"

namespace pitlane::quant {

struct OptimizeOptions {
  std::string recipe;                        // one of recipe_names()
  std::vector<std::filesystem::path> calib;  // recording folders (needed by int8, int8-only)
  std::string calib_method = "minmax";       // minmax | percentile | entropy | mse
  int calib_images = 100;                    // frames drawn from the recordings
  std::uint64_t seed = 0;                    // which frames are drawn
  // Recording folders whose frames the report compares on (held-out real frames; as many as
  // calib_images); empty: the calibration frames.
  std::vector<std::filesystem::path> report_data;
};

struct OptimizeResult {
  // {"recipe", "parameters", "parent", "size_bytes", "parent_size_bytes", "layers": [{"layer",
  //  "tensor", "sqnr_db", "cosine", "max_abs_error"}], "worst_layers": [...]}; layers are compared
  // on the calibration images when --calib folders were given.
  nlohmann::json report;
  std::string parent_sha256;  // hex digest of the input file
  int64_t size_bytes = 0;     // the written file
};

// InputError (one line naming the file and the fix) for unknown recipes, missing calibration
// data, or models the recipe cannot handle; nothing is written then.
OptimizeResult optimize_model(const std::filesystem::path& in, const std::filesystem::path& out,
                              const OptimizeOptions& options);

std::vector<std::string> recipe_names();

// Mixed precision, the building block of the auto recipe (autotune/): the float parent read and
// checked as optimize_model reads it, prepared as the int8 recipe prepares it (batch norms
// folded) and calibrated once for every activation point; any subset of its layers can then be
// made int8 while the others stay fp32. quantize_layers(base, every layer) is the int8 recipe's
// graph.
//
//   StaticBase base = prepare_static("pilotnet.onnx", {.calib = {"rec/many_curves_cw"}});
//   MixedModel m = quantize_layers(base, {"conv2", "conv3"});   // the other layers fp32
struct StaticBase {
  ::onnx::ModelProto parent;               // the float model as read
  ::onnx::ModelProto prepared;             // batch norms folded: every candidate is cut from it
  std::string parent_name;                 // its file name
  std::string parent_sha256;               // hex digest of its file
  data::ModelMetadata meta;                // its metadata (preprocessing, output ranges, ...)
  std::vector<std::string> layers;         // quantizable layers, graph order
  std::map<std::string, Range> ranges;     // every activation point of the all-int8 model
  std::vector<std::vector<float>> images;  // the calibration frames, preprocessed
  std::vector<std::vector<float>> report_images;  // the frames reports compare on
  nlohmann::json report_frames;                   // where those come from (report "frames")
  nlohmann::json params;  // the calibration's parameters, for pitlane.optimize
};
// InputError as optimize_model's (no --calib, unreadable or already optimized model, ...).
StaticBase prepare_static(const std::filesystem::path& in, const OptimizeOptions& options);

struct MixedModel {
  ::onnx::ModelProto model;  // QDQ around the int8 layers, the rest as in base.prepared; the
                             // parent's metadata is not set yet
  std::map<std::string, std::string> renamed;  // float tensor -> its dequantized tensor
  nlohmann::json params;  // base.params, the activation parameters and "layer_precision"
};
// InputError when `int8_layers` names a layer base.layers does not hold.
MixedModel quantize_layers(const StaticBase& base, const std::set<std::string>& int8_layers);

// The report's per-layer part (the debugger, report.h) for any optimized model of `reference`:
// {"layers": one row per quantizable layer of `reference` and the output, "worst_layers" (lowest
// SQNR), "worst_own_layers" (lowest own SQNR)}. `prepared` is the float model the optimized one
// was rewritten from (its layers' float twins); `renamed` maps float tensors to the optimized
// model's dequantized ones; `images` feed the reference, `quant_images` the optimized model
// (the same frames, raw pixels for int8-only).
nlohmann::json compare_report(const ::onnx::ModelProto& reference,
                              const ::onnx::ModelProto& prepared,
                              const ::onnx::ModelProto& optimized,
                              const std::map<std::string, std::string>& renamed,
                              const data::OutputQuantization& output_dq,
                              const std::vector<std::vector<float>>& images,
                              const std::vector<std::vector<float>>& quant_images);

}  // namespace pitlane::quant
