// pitlane infer: runs an ONNX model on a NumPy .npy batch and writes the outputs as .npy.
#include <algorithm>
#include <iostream>

#include "commands.h"
#include "options.h"
#include "pitlane/core/error.h"
#include "pitlane/core/files.h"
#include "pitlane/runtime/model.h"
#include "pitlane/runtime/npy.h"

namespace pitlane::cli {

void add_infer_command(CLI::App& app) {
  auto* cmd =
      app.add_subcommand("infer", "Run a model on a .npy input (any batch), write .npy outputs")
          ->footer(
              "Example:\n  pitlane infer --model pilotnet.onnx --input x.npy --output vw.npy\n"
              "A model with several outputs writes the first to --output and the others\n"
              "beside it as <output stem>.<name>.npy (the name reduced to letters, digits,\n"
              "'.', '-' and '_', so a model cannot write outside that folder).");
  struct Args {
    std::string model, input, output, backend = "auto";
    int threads = 1;
  };
  auto args = std::make_shared<Args>();
  cmd->add_option("--model", args->model, "ONNX model")->required();
  cmd->add_option("--input", args->input, "float32 .npy, shape = the model's input with any batch")
      ->required();
  cmd->add_option("--output", args->output, ".npy file for the (first) output")->required();
  cmd->add_option("--backend", args->backend, "auto | reference | onednn")->capture_default_str();
  cmd->add_option("--threads", args->threads, "kernel threads")
      ->capture_default_str()
      ->check(whole_in(1, kMaxThreads));
  cmd->callback([args] {
    using namespace pitlane::runtime;
    const Backend backend = parse_backend(args->backend);
    check_writable(args->output);
    check_not_an_input(args->output, {args->model, args->input});
    const Model model = Model::load(args->model);
    if (model.inputs().size() != 1)
      throw InputError(args->model + ": the model takes " + std::to_string(model.inputs().size()) +
                       " inputs; pitlane infer feeds exactly one");
    const NpyArray x = read_npy(args->input);
    const auto& want = model.inputs()[0].shape;
    bool ok = x.shape.size() == want.size() && !x.shape.empty() && x.shape[0] >= 1;
    for (size_t i = 1; ok && i < want.size(); ++i) ok = x.shape[i] == want[i];
    if (ok && want[0] > 0) ok = x.shape[0] == want[0];
    if (!ok) {
      std::string w, h;
      for (size_t i = 0; i < want.size(); ++i)
        w += (i ? "," : "") + (want[i] < 0 ? std::string("N") : std::to_string(want[i]));
      for (size_t i = 0; i < x.shape.size(); ++i) h += (i ? "," : "") + std::to_string(x.shape[i]);
      throw InputError(args->input + ": shape [" + h + "] does not match the model's input '" +
                       model.inputs()[0].name + "' [" + w + "]");
    }
    // Every output's file, decided (and checked) before anything runs or is written.
    const std::filesystem::path out_path(args->output);
    std::vector<std::filesystem::path> paths = {out_path};
    for (size_t i = 1; i < model.outputs().size(); ++i) {
      const std::string stem =
          out_path.stem().string() + "." + safe_file_name(model.outputs()[i].name);
      std::filesystem::path p = out_path.parent_path() / (stem + ".npy");
      for (int k = 2; std::find(paths.begin(), paths.end(), p) != paths.end(); ++k)
        p = out_path.parent_path() / (stem + "_" + std::to_string(k) + ".npy");
      check_not_an_input(p, {args->model, args->input});
      paths.push_back(p);
    }
    Session session(model, {.backend = backend, .threads = args->threads, .batch = x.shape[0]});
    std::vector<std::vector<float>> outs;
    std::vector<std::span<float>> out_spans;
    for (const auto& o : session.outputs()) outs.emplace_back(o.element_count());
    for (auto& o : outs) out_spans.emplace_back(o);
    const std::span<const float> in_spans[1] = {x.data};
    session.run(in_spans, out_spans);
    for (size_t i = 0; i < outs.size(); ++i) {
      write_npy(paths[i], session.outputs()[i].shape, outs[i]);
      std::cout << "wrote " << paths[i].string() << " ("
                << printable_message(session.outputs()[i].name) << ")\n";
    }
  });
}

}  // namespace pitlane::cli
