// pitlane optimize end to end: the report table and JSON, the written model, one-line errors with
// exit code 2 and nothing written on bad input.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "../cli/cli_test.h"
#include "../train/synthetic.h"
#include "pilotnet_file.h"
#include "pitlane/core/files.h"

namespace pitlane::quant {
namespace {

namespace fs = std::filesystem;

using ::pitlane::testing::CommandResult;
using ::pitlane::testing::run_pitlane_merged;

size_t lines(const std::string& s) {
  return static_cast<size_t>(std::count(s.begin(), s.end(), '\n'));
}

class OptimizeCli : public ::testing::Test {
 protected:
  testing::TempDir dir{"optimize-cli"};
  std::string model, rec;
  void SetUp() override {
    model = (dir.path() / "m.onnx").string();
    testing::write_pilotnet(model, runtime::testing::Padding::valid, 4);
    rec = test::RecordingBuilder().frames(8).seed(1).write(dir.path() / "rec").string();
  }
  std::string path(const std::string& name) const { return (dir.path() / name).string(); }
};

TEST_F(OptimizeCli, Int8WritesModelReportAndTable) {
  const CommandResult r = run_pitlane_merged(
      "optimize --model " + model + " --recipe int8 --out " + path("q.onnx") + " --calib " + rec +
      " --calib-images 8 --calib-method percentile" + " --report " + path("r.json"));
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("SQNR dB"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("worst layers"), std::string::npos);
  ASSERT_TRUE(fs::exists(path("q.onnx")));
  const auto report = nlohmann::json::parse(read_file(path("r.json")));
  EXPECT_EQ(report["recipe"], "int8");
  EXPECT_EQ(report["parameters"]["calib_method"], "percentile");
  EXPECT_EQ(report["parameters"]["calibration"]["images"], 8);
  EXPECT_EQ(report["layers"].size(), 10u);
  EXPECT_EQ(static_cast<int64_t>(report["size_bytes"]),
            static_cast<int64_t>(fs::file_size(path("q.onnx"))));
}

// pitlane eval reads an int8-only model (uint8 pixels in, int8 out de-quantized with its
// metadata) and scores it like its float parent.
TEST_F(OptimizeCli, EvalDequantizesInt8OnlyModels) {
  ASSERT_EQ(run_pitlane_merged("optimize --model " + model + " --recipe int8-only --out " +
                               path("u8.onnx") + " --calib " + rec)
                .exit_code,
            0);
  ASSERT_EQ(
      run_pitlane_merged("eval --model " + model + " --data " + rec + " --out " + path("f.json"))
          .exit_code,
      0);
  const CommandResult r = run_pitlane_merged("eval --model " + path("u8.onnx") + " --data " + rec +
                                             " --out " + path("q.json"));
  ASSERT_EQ(r.exit_code, 0) << r.out;
  const auto f = nlohmann::json::parse(read_file(path("f.json")));
  const auto q = nlohmann::json::parse(read_file(path("q.json")));
  const double mse_f = f["overall"]["mse"], mse_q = q["overall"]["mse"];
  EXPECT_EQ(q["recipe"], "int8-only");
  EXPECT_NEAR(mse_q, mse_f, 0.05 * mse_f + 1e-3) << r.out;
}

TEST_F(OptimizeCli, HelpHasExamples) {
  const CommandResult r = run_pitlane_merged("optimize --help");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("Examples"), std::string::npos);
  EXPECT_NE(r.out.find("--calib-method"), std::string::npos);
}

TEST_F(OptimizeCli, BadInputIsOneLineExitTwoNothingWritten) {
  const std::vector<std::string> bad = {
      "--model " + model + " --recipe int3 --out " + path("o.onnx"),
      "--model " + model + " --recipe int8 --out " + path("o.onnx"),  // no --calib
      "--model " + model + " --recipe int8 --out " + path("o.onnx") + " --calib " + rec +
          " --calib-method kl",
      "--model " + path("missing.onnx") + " --recipe float16 --out " + path("o.onnx"),
      "--model " + model + " --recipe int8 --out " + path("o.onnx") + " --calib " +
          path("no_such_recording"),
  };
  for (const auto& args : bad) {
    const CommandResult r = run_pitlane_merged("optimize " + args);
    EXPECT_EQ(r.exit_code, 2) << args << "\n" << r.out;
    EXPECT_EQ(lines(r.out), 1u) << r.out;
    EXPECT_FALSE(fs::exists(path("o.onnx"))) << args;
  }
}

// The auto recipe end to end on a small drive set: a model, its decision log (JSON and Markdown)
// and the per-layer report are written, the log accounts for every layer and every lap driven,
// and the model says it was chosen by the search.
TEST_F(OptimizeCli, AutoRecipeWritesModelDecisionLogAndReport) {
  const std::string drive_set =
      " --circuits simple_circuit --directions cw --repetitions 2 --timeout 2 "
      "--sensitivity-episodes 1 --bench-runs 5 --jobs 2 --calib-images 8";
  const CommandResult r =
      run_pitlane_merged("optimize --model " + model + " --recipe auto --out " + path("auto.onnx") +
                         " --calib " + rec + " --report " + path("auto.report.json") + drive_set);
  ASSERT_EQ(r.exit_code, 0) << r.out;
  ASSERT_TRUE(fs::exists(path("auto.onnx")));
  ASSERT_TRUE(fs::exists(path("auto.auto.md")));
  const auto log = nlohmann::json::parse(read_file(path("auto.auto.json")));
  ASSERT_TRUE(log.contains("sensitivity")) << log.dump(2);
  EXPECT_EQ(log["sensitivity"]["layers"].size(), 10u);  // every Conv and Gemm of PilotNet
  ASSERT_TRUE(log.contains("steps"));
  EXPECT_FALSE(log["steps"].empty());
  ASSERT_TRUE(log.contains("chosen"));
  const auto report = nlohmann::json::parse(read_file(path("auto.report.json")));
  EXPECT_EQ(report["layers"].size(), 10u);
  const std::string bytes = read_file(path("auto.onnx"));
  EXPECT_NE(bytes.find("layer_precision"), std::string::npos);
  EXPECT_NE(bytes.find("\"recipe\":\"auto\""), std::string::npos);

  // A budget below what the search needs is refused before any drive, nothing written.
  const CommandResult small =
      run_pitlane_merged("optimize --model " + model + " --recipe auto --out " + path("o.onnx") +
                         " --calib " + rec + drive_set + " --budget-laps 3");
  EXPECT_EQ(small.exit_code, 2) << small.out;
  EXPECT_EQ(lines(small.out), 1u) << small.out;
  EXPECT_NE(small.out.find("--budget-laps 3"), std::string::npos) << small.out;
  EXPECT_FALSE(fs::exists(path("o.onnx")));
}

}  // namespace
}  // namespace pitlane::quant
