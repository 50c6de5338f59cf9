// Writes the seed corpus of the loader fuzzer: small valid models in each exporter's shape.
//   make_seeds OUT_DIR
#include <filesystem>
#include <fstream>
#include <random>

#include "onnx_builder.h"

using namespace pitlane::runtime::testing;

namespace {

std::string tiny(Exporter exporter, int64_t opset, bool padded) {
  std::mt19937 rng(1);
  OnnxBuilder b(opset);
  std::string x = "x";
  if (exporter == Exporter::keras) {
    b.input("x", {-1, 8, 8, 3});
    b.node("Transpose", {"x"}, {"xt"}, {attr_ints("perm", {0, 3, 1, 2})});
    x = "xt";
  } else {
    b.input("x", {-1, 3, 8, 8});
  }
  b.init("s", {3}, {1, 2, 3})
      .init("t", {3}, {0, 1, 0})
      .init("m", {3}, {0, 0, 0})
      .init("v", {3}, {1, 1, 1});
  b.node("BatchNormalization", {x, "s", "t", "m", "v"}, {"bn"});
  b.init("w", {4, 3, 3, 3}, random_values(108, rng)).init("b", {4}, random_values(4, rng));
  std::vector<::onnx::AttributeProto> attrs = {attr_ints("strides", {2, 2})};
  if (padded) attrs.push_back(attr_ints("pads", {0, 0, 1, 1}));
  b.node("Conv", {"bn", "w", "b"}, {"c"}, attrs);
  b.node(padded ? "LeakyRelu" : "Relu", {"c"}, {"r"});
  const int64_t flat = padded ? 4 * 4 * 4 : 4 * 3 * 3;
  if (exporter == Exporter::torch) {
    b.node("Shape", {"r"}, {"shape"});
    b.constant_i64("zero", {}, {0});
    b.node("Gather", {"shape", "zero"}, {"n"});
    b.constant_i64("axes", {1}, {0});
    if (opset >= 13)
      b.node("Unsqueeze", {"n", "axes"}, {"n1"});
    else
      b.node("Unsqueeze", {"n"}, {"n1"}, {attr_ints("axes", {0})});
    b.constant_i64("m1", {1}, {-1});
    b.node("Concat", {"n1", "m1"}, {"fs"}, {attr_int("axis", 0)});
    b.node("Reshape", {"r", "fs"}, {"f"});
    b.init("g", {2, flat}, random_values(2 * flat, rng)).init("gb", {2}, {0.1f, 0.2f});
    b.node("Gemm", {"f", "g", "gb"}, {"y"}, {attr_int("transB", 1)});
  } else if (exporter == Exporter::keras) {
    b.node("Transpose", {"r"}, {"rt"}, {attr_ints("perm", {0, 2, 3, 1})});
    b.init_i64("fs", {2}, {-1, flat});
    b.node("Reshape", {"rt", "fs"}, {"f"});
    b.init("g", {flat, 2}, random_values(2 * flat, rng)).init("gb", {2}, {0.1f, 0.2f});
    b.node("MatMul", {"f", "g"}, {"mm"});
    b.node("Add", {"mm", "gb"}, {"y0"});
    b.node("Sigmoid", {"y0"}, {"y"});
  } else {
    b.node("Flatten", {"r"}, {"f"});
    b.init("g", {2, flat}, random_values(2 * flat, rng));
    b.node("Gemm", {"f", "g"}, {"g0"}, {attr_int("transB", 1), attr_float("alpha", 0.5f)});
    b.node("Tanh", {"g0"}, {"y"});
  }
  b.output("y");
  b.metadata("pitlane.preprocess", "{}");
  return b.bytes();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  const std::filesystem::path dir = argv[1];
  std::filesystem::create_directories(dir);
  int i = 0;
  for (Exporter e : {Exporter::pitlane, Exporter::torch, Exporter::keras})
    for (int64_t opset : {11, 13, 17, 21})
      for (bool padded : {false, true})
        std::ofstream(dir / ("seed" + std::to_string(i++) + ".onnx"), std::ios::binary)
            << tiny(e, opset, padded);
  std::ofstream(dir / ("seed" + std::to_string(i++) + ".onnx"), std::ios::binary)
      << qdq_conv_gemm_onnx(1);
  std::ofstream(dir / ("seed" + std::to_string(i++) + ".onnx"), std::ios::binary)
      << mixed_quantized_onnx();
  return 0;
}
