// pitlane optimize: post-training optimization of an ONNX model (float16, bf16, dynamic-int8,
// int8, int8-only) with a float-vs-optimized report.
#include <iostream>
#include <opencv2/core.hpp>

#include "commands.h"
#include "pitlane/core/files.h"
#include "pitlane/quant/optimize.h"
#include "pitlane/quant/report.h"

namespace fs = std::filesystem;

namespace pitlane::cli {

void add_optimize_command(CLI::App& app) {
  struct Args {
    std::string model, out, report;
    std::vector<std::string> calib;
    quant::OptimizeOptions options;
  };
  auto a = std::make_shared<Args>();
  auto* cmd = app.add_subcommand(
      "optimize",
      "Optimize an ONNX model after training: float16, bf16, dynamic-int8, int8 (static QDQ, "
      "calibrated on recordings) or int8-only (uint8 pixels in, int8 out); prints SQNR and "
      "cosine similarity per layer against the float model\n\nExamples:\n"
      "  pitlane optimize --model pilotnet.onnx --recipe float16 --out pilotnet_fp16.onnx\n"
      "  pitlane optimize --model pilotnet.onnx --recipe dynamic-int8 --out pilotnet_dyn.onnx\n"
      "  pitlane optimize --model pilotnet.onnx --recipe int8 --out pilotnet_int8.onnx \\\n"
      "      --calib rec/many_curves_cw --calib-method entropy --report int8.json\n"
      "  pitlane optimize --model pilotnet.onnx --recipe int8-only --out pilotnet_u8.onnx \\\n"
      "      --calib rec/many_curves_cw rec/simple_circuit_cw --calib-images 200");
  cmd->add_option("--model", a->model, "Float ONNX model")->required();
  cmd->add_option("--recipe", a->options.recipe, "float16 | bf16 | dynamic-int8 | int8 | int8-only")
      ->required();
  cmd->add_option("--out", a->out, "Optimized ONNX model to write")->required();
  cmd->add_option("--calib", a->calib,
                  "Recording folders for calibration (int8, int8-only) and the report");
  cmd->add_option("--calib-method", a->options.calib_method, "minmax | percentile | entropy | mse")
      ->capture_default_str();
  cmd->add_option("--calib-images", a->options.calib_images, "Frames drawn for calibration")
      ->capture_default_str();
  cmd->add_option("--seed", a->options.seed, "Which frames are drawn")->capture_default_str();
  cmd->add_option("--report", a->report, "Report JSON file (per-layer SQNR, cosine, worst layers)");
  cmd->callback([a] {
    if (!a->report.empty()) check_writable(a->report);
    cv::setNumThreads(1);
    a->options.calib.assign(a->calib.begin(), a->calib.end());
    const quant::OptimizeResult r = quant::optimize_model(a->model, a->out, a->options);
    std::cout << quant::report_table(r.report);
    std::cout << "wrote " << a->out << " (" << r.size_bytes << " bytes)\n";
    if (!a->report.empty()) write_file_atomic(a->report, r.report.dump(2) + "\n");
  });
}

}  // namespace pitlane::cli
