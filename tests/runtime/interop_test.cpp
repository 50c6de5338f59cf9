// ONNX Runtime as the independent oracle: the same files through tools/interop/ort_run.js
// (npm onnxruntime-node), compared with the reference and oneDNN backends within 1e-4.
// Skips when node or tools/interop/node_modules is missing (CI installs both).
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "onnx_builder.h"
#include "pitlane/runtime/npy.h"
#include "test_util.h"

namespace pitlane::runtime {
namespace {

using namespace testing;
namespace fs = std::filesystem;

bool have_ort() {
  return std::system("node --version > /dev/null 2>&1") == 0 &&
         fs::exists(fs::path(PITLANE_SOURCE_DIR) / "tools/interop/node_modules/onnxruntime-node");
}

struct Case {
  const char* name;
  Padding padding;
  Exporter exporter;
  int64_t opset;
};

class OrtInterop : public ::testing::TestWithParam<Case> {};

TEST_P(OrtInterop, BackendsMatchOnnxRuntime) {
  if (!have_ort()) GTEST_SKIP() << "node or tools/interop/node_modules missing";
  const Case c = GetParam();
  const fs::path dir = fs::temp_directory_path() / ("pitlane_interop_" + std::string(c.name) + "_" +
                                                    std::to_string(::getpid()));
  fs::create_directories(dir);
  const std::string bytes = pilotnet_onnx(c.padding, c.exporter, c.opset, 21);
  { std::ofstream(dir / "model.onnx", std::ios::binary) << bytes; }
  const Model model = Model::from_bytes(bytes, c.name);
  const int64_t batch = 2;
  std::vector<int64_t> shape = model.inputs()[0].shape;
  shape[0] = batch;
  const auto x = random_input(element_count(shape), 77);
  write_npy(dir / "x.npy", shape, x);
  const std::string cmd =
      "node " + (fs::path(PITLANE_SOURCE_DIR) / "tools/interop/ort_run.js").string() + " " +
      (dir / "model.onnx").string() + " " + (dir / "out").string() +
      " image=" + (dir / "x.npy").string() + " > " + (dir / "log.txt").string() + " 2>&1";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  const NpyArray ort = read_npy(dir / "out" / "vw.npy");
  EXPECT_EQ(ort.shape, (std::vector<int64_t>{batch, 2}));
  const auto ref = run_model(model, Backend::reference, batch, x);
  const auto dnn = run_model(model, Backend::onednn, batch, x);
  EXPECT_LT(max_abs_diff(ort.data, ref), 1e-4f);
  EXPECT_LT(max_abs_diff(ort.data, dnn), 1e-4f);
  fs::remove_all(dir);
}

INSTANTIATE_TEST_SUITE_P(
    PilotNet, OrtInterop,
    ::testing::Values(Case{"valid", Padding::valid, Exporter::pitlane, 17},
                      Case{"same", Padding::same, Exporter::pitlane, 17},
                      Case{"torch_opset11", Padding::valid, Exporter::torch, 11},
                      Case{"torch_opset17_same", Padding::same, Exporter::torch, 17},
                      Case{"keras_opset13", Padding::valid, Exporter::keras, 13},
                      Case{"keras_opset21_same", Padding::same, Exporter::keras, 21}),
    [](const auto& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace pitlane::runtime
