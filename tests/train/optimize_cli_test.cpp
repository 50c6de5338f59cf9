// pitlane optimize with the training-time recipes: recipe parameters from the command line reach
// the written model, and bad parameters are one line with exit code 2 and nothing written.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "../cli/cli_test.h"
#include "pitlane/core/files.h"
#include "pitlane/train/onnx_writer.h"
#include "pitlane/train/trainer.h"
#include "synthetic.h"

namespace pitlane::train {
namespace {

namespace fs = std::filesystem;
using ::pitlane::testing::CommandResult;
using ::pitlane::testing::run_pitlane_merged;

class TrainingRecipeCli : public ::testing::Test {
 protected:
  test::TempDir dir{"recipe-cli"};
  std::string model, rec, val;
  void SetUp() override {
    model = (dir.path() / "m.onnx").string();
    data::ModelMetadata meta;
    meta.arch = arch_name(Arch::valid);
    write_pilotnet_onnx(model, init_pilotnet(Arch::valid, 8), meta);
    rec = test::RecordingBuilder().frames(32).seed(1).write(dir.path() / "rec").string();
    val = test::RecordingBuilder().frames(8).seed(2).write(dir.path() / "val").string();
  }
  std::string path(const std::string& name) const { return (dir.path() / name).string(); }
  std::string base(const std::string& recipe) const {
    return "optimize --model " + model + " --recipe " + recipe + " --out " + path("o.onnx") +
           " --data " + rec + " --validation " + val + " --batch-size 16 --threads 1" +
           " --max-steps 2";
  }
};

TEST_F(TrainingRecipeCli, PruneParametersReachTheModel) {
  const CommandResult r =
      run_pitlane_merged(base("prune") + " --structure 2:4 --report " + path("r.json"));
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("values/channel"), std::string::npos) << r.out;
  const auto report = nlohmann::json::parse(read_file(path("r.json")));
  EXPECT_EQ(report["parameters"]["pruning"]["structure"], "2:4");
  // Two of every four fan-in weights go; a row's last, partial group keeps two.
  for (const auto& l : report["layers"]) {
    const double tolerance = l["weights"].get<int>() >= 1000 ? 0.01 : 0.1;
    EXPECT_NEAR(l["sparsity"].get<double>(), 0.5, tolerance) << l;
  }
  EXPECT_EQ(report["size_bytes"].get<int64_t>(),
            static_cast<int64_t>(fs::file_size(path("o.onnx"))));
}

TEST_F(TrainingRecipeCli, ClusterParametersReachTheModel) {
  const CommandResult r = run_pitlane_merged(base("cluster") + " --clusters 4 --per-layer" +
                                             " --cluster-init linear --report " + path("r.json"));
  ASSERT_EQ(r.exit_code, 0) << r.out;
  const auto report = nlohmann::json::parse(read_file(path("r.json")));
  EXPECT_EQ(report["parameters"]["clustering"]["init"], "linear");
  EXPECT_EQ(report["parameters"]["clustering"]["per_channel"], false);
  for (const auto& l : report["layers"]) EXPECT_LE(l["max_values_per_channel"].get<int>(), 4) << l;
}

TEST_F(TrainingRecipeCli, BadParametersAreOneLineExitTwoNothingWritten) {
  const std::vector<std::string> bad = {
      base("prune") + " --structure 5:4",
      base("prune") + " --sparsity 1.2",
      base("prune") + " --schedule cubic",
      base("prune") + " --scope both",
      base("prune") + " --structure block --block 3",
      base("cluster") + " --cluster-init kmeans",
      base("cluster") + " --clusters 1",
      base("qat") + " --qat-data-fraction 0",
      "optimize --model " + model + " --recipe pqat --out " + path("o.onnx"),  // no --data
      "optimize --model " + path("missing.onnx") + " --recipe qat --out " + path("o.onnx") +
          " --data " + rec,
  };
  for (const auto& args : bad) {
    const CommandResult r = run_pitlane_merged(args);
    EXPECT_EQ(r.exit_code, 2) << args << "\n" << r.out;
    EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1) << r.out;
    EXPECT_FALSE(fs::exists(path("o.onnx"))) << args;
  }
}

}  // namespace
}  // namespace pitlane::train
