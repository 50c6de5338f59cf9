// The CLI's runtime commands end to end: pitlane infer / bench on files, exit codes and one-line
// errors for bad input.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "../cli/cli_test.h"
#include "onnx_builder.h"
#include "pitlane/runtime/npy.h"
#include "test_util.h"

namespace pitlane::runtime {
namespace {

using namespace testing;
namespace fs = std::filesystem;

using ::pitlane::testing::CommandResult;
using ::pitlane::testing::run_pitlane_merged;

std::string read_file_bytes(const std::string& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("pitlane_cli_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
    model_bytes_ = pilotnet_onnx(Padding::valid, Exporter::torch, 13, 3);
    std::ofstream(dir_ / "m.onnx", std::ios::binary) << model_bytes_;
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  fs::path dir_;
  std::string model_bytes_;
};

TEST_F(CliTest, InferWritesOutputsForAnyBatch) {
  const auto x = random_input(3 * 3 * 66 * 200, 1);
  write_npy(path("x.npy"), std::vector<int64_t>{3, 3, 66, 200}, x);
  for (const char* backend : {"reference", "onednn"}) {
    const CommandResult r =
        run_pitlane_merged("infer --model " + path("m.onnx") + " --input " + path("x.npy") +
                           " --output " + path("y.npy") + " --backend " + backend);
    ASSERT_EQ(r.exit_code, 0) << r.out;
    const NpyArray y = read_npy(path("y.npy"));
    EXPECT_EQ(y.shape, (std::vector<int64_t>{3, 2}));
    const Model model = Model::from_bytes(model_bytes_, "m.onnx");
    EXPECT_LT(max_abs_diff(y.data, run_model(model, Backend::reference, 3, x)), 1e-4f);
  }
}

// A crafted model whose extra outputs are named to climb out of the output folder: every file
// lands inside it, under a sanitized name, and nothing is written elsewhere.
TEST_F(CliTest, InferKeepsExtraOutputsInsideTheOutputFolder) {
  fs::create_directories(dir_ / "out");
  OnnxBuilder b(13);
  b.input("x", {-1, 4});
  b.node("Relu", {"x"}, {"y"});
  b.node("Identity", {"x"}, {"../../escape"});
  b.node("Sigmoid", {"x"}, {"/tmp/abs"});
  b.node("Tanh", {"x"}, {".."});
  b.output("y").output("../../escape").output("/tmp/abs").output("..");
  std::ofstream(path("evil.onnx"), std::ios::binary) << b.bytes();
  write_npy(path("x4.npy"), std::vector<int64_t>{1, 4}, std::vector<float>{-1, 0, 1, 2});
  const CommandResult r = run_pitlane_merged("infer --model " + path("evil.onnx") + " --input " +
                                             path("x4.npy") + " --output " + path("out/y.npy"));
  ASSERT_EQ(r.exit_code, 0) << r.out;
  std::vector<std::string> written;
  for (const auto& e : fs::directory_iterator(dir_ / "out"))
    written.push_back(e.path().filename().string());
  std::sort(written.begin(), written.end());
  EXPECT_EQ(written, (std::vector<std::string>{"y._..npy", "y._._.._escape.npy", "y._tmp_abs.npy",
                                               "y.npy"}));
  EXPECT_FALSE(fs::exists(dir_ / "escape.npy"));
  EXPECT_FALSE(fs::exists(dir_ / "out" / ".." / ".." / "escape.npy"));
  EXPECT_EQ(read_npy(path("out/y._._.._escape.npy")).data, (std::vector<float>{-1, 0, 1, 2}));
}

// An output path that names an input (by any spelling) is refused before anything is written.
TEST_F(CliTest, InferNeverOverwritesItsInputs) {
  write_npy(path("x.npy"), std::vector<int64_t>{1, 3, 66, 200}, std::vector<float>(3 * 66 * 200));
  const std::string x_before = read_file_bytes(path("x.npy"));
  for (const std::string& out : {path("m.onnx"), path("x.npy"), (dir_ / "." / "m.onnx").string()}) {
    const CommandResult r = run_pitlane_merged("infer --model " + path("m.onnx") + " --input " +
                                               path("x.npy") + " --output " + out);
    EXPECT_EQ(r.exit_code, 2) << r.out;
    EXPECT_NE(r.out.find("is the same file as the input"), std::string::npos) << r.out;
  }
  EXPECT_EQ(read_file_bytes(path("m.onnx")), model_bytes_);
  EXPECT_EQ(read_file_bytes(path("x.npy")), x_before);
}

TEST_F(CliTest, BadInputIsExitTwoWithOneLine) {
  std::ofstream(path("trunc.onnx"), std::ios::binary) << model_bytes_.substr(0, 5000);
  write_npy(path("x.npy"), std::vector<int64_t>{1, 3, 66, 200}, std::vector<float>(3 * 66 * 200));
  write_npy(path("wrong.npy"), std::vector<int64_t>{1, 3, 66, 199},
            std::vector<float>(3 * 66 * 199));
  const std::string cases[] = {
      "infer --model " + path("trunc.onnx") + " --input " + path("x.npy") + " --output " +
          path("y.npy"),
      "infer --model " + path("missing.onnx") + " --input " + path("x.npy") + " --output " +
          path("y.npy"),
      "infer --model " + path("m.onnx") + " --input " + path("wrong.npy") + " --output " +
          path("y.npy"),
      "infer --model " + path("m.onnx") + " --input " + path("m.onnx") + " --output " +
          path("y.npy"),
      "infer --model " + path("m.onnx") + " --input " + path("x.npy") + " --output " +
          path("y.npy") + " --backend gpu",
      "bench --model " + path("trunc.onnx") + " --runs 2",
      "bench --model " + path("m.onnx") + " --input " + path("wrong.npy") + " --runs 2",
      "bench --model " + path("m.onnx") + " --frame " + path("missing.png") + " --runs 2",
  };
  for (const auto& args : cases) {
    const CommandResult r = run_pitlane_merged(args);
    EXPECT_EQ(r.exit_code, 2) << args << "\n" << r.out;
    EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1) << r.out;
    EXPECT_EQ(r.out.rfind("pitlane: error: ", 0), 0u) << r.out;
  }
  EXPECT_FALSE(fs::exists(path("y.npy")));
}

TEST_F(CliTest, BenchPrintsPercentilesAndWritesJson) {
  const CommandResult r =
      run_pitlane_merged("bench --model " + path("m.onnx") +
                         " --runs 5 --warmup 1 --batch 2 --json " + path("b.json"));
  ASSERT_EQ(r.exit_code, 0) << r.out;
  for (const char* s : {"median_us", "p99_us", "samples_per_s", "conv1", "fc1", "arena"})
    EXPECT_NE(r.out.find(s), std::string::npos) << s;
  std::ifstream j(path("b.json"));
  const std::string text((std::istreambuf_iterator<char>(j)), {});
  EXPECT_NE(text.find("\"latency_us\""), std::string::npos);
}

// One given sample as the input, and the dense inner product on request.
TEST_F(CliTest, BenchTakesAnInputAndTheDenseKernelOnRequest) {
  write_npy(path("x.npy"), std::vector<int64_t>{1, 3, 66, 200}, random_input(3 * 66 * 200, 2));
  const std::string base =
      "bench --model " + path("m.onnx") + " --runs 3 --warmup 1 --input " + path("x.npy");
  const CommandResult skip = run_pitlane_merged(base);
  ASSERT_EQ(skip.exit_code, 0) << skip.out;
  EXPECT_NE(skip.out.find("input " + path("x.npy")), std::string::npos) << skip.out;
  EXPECT_NE(skip.out.find("fc1 (Gemm+relu, zero-skipping)"), std::string::npos) << skip.out;
  const CommandResult dense = run_pitlane_merged(base + " --no-zero-skip");
  ASSERT_EQ(dense.exit_code, 0) << dense.out;
  EXPECT_NE(dense.out.find("fc1 (Gemm+relu) "), std::string::npos) << dense.out;
  EXPECT_EQ(dense.out.find("zero-skipping"), std::string::npos) << dense.out;
}

}  // namespace
}  // namespace pitlane::runtime
