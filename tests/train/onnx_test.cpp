// The ONNX writer against libtorch: ONNX Runtime (tools/interop/ort_run.js) and pitlane eval's
// executor must reproduce libtorch's outputs within 1e-4 for both architectures.
#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <fstream>

#include "pitlane/core/error.h"
#include "pitlane/core/files.h"
#include "pitlane/core/rng.h"
#include "pitlane/eval/model_runner.h"
#include "pitlane/eval/offline_eval.h"
#include "pitlane/train/onnx_writer.h"
#include "pitlane/train/trainer.h"
#include "synthetic.h"

namespace fs = std::filesystem;

namespace pitlane::train {
namespace {

void write_npy(const fs::path& path, const std::vector<float>& data,
               const std::vector<int64_t>& shape) {
  std::string dims;
  for (int64_t d : shape) dims += std::to_string(d) + ", ";
  std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': (" + dims + "), }";
  while ((10 + header.size() + 1) % 64 != 0) header += ' ';
  header += '\n';
  std::ofstream out(path, std::ios::binary);
  out.write("\x93NUMPY\x01\x00", 8);
  const uint16_t len = static_cast<uint16_t>(header.size());
  out.write(reinterpret_cast<const char*>(&len), 2);
  out << header;
  out.write(reinterpret_cast<const char*>(data.data()),
            static_cast<std::streamsize>(data.size() * sizeof(float)));
}

std::vector<float> read_npy_floats(const fs::path& path) {
  const std::string bytes = read_file(path);
  const uint16_t len =
      static_cast<uint16_t>(static_cast<uint8_t>(bytes[8]) | (static_cast<uint8_t>(bytes[9]) << 8));
  const size_t offset = 10 + len;
  std::vector<float> out((bytes.size() - offset) / 4);
  std::memcpy(out.data(), bytes.data() + offset, out.size() * 4);
  return out;
}

std::vector<float> random_images(int64_t n, uint64_t seed) {
  Rng rng(seed);
  std::vector<float> x(static_cast<size_t>(n) * 3 * 66 * 200);
  for (float& v : x) v = static_cast<float>(rng.uniform(-2.0, 2.5));
  return x;
}

data::ModelMetadata test_metadata(Arch arch) {
  data::ModelMetadata meta;
  meta.arch = arch_name(arch);
  meta.training_data = {"a_cw", "b_ccw"};
  meta.seed = "3";
  return meta;
}

class OnnxInterop : public ::testing::TestWithParam<Arch> {};

TEST_P(OnnxInterop, OnnxRuntimeAndEvalExecutorMatchLibtorch) {
  const Arch arch = GetParam();
  test::TempDir tmp(std::string("onnx-") + arch_name(arch));
  const PilotNetWeights net = init_pilotnet(arch, 3);
  const int64_t n = 3;
  const std::vector<float> x = random_images(n, 11);
  const std::vector<float> want = torch_forward(net, x, n);
  ASSERT_EQ(want.size(), 6u);

  const fs::path model = tmp.path() / "model.onnx";
  write_pilotnet_onnx(model, net, test_metadata(arch));

  // pitlane eval's executor (pitlane's runtime for the models pitlane writes), and the metadata
  // it reads back.
  eval::OpenedModel opened = eval::open_model(model, 2);
  EXPECT_EQ(opened.metadata, test_metadata(arch));
  std::vector<float> got(6);
  opened.runner.run(x, n, got);
  for (size_t i = 0; i < want.size(); ++i) EXPECT_NEAR(got[i], want[i], 1e-4) << i;

  // ONNX Runtime through tools/interop/ort_run.js.
  const fs::path interop = fs::path(PITLANE_SOURCE_DIR) / "tools" / "interop";
  if (!fs::exists(interop / "node_modules" / "onnxruntime-node")) {
    FAIL() << "onnxruntime-node not installed: run scripts/install-deps.sh";
  }
  write_npy(tmp.path() / "x.npy", x, {n, 3, 66, 200});
  const std::string cmd = "node " + (interop / "ort_run.js").string() + " " + model.string() + " " +
                          (tmp.path() / "out").string() +
                          " image=" + (tmp.path() / "x.npy").string();
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  const std::vector<float> ort = read_npy_floats(tmp.path() / "out" / "vw.npy");
  ASSERT_EQ(ort.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) EXPECT_NEAR(ort[i], want[i], 1e-4) << i;
}

INSTANTIATE_TEST_SUITE_P(Archs, OnnxInterop, ::testing::Values(Arch::valid, Arch::same),
                         [](const auto& info) {
                           return info.param == Arch::same ? std::string("same")
                                                           : std::string("valid");
                         });

TEST(OnnxModel, ForeignAndMalformedModels) {
  test::TempDir tmp("onnx-bad");
  const fs::path junk = tmp.path() / "junk.onnx";
  write_file_atomic(junk, "definitely not protobuf \xff\xff\xff");
  try {
    eval::open_model(junk, 1);
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("junk.onnx: not a valid ONNX model"), std::string::npos)
        << e.what();
  }
  EXPECT_THROW(eval::open_model(tmp.path() / "missing.onnx", 1), InputError);

  // A model without pitlane metadata (as another tool would write it) still opens with the
  // study's conventions.
  const fs::path bare = tmp.path() / "bare.onnx";
  const PilotNetWeights net = init_pilotnet(Arch::valid, 5);
  data::ModelMetadata meta;
  std::string bytes = pilotnet_onnx_bytes(net, meta);
  write_file_atomic(bare, bytes);
  eval::OpenedModel opened = eval::open_model(bare, 1);
  EXPECT_EQ(opened.metadata.preprocess, data::PreprocessSpec{});
}

TEST(OfflineEval, ScoresAModelOnRecordings) {
  test::TempDir tmp("offline-eval");
  std::vector<fs::path> dirs = {
      test::RecordingBuilder().frames(10).seed(8).write(tmp.path() / "r1"),
      test::RecordingBuilder().frames(6).seed(9).write(tmp.path() / "r2")};
  const PilotNetWeights net = init_pilotnet(Arch::valid, 1);
  const fs::path model = tmp.path() / "m.onnx";
  write_pilotnet_onnx(model, net, test_metadata(Arch::valid));
  eval::EvalConfig cfg;
  cfg.batch_size = 4;
  const eval::EvalReport r = eval::evaluate_model(model, dirs, cfg);
  ASSERT_EQ(r.per_recording.size(), 2u);
  EXPECT_EQ(r.overall.frames, 16);
  EXPECT_NEAR(r.overall.mse, (r.per_recording[0].mse * 10 + r.per_recording[1].mse * 6) / 16, 1e-9);
  EXPECT_NEAR(r.overall.mse, (r.overall.mse_v + r.overall.mse_w) / 2, 1e-12);
  // The physical errors are the normalized ones scaled by the ranges (when no label is clipped).
  EXPECT_GT(r.model_bytes, r.model_gzip_bytes);
  EXPECT_GT(r.model_gzip_bytes, 0);
  EXPECT_NE(eval::eval_json(r).find("\"mae_w_rad_s\""), std::string::npos);
}

}  // namespace
}  // namespace pitlane::train
