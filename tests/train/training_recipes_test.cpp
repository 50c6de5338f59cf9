// Every training-time recipe end to end on a seeded pitlane PilotNet and synthetic recordings:
// the written model passes ONNX's checker, carries its provenance, runs in ONNX Runtime and on
// both of pitlane's backends with agreeing outputs, and keeps the recipe's structural promise
// in the file itself (sparsity, zeros after QAT, k values per channel, QDQ scales equal to the
// learned ranges). Bad input: one InputError, nothing written.
#include "pitlane/train/training_recipes.h"

#include <gtest/gtest.h>

#include <set>

#include "../quant/run_everywhere.h"
#include "pitlane/core/error.h"
#include "pitlane/core/files.h"
#include "pitlane/core/sha256.h"
#include "pitlane/quant/observer.h"
#include "pitlane/train/onnx_writer.h"
#include "pitlane/train/trainer.h"
#include "synthetic.h"

namespace fs = std::filesystem;

namespace pitlane::train {
namespace {

struct Fixture {
  test::TempDir dir{"recipes"};
  fs::path model, rec, val;
  Fixture() {
    model = dir.path() / "pilotnet.onnx";
    data::ModelMetadata meta;
    meta.arch = arch_name(Arch::valid);
    write_pilotnet_onnx(model, init_pilotnet(Arch::valid, 6), meta);
    rec = test::RecordingBuilder().frames(48).seed(1).write(dir.path() / "rec_a");
    val = test::RecordingBuilder().frames(16).seed(2).write(dir.path() / "rec_b");
  }
  FineTuneData tune() const {
    return {.data = {rec},
            .validation = {val},
            .batch_size = 16,
            .learning_rate = 1e-3,
            .threads = 1,
            .max_steps = 3,
            .progress = false};
  }
};

// Each Conv/Gemm weight of the written model, as stored (float, or int8 after QDQ export), with
// its output-channel count.
struct StoredWeight {
  std::string name;
  std::vector<float> values;
  int64_t rows = 0;
};
std::vector<StoredWeight> stored_weights(const ::onnx::ModelProto& m) {
  std::vector<StoredWeight> out;
  for (const auto& t : m.graph().initializer()) {
    const std::string& n = t.name();
    auto ends_with = [&](const std::string& suffix) {
      return n.size() > suffix.size() && n.substr(n.size() - suffix.size()) == suffix;
    };
    const bool float_weight = ends_with(".weight");
    const bool int8_weight = ends_with(".weight_quantized");
    if (float_weight || int8_weight) out.push_back({n, onnx::tensor_floats(t), t.dims(0)});
  }
  return out;
}

class TrainingRecipes : public ::testing::TestWithParam<std::string> {};

TEST_P(TrainingRecipes, WriteCheckedModelsThatKeepTheirPromises) {
  const std::string name = GetParam();
  Fixture f;
  const fs::path out = f.dir.path() / "out.onnx";
  const TrainingRecipe recipe = default_training_recipe(name);
  const TrainingRecipeResult r = run_training_recipe(f.model, out, recipe, f.tune());
  ASSERT_TRUE(fs::exists(out));
  const ::onnx::ModelProto written = onnx::read_model(out);
  EXPECT_NO_THROW(onnx::check_model(written, out.string()));
  const auto props = onnx::metadata(written);
  EXPECT_EQ(props.at("pitlane.recipe"), name);
  EXPECT_EQ(props.at("pitlane.parent"), "pilotnet.onnx sha256:" + sha256_file(f.model));
  EXPECT_EQ(r.report["size_bytes"].get<int64_t>(), static_cast<int64_t>(fs::file_size(out)));
  EXPECT_LT(r.report["gzip_bytes"].get<int64_t>(), r.report["size_bytes"].get<int64_t>());

  const bool int8 = recipe.qat_epochs > 0 || recipe.int8_after;
  const auto weights = stored_weights(written);
  ASSERT_EQ(weights.size(), 10u);
  // Pruning is global by default: the zeros over all layers reach the target (int8 rounding
  // may add a few more).
  double zeros = 0.0, count = 0.0;
  for (const auto& w : weights) {
    zeros += zero_fraction(w.values) * static_cast<double>(w.values.size());
    count += static_cast<double>(w.values.size());
  }
  if (recipe.prune_epochs > 0) {
    EXPECT_GE(zeros / count, recipe.prune.schedule.target - 1e-3);
  }
  for (const auto& w : weights) {
    const int64_t cols = static_cast<int64_t>(w.values.size()) / w.rows;
    if (recipe.cluster_epochs > 0) {
      // k centroids per channel, plus the zero that pruning leaves.
      const int k = recipe.cluster.clusters + (recipe.prune_epochs > 0 ? 1 : 0);
      EXPECT_LE(max_distinct_per_row({w.values, w.rows, cols}), k) << w.name;
    }
    if (int8) {
      EXPECT_NE(w.name.find("weight_quantized"), std::string::npos) << w.name;
    }
  }

  // QAT's activation scales are the learned ranges' parameters, not a calibration's.
  if (recipe.qat_epochs > 0) {
    const auto& learned = r.report["parameters"]["learned_ranges"];
    int checked = 0;
    for (const auto& n : written.graph().node()) {
      if (n.op_type() != "QuantizeLinear" || !learned.contains(n.input(0))) continue;
      const auto& range = learned[n.input(0)];
      const quant::AffineParams want =
          quant::affine_params({range[0].get<float>(), range[1].get<float>()}, false);
      const auto* scale = onnx::find_initializer(written.graph(), n.input(1));
      const auto* zero = onnx::find_initializer(written.graph(), n.input(2));
      ASSERT_TRUE(scale && zero);
      EXPECT_EQ(onnx::tensor_floats(*scale)[0], want.scale) << n.input(0);
      EXPECT_EQ(onnx::tensor_floats(*zero)[0], static_cast<float>(want.zero_point)) << n.input(0);
      ++checked;
    }
    EXPECT_EQ(checked, 10);
  }

  if (!runtime::testing::have_ort())
    FAIL() << "node or tools/interop/node_modules missing: run scripts/install-deps.sh";
  const testing::Outputs y = testing::run_everywhere(out, f.rec, false);
  if (int8) {
    EXPECT_EQ(testing::max_diff(y.reference, y.onednn), 0.0f);  // integer kernels are exact
    EXPECT_LT(testing::max_diff(y.ort, y.reference), 0.05f);
  } else {
    EXPECT_LT(testing::max_diff(y.reference, y.onednn), 1e-4f);
    EXPECT_LT(testing::max_diff(y.ort, y.reference), 1e-4f);
  }
}

INSTANTIATE_TEST_SUITE_P(All, TrainingRecipes, ::testing::ValuesIn(training_recipe_names()),
                         [](const auto& info) {
                           std::string s = info.param;
                           for (char& c : s)
                             if (c == '+') c = '_';
                           return s;
                         });

TEST(TrainingRecipes, BadInputIsOneInputErrorAndWritesNothing) {
  Fixture f;
  const fs::path out = f.dir.path() / "out.onnx";
  EXPECT_THROW(default_training_recipe("prune-harder"), InputError);
  FineTuneData no_data = f.tune();
  no_data.data.clear();
  EXPECT_THROW(run_training_recipe(f.model, out, default_training_recipe("qat"), no_data),
               InputError);
  TrainingRecipe bad = default_training_recipe("prune");
  bad.prune.schedule.target = 1.5;
  EXPECT_THROW(run_training_recipe(f.model, out, bad, f.tune()), InputError);
  bad = default_training_recipe("cluster");
  bad.cluster.clusters = 300;
  EXPECT_THROW(run_training_recipe(f.model, out, bad, f.tune()), InputError);
  EXPECT_THROW(run_training_recipe(f.dir.path() / "missing.onnx", out,
                                   default_training_recipe("qat"), f.tune()),
               InputError);
  EXPECT_FALSE(fs::exists(out));
  // An optimized model is not a parent: recipes start from the float model.
  ASSERT_NO_THROW(run_training_recipe(f.model, out, default_training_recipe("prune"), f.tune()));
  const fs::path again = f.dir.path() / "again.onnx";
  EXPECT_THROW(run_training_recipe(out, again, default_training_recipe("qat"), f.tune()),
               InputError);
  EXPECT_FALSE(fs::exists(again));
}

}  // namespace
}  // namespace pitlane::train
