// The CLI's runtime commands end to end: pitlane infer / bench on files, exit codes and one-line
// errors for bad input.
#include <gtest/gtest.h>
#include <sys/wait.h>

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
