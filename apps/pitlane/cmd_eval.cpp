// pitlane eval: offline evaluation of an ONNX driving model on recordings.
#include <iostream>
#include <opencv2/core.hpp>

#include "commands.h"
#include "options.h"
#include "pitlane/core/files.h"
#include "pitlane/eval/offline_eval.h"

namespace fs = std::filesystem;

namespace pitlane::cli {

void add_eval_command(CLI::App& app) {
  struct Args {
    std::string model, out;
    std::vector<std::string> data;
    eval::EvalConfig config;
  };
  auto a = std::make_shared<Args>();
  auto* cmd = app.add_subcommand(
      "eval",
      "Evaluate an ONNX driving model offline: MSE/MAE on normalized labels, errors in m/s and "
      "rad/s, per recording, model size raw and gzipped\n\nExamples:\n"
      "  pitlane eval --model pilotnet.onnx --data rec/simple_circuit_cw rec/montreal_ccw\n"
      "  pitlane eval --model pilotnet.onnx --data rec/montmelo_cw --out eval.json");
  cmd->add_option("--model", a->model, "ONNX model (image [N,3,66,200] -> [N,2])")->required();
  cmd->add_option("--data", a->data, "Recording folders (N.png + data.csv)")->required();
  cmd->add_option("--out", a->out, "Results JSON file");
  cmd->add_option("--batch", a->config.batch_size, "Images per inference")
      ->capture_default_str()
      ->check(whole_in(1, 4096));
  cmd->add_option("--threads", a->config.threads, "Inference threads")
      ->capture_default_str()
      ->check(whole_in(1, kMaxThreads));
  cmd->callback([a] {
    std::vector<fs::path> dirs(a->data.begin(), a->data.end());
    if (!a->out.empty()) {
      check_writable(a->out);
      std::vector<fs::path> inputs = dirs;
      inputs.push_back(a->model);
      check_not_an_input(a->out, inputs);
    }
    cv::setNumThreads(1);
    const eval::EvalReport report = eval::evaluate_model(a->model, dirs, a->config);
    std::cout << eval::eval_table(report);
    if (!a->out.empty()) write_file_atomic(a->out, eval::eval_json(report));
  });
}

}  // namespace pitlane::cli
