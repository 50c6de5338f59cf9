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

#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace pitlane::quant {

struct OptimizeOptions {
  std::string recipe;                        // one of recipe_names()
  std::vector<std::filesystem::path> calib;  // recording folders (needed by int8, int8-only)
  std::string calib_method = "minmax";       // minmax | percentile | entropy | mse
  int calib_images = 100;                    // frames drawn from the recordings
  std::uint64_t seed = 0;                    // which frames are drawn
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

}  // namespace pitlane::quant
