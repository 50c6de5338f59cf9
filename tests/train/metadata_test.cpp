#include "pitlane/data/model_metadata.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "pitlane/core/error.h"

namespace pitlane::data {
namespace {

TEST(ModelMetadata, RoundTripsThroughProps) {
  ModelMetadata m;
  m.arch = "pilotnet-same";
  m.recipe = "baseline";
  m.parent = "";
  m.training_data = {"many_curves_cw", "nurburgring_ccw_perturbed"};
  m.seed = "42";
  m.preprocess.interpolation = "area";
  const auto props = to_props(m);
  EXPECT_EQ(metadata_from_props(props, "m.onnx"), m);
  EXPECT_EQ(props.at("pitlane.arch"), "pilotnet-same");
  EXPECT_EQ(props.at("pitlane.seed"), "42");
}

TEST(ModelMetadata, WritesTheDocumentedSchema) {
  const auto props = to_props(ModelMetadata{});
  const auto pre = nlohmann::json::parse(props.at("pitlane.preprocess"));
  EXPECT_EQ(pre, nlohmann::json::parse(
                     R"({"crop":[240,480],"size":[200,66],"interpolation":"linear","color":"rgb",
                         "mean":[0.485,0.456,0.406],"std":[0.229,0.224,0.225],"layout":"nchw",
                         "scale":255})"));
  const auto out = nlohmann::json::parse(props.at("pitlane.outputs"));
  EXPECT_EQ(out["names"], nlohmann::json({"v", "w"}));
  EXPECT_EQ(out["min"], nlohmann::json({6.5, -7.1}));
  EXPECT_EQ(out["max"], nlohmann::json({24.0, 7.1}));
}

TEST(ModelMetadata, MissingKeysKeepTheStudyDefaultsAndBadValuesAreInputErrors) {
  const ModelMetadata m = metadata_from_props({}, "foreign.onnx");
  EXPECT_EQ(m.preprocess, PreprocessSpec{});
  EXPECT_NEAR(m.outputs.denormalize(0, 0.5), 15.25, 1e-12);
  EXPECT_NEAR(m.outputs.normalize(1, 100.0), 1.0, 0.0);  // clipped
  EXPECT_THROW(metadata_from_props({{"pitlane.preprocess", "{not json"}}, "x.onnx"), InputError);
  EXPECT_THROW(metadata_from_props({{"pitlane.preprocess", R"({"crop":[300,200]})"}}, "x.onnx"),
               InputError);
  EXPECT_THROW(
      metadata_from_props({{"pitlane.outputs", R"({"names":["v"],"min":[0,1]})"}}, "x.onnx"),
      InputError);
  // Inverted or empty output ranges.
  for (const char* ranges : {R"({"names":["v","w"],"min":[10,-1],"max":[5,1]})",
                             R"({"names":["v","w"],"min":[0,2],"max":[1,2]})"}) {
    try {
      metadata_from_props({{"pitlane.outputs", ranges}}, "x.onnx");
      ADD_FAILURE() << ranges;
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find("'min' must be below 'max'"), std::string::npos)
          << e.what();
    }
  }
  try {
    metadata_from_props({{"pitlane.preprocess", R"({"std":[0,1,1]})"}}, "x.onnx");
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("x.onnx: metadata 'pitlane.preprocess'"),
              std::string::npos);
  }
}

// int8-only models: how to read their quantized output, written only when present.
TEST(ModelMetadata, OutputQuantizationRoundTripsAndDequantizes) {
  EXPECT_FALSE(to_props(ModelMetadata{}).count(kOutputQuantizationKey));
  ModelMetadata m;
  m.output_quantization = {.scale = 0.0078125, .zero_point = -3};
  const auto props = to_props(m);
  EXPECT_EQ(metadata_from_props(props, "m.onnx"), m);
  // (q - zero_point) * scale: q = 61 -> 64 / 128.
  EXPECT_DOUBLE_EQ(m.output_quantization.dequantize(61), 0.5);
  EXPECT_DOUBLE_EQ(ModelMetadata{}.output_quantization.dequantize(0.25), 0.25);
  EXPECT_THROW(metadata_from_props({{kOutputQuantizationKey, R"({"scale":0})"}}, "m.onnx"),
               InputError);
  EXPECT_THROW(metadata_from_props({{kOutputQuantizationKey, "nope"}}, "m.onnx"), InputError);
}

}  // namespace
}  // namespace pitlane::data
