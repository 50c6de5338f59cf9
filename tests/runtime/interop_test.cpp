// ONNX Runtime as the independent oracle: the same files through tools/interop/ort_run.js
// (npm onnxruntime-node), compared with the reference and oneDNN backends within 1e-4.
// Fails when node or tools/interop/node_modules is missing (scripts/install-deps.sh installs both).
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>

#include "onnx_builder.h"
#include "pitlane/onnx/edit.h"
#include "pitlane/onnx/tensor.h"
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

// `bytes` (a PilotNet) run by ONNX Runtime on `batch` seeded random inputs, in a scratch folder
// named `name`: the inputs and ONNX Runtime's vw output.
struct OrtRun {
  std::vector<float> x;
  NpyArray vw;
};
OrtRun run_in_ort(const std::string& name, const std::string& bytes, const Model& model,
                  int64_t batch, uint32_t seed) {
  const fs::path dir =
      fs::temp_directory_path() / ("pitlane_interop_" + name + "_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  { std::ofstream(dir / "model.onnx", std::ios::binary) << bytes; }
  std::vector<int64_t> shape = model.inputs()[0].shape;
  shape[0] = batch;
  OrtRun run;
  run.x = random_input(element_count(shape), seed);
  write_npy(dir / "x.npy", shape, run.x);
  const std::string cmd =
      "node " + (fs::path(PITLANE_SOURCE_DIR) / "tools/interop/ort_run.js").string() + " " +
      (dir / "model.onnx").string() + " " + (dir / "out").string() +
      " image=" + (dir / "x.npy").string() + " > " + (dir / "log.txt").string() + " 2>&1";
  if (std::system(cmd.c_str()) != 0) {
    throw std::runtime_error(cmd + " failed: " + (dir / "log.txt").string());
  }
  run.vw = read_npy(dir / "out" / "vw.npy");
  fs::remove_all(dir);
  return run;
}

struct Case {
  const char* name;
  Padding padding;
  Exporter exporter;
  int64_t opset;
};

class OrtInterop : public ::testing::TestWithParam<Case> {};

TEST_P(OrtInterop, BackendsMatchOnnxRuntime) {
  if (!have_ort())
    FAIL() << "node or tools/interop/node_modules missing: run scripts/install-deps.sh";
  const Case c = GetParam();
  const std::string bytes = pilotnet_onnx(c.padding, c.exporter, c.opset, 21);
  const Model model = Model::from_bytes(bytes, c.name);
  const int64_t batch = 2;
  const OrtRun run = run_in_ort(c.name, bytes, model, batch, 77);
  const NpyArray& ort = run.vw;
  EXPECT_EQ(ort.shape, (std::vector<int64_t>{batch, 2}));
  const auto ref = run_model(model, Backend::reference, batch, run.x);
  const auto dnn = run_model(model, Backend::onednn, batch, run.x);
  EXPECT_LT(max_abs_diff(ort.data, ref), 1e-4f);
  EXPECT_LT(max_abs_diff(ort.data, dnn), 1e-4f);
}

// PilotNet as ONNX Runtime's float16 converter writes it with float32 inputs and outputs kept
// (keep_io_types): float16 initializers, a Cast to float16 after the input and a Cast to float
// before the output. pitlane computes it in float32; ONNX Runtime's CPU provider rounds to
// float16 after each operator, so the two agree to float16 precision, not to 1e-4.
std::string float16_model(const std::string& float_bytes) {
  ::onnx::ModelProto m;
  m.ParseFromString(float_bytes);
  auto& g = *m.mutable_graph();
  g.clear_value_info();
  for (auto& t : *g.mutable_initializer()) {
    if (t.data_type() != ::onnx::TensorProto::FLOAT) continue;
    const std::vector<float> v = onnx::tensor_floats(t);
    t = onnx::half_tensor(t.name(), {t.dims().begin(), t.dims().end()}, v, false);
  }
  const std::string in = g.input(0).name(), out = g.output(0).name();
  for (auto& n : *g.mutable_node()) {
    for (auto& i : *n.mutable_input())
      if (i == in) i = in + "_fp16";
    for (auto& o : *n.mutable_output())
      if (o == out) o = out + "_fp16";
  }
  ::onnx::NodeProto to_half = onnx::make_node("Cast", {in}, {in + "_fp16"}, "to_fp16");
  onnx::set_attr_int(to_half, "to", ::onnx::TensorProto::FLOAT16);
  onnx::insert_node(g, 0, to_half);
  ::onnx::NodeProto to_float = onnx::make_node("Cast", {out + "_fp16"}, {out}, "to_fp32");
  onnx::set_attr_int(to_float, "to", ::onnx::TensorProto::FLOAT);
  *g.add_node() = to_float;
  return m.SerializeAsString();
}

TEST(OrtInteropFloat16, ConverterStyleFloat16ModelMatchesToHalfPrecision) {
  if (!have_ort())
    FAIL() << "node or tools/interop/node_modules missing: run scripts/install-deps.sh";
  for (Exporter exporter : {Exporter::pitlane, Exporter::torch}) {
    const std::string float_bytes = pilotnet_onnx(Padding::valid, exporter, 13, 21);
    const std::string bytes = float16_model(float_bytes);
    const Model model = Model::from_bytes(bytes, "fp16");
    const int64_t batch = 2;
    const OrtRun run =
        run_in_ort("fp16_" + std::to_string(static_cast<int>(exporter)), bytes, model, batch, 78);
    const NpyArray& ort = run.vw;
    const std::vector<float>& x = run.x;
    // The float16 weights widen exactly, so pitlane's result is the float model's on rounded
    // weights: the same on both backends, and within float16 precision of ONNX Runtime's.
    const auto ref = run_model(model, Backend::reference, batch, x);
    const auto dnn = run_model(model, Backend::onednn, batch, x);
    EXPECT_LT(max_abs_diff(ref, dnn), 1e-4f);
    EXPECT_LT(max_abs_diff(ort.data, ref), 1e-2f);
    const auto fp32 =
        run_model(Model::from_bytes(float_bytes, "fp32"), Backend::reference, batch, x);
    EXPECT_LT(max_abs_diff(fp32, ref), 1e-2f);
  }
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
