// Every recipe end to end on a seeded PilotNet and a synthetic recording: the written model
// passes ONNX's checker (optimize_model refuses to write otherwise; checked again here), carries
// its provenance and the parent's metadata, runs in ONNX Runtime, and pitlane's runtime agrees
// with ORT (int8: within one quantization step). Bad input: one InputError, nothing written.
#include "pitlane/quant/optimize.h"

#include <gtest/gtest.h>

#include <cmath>

#include "../runtime/ort_oracle.h"
#include "../train/synthetic.h"
#include "pilotnet_file.h"
#include "pitlane/core/error.h"
#include "pitlane/core/files.h"
#include "pitlane/core/sha256.h"
#include "pitlane/data/model_metadata.h"
#include "pitlane/onnx/edit.h"
#include "pitlane/onnx/model_file.h"
#include "pitlane/onnx/tensor.h"
#include "pitlane/quant/calibrate.h"
#include "pitlane/runtime/model.h"
#include "run_everywhere.h"

namespace pitlane::quant {
namespace {

namespace fs = std::filesystem;
using runtime::testing::Exporter;
using runtime::testing::Padding;
using testing::max_diff;
using testing::Outputs;
using testing::run_everywhere;

struct Fixture {
  testing::TempDir dir{"quant"};
  fs::path model, rec;
  explicit Fixture(Padding padding = Padding::valid) {
    model = dir.path() / "pilotnet.onnx";
    testing::write_pilotnet(model, padding, 5);
    rec = test::RecordingBuilder().frames(16).seed(2).write(dir.path() / "rec_a");
  }
};

class Recipes : public ::testing::TestWithParam<std::string> {};

TEST_P(Recipes, WritesACheckedModelThatOrtAndPitlaneAgreeOn) {
  if (!runtime::testing::have_ort())
    FAIL() << "node or tools/interop/node_modules missing: run scripts/install-deps.sh";
  const std::string recipe = GetParam();
  Fixture f;
  const fs::path out = f.dir.path() / (recipe + ".onnx");
  OptimizeOptions o{.recipe = recipe, .calib = {f.rec}, .calib_images = 16};
  const OptimizeResult r = optimize_model(f.model, out, o);
  ASSERT_TRUE(fs::exists(out));
  const ::onnx::ModelProto written = onnx::read_model(out);
  EXPECT_NO_THROW(onnx::check_model(written, out.string()));

  // Provenance and the parent's metadata.
  const auto props = onnx::metadata(written);
  EXPECT_EQ(props.at("pitlane.recipe"), recipe);
  const std::string hash = sha256_hex(read_file(f.model));
  EXPECT_EQ(props.at("pitlane.parent"), "pilotnet.onnx sha256:" + hash);
  EXPECT_EQ(r.parent_sha256, hash);
  EXPECT_EQ(props.at("pitlane.outputs"), data::outputs_to_json(data::OutputSpec{}));
  EXPECT_TRUE(props.count("pitlane.optimize"));
  const auto meta = data::metadata_from_props(props, out.string());
  const bool int8_only = recipe == "int8-only";
  EXPECT_EQ(meta.output_quantization.present(), int8_only);
  if (int8_only) {
    EXPECT_EQ(meta.preprocess.scale, 1.0);
    EXPECT_EQ(meta.preprocess.mean, (std::vector<double>{0, 0, 0}));
  } else {
    EXPECT_EQ(meta.preprocess, data::PreprocessSpec{});
  }

  // Sizes: 16-bit weights halve the file, 8-bit ones quarter it.
  const double ratio = static_cast<double>(fs::file_size(out)) / fs::file_size(f.model);
  EXPECT_LT(ratio, recipe == "float16" || recipe == "bf16" ? 0.52 : 0.27) << ratio;

  // Report: one row per Conv/Gemm (10) with finite SQNR and a cosine near 1.
  ASSERT_EQ(r.report["layers"].size(), 10u);
  for (const auto& l : r.report["layers"]) {
    EXPECT_GT(l["sqnr_db"].get<double>(), 15.0) << l.dump();
    EXPECT_GT(l["cosine"].get<double>(), 0.99) << l.dump();
  }
  EXPECT_EQ(r.report["worst_layers"].size(), 3u);

  // ORT and both backends.
  const Outputs y = run_everywhere(out, f.rec, int8_only);
  // Integer kernels are exact on both backends; float ones differ in summation order only.
  const bool float_recipe = recipe == "float16" || recipe == "bf16";
  EXPECT_LE(max_diff(y.reference, y.onednn), float_recipe ? 1e-5f : 0.0f);
  const float d = max_diff(y.ort, y.reference);
  if (recipe == "float16" || recipe == "bf16") {
    EXPECT_LT(d, 1e-4f);
  } else if (int8_only) {
    EXPECT_LE(d, 1.0f);  // int8 output: within one quantization step
  } else {
    // Float output straight from the last layer's int32 accumulator: a one-step difference in
    // an earlier layer moves it by at most about one step of the last quantized activation.
    std::cout << recipe << ": max |ORT - pitlane| = " << d << "\n";
    EXPECT_LT(d, recipe == "dynamic-int8" ? 1e-4f : 0.05f);
  }
}

INSTANTIATE_TEST_SUITE_P(AllRecipes, Recipes,
                         ::testing::Values("float16", "bf16", "dynamic-int8", "int8", "int8-only"),
                         [](const auto& info) {
                           std::string s = info.param;
                           for (char& c : s)
                             if (c == '-') c = '_';
                           return s;
                         });

// Same padding: the input BatchNormalization cannot fold into the padded first convolution, so
// it stays a float node (int8-only: after the DequantizeLinear of the pixels).
TEST(Optimize, SamePaddingKeepsTheInputNormalizationInFloat) {
  if (!runtime::testing::have_ort())
    FAIL() << "node or tools/interop/node_modules missing: run scripts/install-deps.sh";
  Fixture f(Padding::same);
  for (const std::string recipe : {"int8", "int8-only"}) {
    const fs::path out = f.dir.path() / (recipe + ".onnx");
    optimize_model(f.model, out, {.recipe = recipe, .calib = {f.rec}, .calib_images = 16});
    int batchnorms = 0;
    const ::onnx::ModelProto written = onnx::read_model(out);
    for (const auto& n : written.graph().node()) batchnorms += n.op_type() == "BatchNormalization";
    EXPECT_EQ(batchnorms, recipe == "int8" ? 1 : 2) << recipe;
    const Outputs y = run_everywhere(out, f.rec, recipe == "int8-only");
    EXPECT_EQ(max_diff(y.reference, y.onednn), 0.0f) << recipe;
    EXPECT_LE(max_diff(y.ort, y.reference), recipe == "int8" ? 0.05f : 1.0f) << recipe;
  }
}

TEST(Optimize, BadInputIsAnInputErrorAndWritesNothing) {
  Fixture f;
  const fs::path out = f.dir.path() / "out.onnx";
  EXPECT_THROW(optimize_model(f.model, out, {.recipe = "int4"}), InputError);
  EXPECT_THROW(optimize_model(f.model, out, {.recipe = "int8"}), InputError);  // no --calib
  EXPECT_THROW(
      optimize_model(f.model, out, {.recipe = "int8", .calib = {f.rec}, .calib_method = "kl"}),
      InputError);
  write_file_atomic(f.dir.path() / "junk.onnx", "not a model");
  EXPECT_THROW(optimize_model(f.dir.path() / "junk.onnx", out, {.recipe = "float16"}), InputError);
  EXPECT_FALSE(fs::exists(out));
  // An optimized model is not optimized again.
  optimize_model(f.model, out, {.recipe = "float16"});
  EXPECT_THROW(
      optimize_model(out, f.dir.path() / "again.onnx", {.recipe = "int8", .calib = {f.rec}}),
      InputError);
  EXPECT_FALSE(fs::exists(f.dir.path() / "again.onnx"));
}

TEST(Optimize, RecipeNames) {
  EXPECT_EQ(recipe_names(),
            (std::vector<std::string>{"float16", "bf16", "dynamic-int8", "int8", "int8-only"}));
}

}  // namespace
}  // namespace pitlane::quant
