// The runtime against its oracle: oneDNN vs reference on PilotNet (valid, same), on exporter-
// shaped graphs and on single operators; passes, memory plan, .npy, metadata, bad input.
#include <gtest/gtest.h>

#include <chrono>
#include <future>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "onnx_builder.h"
#include "pitlane/core/error.h"
#include "pitlane/runtime/backends/backend.h"
#include "pitlane/runtime/cpu_features.h"
#include "pitlane/runtime/npy.h"
#include "pitlane/runtime/passes/passes.h"
#include "pitlane/runtime/planner.h"
#include "test_util.h"

namespace pitlane::runtime {
namespace {

using namespace testing;
constexpr float kTol = 1e-4f;

struct ModelCase {
  const char* name;
  Padding padding;
  Exporter exporter;
  int64_t opset;
};

class PilotNetTest : public ::testing::TestWithParam<ModelCase> {};

TEST_P(PilotNetTest, OnednnMatchesReference) {
  const ModelCase c = GetParam();
  const Model model = Model::from_bytes(pilotnet_onnx(c.padding, c.exporter, c.opset, 7), c.name);
  for (int64_t batch : {1, 3}) {
    const auto x = random_input(-model.inputs()[0].element_count() * batch, 11 + batch);
    const auto ref = run_model(model, Backend::reference, batch, x);
    const auto dnn = run_model(model, Backend::onednn, batch, x);
    ASSERT_EQ(ref.size(), static_cast<size_t>(2 * batch));
    EXPECT_LT(max_abs_diff(ref, dnn), kTol) << c.name << " batch " << batch;
  }
}

TEST_P(PilotNetTest, BatchRowsEqualSingleRuns) {
  const ModelCase c = GetParam();
  const Model model = Model::from_bytes(pilotnet_onnx(c.padding, c.exporter, c.opset, 7), c.name);
  const int64_t per = -model.inputs()[0].element_count();  // dynamic batch counts -1
  const auto x = random_input(per * 3, 5);
  const auto all = run_model(model, Backend::onednn, 3, x);
  for (int64_t i = 0; i < 3; ++i) {
    std::vector<float> xi(x.begin() + i * per, x.begin() + (i + 1) * per);
    const auto yi = run_model(model, Backend::onednn, 1, xi);
    EXPECT_LT(max_abs_diff(yi, std::span(all).subspan(2 * i, 2)), kTol);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Models, PilotNetTest,
    ::testing::Values(ModelCase{"valid", Padding::valid, Exporter::pitlane, 17},
                      ModelCase{"same", Padding::same, Exporter::pitlane, 17},
                      ModelCase{"torch_opset11", Padding::valid, Exporter::torch, 11},
                      ModelCase{"torch_opset17", Padding::valid, Exporter::torch, 17},
                      ModelCase{"keras_opset13", Padding::valid, Exporter::keras, 13},
                      ModelCase{"keras_same_opset21", Padding::same, Exporter::keras, 21}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(Passes, PilotNetBecomesTenFusedLayers) {
  for (Exporter e : {Exporter::pitlane, Exporter::torch, Exporter::keras}) {
    const Model model = Model::from_bytes(pilotnet_onnx(Padding::valid, e, 13, 1), "m.onnx");
    Session s(model, {.backend = Backend::reference});
    int compute = 0;
    for (const Node& n : s.graph().nodes) {
      if (is_view(n.op)) continue;
      ++compute;
      EXPECT_TRUE(n.op == Op::Conv || n.op == Op::Gemm ||
                  (e == Exporter::keras && n.op == Op::Transpose))
          << op_name(n.op);
    }
    // Valid padding: the input BatchNormalization folds into conv1; the Keras NHWC Transpose
    // before the flatten folds into fc1's weights; the input Transpose remains.
    EXPECT_EQ(compute, e == Exporter::keras ? 11 : 10);
  }
  // Same padding: the input BN cannot fold into a padded conv; it stays as one Affine.
  const Model same =
      Model::from_bytes(pilotnet_onnx(Padding::same, Exporter::pitlane, 13, 1), "s.onnx");
  Session s(same, {.backend = Backend::reference});
  EXPECT_EQ(s.graph().nodes.front().op, Op::Affine);
}

TEST(Passes, DynamicBatchAndOutputShapes) {
  const Model model =
      Model::from_bytes(pilotnet_onnx(Padding::valid, Exporter::torch, 13, 1), "m.onnx");
  EXPECT_EQ(model.inputs()[0].shape, (std::vector<int64_t>{-1, 3, 66, 200}));
  EXPECT_EQ(model.outputs()[0].shape, (std::vector<int64_t>{-1, 2}));
  Session s(model, {.batch = 64});
  EXPECT_EQ(s.outputs()[0].shape, (std::vector<int64_t>{64, 2}));
  EXPECT_EQ(model.metadata().at("pitlane.outputs"), R"({"names":["v","w"]})");
}

TEST(Passes, DeterministicBytes) {
  const Model model =
      Model::from_bytes(pilotnet_onnx(Padding::same, Exporter::pitlane, 17, 3), "m.onnx");
  const auto x = random_input(3 * 66 * 200 * 2, 9);
  for (Backend b : {Backend::reference, Backend::onednn}) {
    const auto a = run_model(model, b, 2, x);
    const auto c = run_model(model, b, 2, x);
    EXPECT_EQ(0, std::memcmp(a.data(), c.data(), a.size() * sizeof(float)));
  }
}

// Builder-style single-operator tester: oneDNN against the reference on one Conv.
class ConvTester {
 public:
  ConvTester& in(int64_t c, int64_t h, int64_t w) {
    c_ = c;
    h_ = h;
    w_ = w;
    return *this;
  }
  ConvTester& batch(int64_t n) {
    n_ = n;
    return *this;
  }
  ConvTester& out(int64_t oc) {
    oc_ = oc;
    return *this;
  }
  ConvTester& kernel(int64_t k) {
    k_ = k;
    return *this;
  }
  ConvTester& stride(int64_t s) {
    s_ = s;
    return *this;
  }
  ConvTester& dilation(int64_t d) {
    d_ = d;
    return *this;
  }
  ConvTester& pads(std::vector<int64_t> p) {
    pads_ = std::move(p);
    return *this;
  }
  ConvTester& auto_pad(std::string a) {
    auto_pad_ = std::move(a);
    return *this;
  }
  ConvTester& group(int64_t g) {
    g_ = g;
    return *this;
  }
  ConvTester& activation(std::string a) {
    act_ = std::move(a);
    return *this;
  }
  void check() const {
    std::mt19937 rng(1);
    OnnxBuilder b(13);
    b.input("x", {-1, c_, h_, w_});
    b.init("w", {oc_, c_ / g_, k_, k_}, random_values(oc_ * c_ / g_ * k_ * k_, rng));
    b.init("b", {oc_}, random_values(oc_, rng));
    std::vector<::onnx::AttributeProto> attrs = {
        attr_ints("strides", {s_, s_}), attr_ints("dilations", {d_, d_}), attr_int("group", g_)};
    if (!auto_pad_.empty())
      attrs.push_back(attr_string("auto_pad", auto_pad_));
    else
      attrs.push_back(attr_ints("pads", pads_));
    b.node("Conv", {"x", "w", "b"}, {act_.empty() ? "y" : "c"}, attrs);
    if (!act_.empty()) {
      std::vector<::onnx::AttributeProto> aa;
      if (act_ == "LeakyRelu" || act_ == "Elu") aa.push_back(attr_float("alpha", 0.2f));
      b.node(act_, {"c"}, {"y"}, aa);
    }
    b.output("y");
    const Model model = Model::from_bytes(b.bytes(), "conv.onnx");
    const auto x = random_input(n_ * c_ * h_ * w_, 2);
    const auto ref = run_model(model, Backend::reference, n_, x);
    const auto dnn = run_model(model, Backend::onednn, n_, x);
    EXPECT_LT(max_abs_diff(ref, dnn), kTol);
  }

 private:
  int64_t n_ = 1, c_ = 3, h_ = 9, w_ = 11, oc_ = 8, k_ = 3, s_ = 1, d_ = 1, g_ = 1;
  std::vector<int64_t> pads_ = {0, 0, 0, 0};
  std::string auto_pad_, act_;
};

TEST(OnednnConv, MatchesReference) {
  ConvTester().in(3, 66, 200).out(24).kernel(5).stride(2).activation("Relu").check();
  ConvTester().in(24, 31, 98).out(36).kernel(5).stride(2).batch(2).check();
  ConvTester().in(8, 9, 11).out(16).kernel(3).pads({1, 1, 1, 1}).activation("LeakyRelu").check();
  ConvTester()
      .in(8, 9, 11)
      .out(16)
      .kernel(3)
      .stride(2)
      .pads({0, 1, 2, 1})
      .activation("Elu")
      .check();
  ConvTester()
      .in(8, 10, 10)
      .out(8)
      .kernel(3)
      .auto_pad("SAME_UPPER")
      .stride(2)
      .activation("Sigmoid")
      .check();
  ConvTester().in(8, 10, 10).out(8).kernel(3).auto_pad("SAME_LOWER").activation("Tanh").check();
  ConvTester().in(8, 12, 12).out(16).kernel(3).dilation(2).check();
  ConvTester().in(8, 12, 12).out(16).kernel(3).group(4).pads({1, 1, 1, 1}).check();
  ConvTester().in(8, 12, 12).out(8).kernel(3).group(8).check();
}

// Small graphs of the remaining operators: oneDNN (with its reference fallbacks) vs reference.
TEST(OnednnGraph, EltwiseBinaryConcatTranspose) {
  std::mt19937 rng(4);
  OnnxBuilder b(17);
  b.input("x", {-1, 4, 5, 6});
  b.init("s", {4, 1, 1}, random_values(4, rng));
  b.init("w", {4, 4, 1, 1}, random_values(16, rng));
  b.node("Conv", {"x", "w"}, {"c"});
  b.node("Sigmoid", {"c"}, {"sg"});
  b.node("Mul", {"sg", "s"}, {"m"});
  b.node("Sub", {"m", "x"}, {"d"});
  b.node("Div", {"d", "s"}, {"q"});
  b.node("Tanh", {"x"}, {"t"});
  b.node("Concat", {"q", "t"}, {"cat"}, {attr_int("axis", 1)});
  b.node("Transpose", {"cat"}, {"tr"}, {attr_ints("perm", {0, 2, 3, 1})});
  b.node("Elu", {"tr"}, {"el"}, {attr_float("alpha", 0.5f)});
  b.node("LeakyRelu", {"el"}, {"lr"});
  b.init("m2", {8, 3}, random_values(24, rng));
  b.node("MatMul", {"lr", "m2"}, {"mm"});
  b.node("Identity", {"mm"}, {"y"});
  b.output("y");
  b.output("cat");
  const Model model = Model::from_bytes(b.bytes(), "ops.onnx");
  const auto x = random_input(2 * 4 * 5 * 6, 3);
  std::vector<std::vector<float>> outs[2];
  for (int k = 0; k < 2; ++k) {
    Session s(model, {.backend = k ? Backend::onednn : Backend::reference, .batch = 2});
    outs[k] = {std::vector<float>(s.outputs()[0].element_count()),
               std::vector<float>(s.outputs()[1].element_count())};
    const std::span<const float> ins[] = {x};
    const std::span<float> os[] = {outs[k][0], outs[k][1]};
    s.run(ins, os);
  }
  EXPECT_EQ(outs[0][0].size(), 2u * 5 * 6 * 3);
  EXPECT_LT(max_abs_diff(outs[0][0], outs[1][0]), kTol);
  EXPECT_LT(max_abs_diff(outs[0][1], outs[1][1]), kTol);
}

TEST(OnednnGraph, GemmForms) {
  // Gemm with transB=0, alpha, beta and a [1,N] bias; an output that is also read downstream.
  std::mt19937 rng(5);
  OnnxBuilder b(11);
  b.input("x", {-1, 6});
  b.init("b", {6, 5}, random_values(30, rng));
  b.init("c", {1, 5}, random_values(5, rng));
  b.node("Gemm", {"x", "b", "c"}, {"g"}, {attr_float("alpha", 0.5f), attr_float("beta", 2.0f)});
  b.node("Relu", {"g"}, {"r"});
  b.node("Add", {"r", "g"}, {"y"});
  b.output("y");
  b.output("g");
  const Model model = Model::from_bytes(b.bytes(), "gemm.onnx");
  const auto x = random_input(4 * 6, 3);
  std::vector<float> res[2][2];
  for (int k = 0; k < 2; ++k) {
    Session s(model, {.backend = k ? Backend::onednn : Backend::reference, .batch = 4});
    res[k][0].resize(20);
    res[k][1].resize(20);
    const std::span<const float> ins[] = {x};
    const std::span<float> os[] = {res[k][0], res[k][1]};
    s.run(ins, os);
  }
  // Hand-computed first element of g.
  std::mt19937 rng2(5);
  const auto bw = random_values(30, rng2);
  const auto bc = random_values(5, rng2);
  float g00 = 0;
  for (int i = 0; i < 6; ++i) g00 += x[i] * bw[i * 5];
  g00 = 0.5f * g00 + 2.0f * bc[0];
  EXPECT_NEAR(res[0][1][0], g00, 1e-5);
  EXPECT_LT(max_abs_diff(res[0][0], res[1][0]), kTol);
  EXPECT_LT(max_abs_diff(res[0][1], res[1][1]), kTol);
}

// bf16 needs AVX-512 (avx512_core; native bf16 on avx512_core_bf16 / AMX): tested where the CPU
// has it, refused with an InputError where it does not (the development machine: Zen 3, AVX2).
TEST(OnednnBf16, MatchesReferenceWhereAvailable) {
  const Model model =
      Model::from_bytes(pilotnet_onnx(Padding::valid, Exporter::torch, 13, 7), "m.onnx");
  if (!cpu_features().onednn_bf16) {
    EXPECT_THROW(Session(model, {.backend = Backend::onednn, .bf16 = true}), InputError);
    GTEST_SKIP() << "this CPU has no AVX-512: bf16 not testable here";
  }
  // Batch 8: oneDNN's bf16 primitives throughout; batch 1: the dense layers on the
  // zero-skipping kernel with bf16 weights.
  for (int64_t batch : {8, 1}) {
    const auto x = random_input(batch * 3 * 66 * 200, 4);
    const auto ref = run_model(model, Backend::reference, batch, x);
    Session s(model, {.backend = Backend::onednn, .batch = batch, .bf16 = true});
    bool zero_skip = false;
    for (size_t i = 0; i < s.num_steps(); ++i)
      zero_skip |= s.step_name(i).find("zero-skipping") != std::string::npos;
    EXPECT_EQ(zero_skip, batch == 1);
    std::vector<float> y(2 * batch);
    s.run(x, y);
    float scale = 1.0f;
    for (float v : ref) scale = std::max(scale, std::abs(v));
    EXPECT_LT(max_abs_diff(ref, y), 0.05f * scale) << "batch " << batch;
  }
}

// One probe per process; describe() names exactly the flags that are set, then oneDNN's ISA.
TEST(CpuFeatures, ProbedOnceAndDescribed) {
  const CpuFeatures& cpu = cpu_features();
  EXPECT_EQ(&cpu, &cpu_features());
  const std::string text = cpu.describe();
  const size_t split = text.find("; oneDNN ");
  ASSERT_NE(split, std::string::npos) << text;
  std::set<std::string> named;
  std::istringstream words(text.substr(0, split));
  for (std::string w; words >> w;) named.insert(w);
  const std::pair<bool, const char*> flags[] = {{cpu.popcnt, "popcnt"},
                                                {cpu.bmi, "bmi"},
                                                {cpu.avx2, "avx2"},
                                                {cpu.fma, "fma"},
                                                {cpu.avx512f, "avx512f"},
                                                {cpu.avx512bw, "avx512bw"},
                                                {cpu.avx512dq, "avx512dq"},
                                                {cpu.avx512vl, "avx512vl"},
                                                {cpu.avx512vnni, "avx512vnni"},
                                                {cpu.avx512bf16, "avx512bf16"}};
  for (const auto& [has, name] : flags) EXPECT_EQ(named.count(name) == 1, has) << name;
  EXPECT_EQ(text.substr(split + 9, std::string(cpu.onednn_isa).size()), cpu.onednn_isa) << text;
  // Extensions that need AVX-512F, and oneDNN's avx512_core (F, BW, VL, DQ).
  EXPECT_TRUE(cpu.avx512f || !(cpu.avx512bw || cpu.avx512vnni || cpu.avx512bf16));
  EXPECT_TRUE(!cpu.onednn_bf16 || (cpu.avx512f && cpu.avx512bw && cpu.avx512vl && cpu.avx512dq));
}

TEST(Planner, OverlappingLifetimesNeverShareBytes) {
  std::vector<BufferLifetime> b = {{100, 0, 1}, {200, 1, 2}, {50, 2, 3}, {300, 3, 4}, {10, 0, 4}};
  const ArenaPlan p = plan_arena(b);
  for (size_t i = 0; i < b.size(); ++i)
    for (size_t j = i + 1; j < b.size(); ++j) {
      const bool live = b[i].first <= b[j].last && b[j].first <= b[i].last;
      const bool overlap =
          p.offsets[i] < p.offsets[j] + b[j].bytes && p.offsets[j] < p.offsets[i] + b[i].bytes;
      EXPECT_FALSE(live && overlap) << i << " " << j;
    }
  EXPECT_LT(p.total_bytes, 100u + 200 + 50 + 300 + 10 + 5 * 64);
}

TEST(Npy, RoundTripAndValidation) {
  const std::vector<int64_t> shape = {2, 3};
  const std::vector<float> data = {1, 2, 3, 4, 5, 6.5f};
  const std::string bytes = format_npy(shape, data);
  EXPECT_EQ(bytes.size() % 64, 24u);  // 64-byte aligned header + 24 data bytes
  const NpyArray a = parse_npy(bytes, "a.npy");
  EXPECT_EQ(a.shape, shape);
  EXPECT_EQ(a.data, data);
  EXPECT_THROW(parse_npy(bytes.substr(0, bytes.size() - 4), "t.npy"), InputError);
  EXPECT_THROW(parse_npy("garbage", "g.npy"), InputError);
  std::string f8 = bytes;
  f8.replace(f8.find("<f4"), 3, "<f8");
  EXPECT_THROW(parse_npy(f8, "f8.npy"), InputError);
  std::string huge = bytes;
  huge.replace(huge.find("(2, 3)"), 6, "(99999999999,9999999)");
  EXPECT_THROW(parse_npy(huge, "h.npy"), InputError);
  const NpyArray scalar = parse_npy(format_npy({}, std::vector<float>{3.0f}), "s.npy");
  EXPECT_TRUE(scalar.shape.empty());
  EXPECT_EQ(scalar.data.size(), 1u);
  // uint8 / int8 arrays (pixels for uint8-input models) read as exact floats: the same header
  // with one byte per value.
  std::string u8 = format_npy(shape, std::vector<float>(6, 0.0f));
  u8.replace(u8.find("<f4"), 3, "|u1");
  u8.resize(u8.size() - 24);
  u8 += std::string("\x00\x01\x7f\x80\xfe\xff", 6);
  EXPECT_EQ(parse_npy(u8, "u8.npy").data, (std::vector<float>{0, 1, 127, 128, 254, 255}));
  std::string i8 = u8;
  i8.replace(i8.find("|u1"), 3, "|i1");
  EXPECT_EQ(parse_npy(i8, "i8.npy").data, (std::vector<float>{0, 1, 127, -128, -2, -1}));
  EXPECT_THROW(parse_npy(u8.substr(0, u8.size() - 1), "t8.npy"), InputError);
}

// Bad models: one-line InputErrors naming the file and the place.
std::string load_error(const std::string& bytes) {
  try {
    Model::from_bytes(bytes, "bad.onnx");
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

TEST(BadInput, OneLineErrors) {
  const std::string good = pilotnet_onnx(Padding::valid, Exporter::pitlane, 13, 1);
  std::vector<std::pair<std::string, std::string>> cases;  // bytes, expected substring
  cases.push_back({good.substr(0, good.size() / 2), "bad.onnx"});
  cases.push_back({"", "not a valid ONNX model"});
  cases.push_back({std::string(1000, '\xff'), "bad.onnx"});
  {
    OnnxBuilder b(13);
    b.input("x", {1, 4});
    b.node("Softmax", {"x"}, {"y"}, {}, "soft1");
    b.output("y");
    cases.push_back({b.bytes(), "node 'soft1' (Softmax): operator 'Softmax' is not supported"});
  }
  {
    OnnxBuilder b(13);
    b.input("x", {1, 4});
    b.node("Relu", {"z"}, {"y"}, {}, "a");
    b.node("Relu", {"y"}, {"z"}, {}, "b");
    b.output("y");
    cases.push_back({b.bytes(), "cycle"});
  }
  {
    OnnxBuilder b(9);
    b.input("x", {1, 4});
    b.node("Relu", {"x"}, {"y"});
    b.output("y");
    cases.push_back({b.bytes(), "opset 9"});
  }
  {
    OnnxBuilder b(13);
    b.input("x", {1, 3, 8, 8});
    b.init("w", {4, 3, 3, 3}, std::vector<float>(100, 0.0f));  // 108 needed
    b.node("Conv", {"x", "w"}, {"y"});
    b.output("y");
    cases.push_back({b.bytes(), "initializer 'w' holds 100"});
  }
  {
    OnnxBuilder b(13);
    b.input("x", {1, 3, 8, 8});
    b.init("w", {4, 5, 3, 3}, std::vector<float>(180, 0.0f));
    b.node("Conv", {"x", "w"}, {"y"}, {}, "conv3");
    b.output("y");
    cases.push_back(
        {b.bytes(), "node 'conv3' (Conv): weights [4,5,3,3] do not match input [1,3,8,8]"});
  }
  {
    OnnxBuilder b(13);
    b.input("x", {1, 3, 8, 8});
    b.init("w", {4, 3, 3, 3}, std::vector<float>(108, 0.0f));
    b.node("Conv", {"x", "w"}, {"y"}, {attr_string("auto_pad", "X")}, "conv3");
    b.output("y");
    cases.push_back({b.bytes(), "bad.onnx: node 'conv3' (Conv): unsupported auto_pad 'X'"});
  }
  {
    OnnxBuilder b(13);
    b.input("x", {1, 6});
    b.init_i64("s", {2}, {4, 4});
    b.node("Reshape", {"x", "s"}, {"y"});
    b.output("y");
    cases.push_back({b.bytes(), "cannot reshape [1,6]"});
  }
  {
    OnnxBuilder b(13);
    b.input("x", {1, 4});
    b.node("Relu", {"x"}, {"y"});
    b.output("nothing");
    cases.push_back({b.bytes(), "graph output 'nothing'"});
  }
  {
    OnnxBuilder b(13);
    b.input("x", {1, 4});
    b.node("Relu", {"x"}, {"y"});
    b.output("y");
    auto* t = b.proto().mutable_graph()->add_initializer();
    t->set_name("big");
    t->set_data_type(::onnx::TensorProto::FLOAT);
    t->add_dims(int64_t{1} << 40);
    cases.push_back({b.bytes(), "initializer 'big'"});
    OnnxBuilder c(13);
    c.input("x", {1, 4});
    c.node("Relu", {"x"}, {"y"});
    c.output("y");
    auto* s = c.proto().mutable_graph()->add_initializer();
    s->set_name("str");
    s->set_data_type(::onnx::TensorProto::STRING);
    cases.push_back({c.bytes(), "data type 8"});
  }
  for (const auto& [bytes, expected] : cases) {
    const std::string msg = load_error(bytes);
    EXPECT_NE(msg.find(expected), std::string::npos)
        << "got: " << msg << "\nexpected: " << expected;
    EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
    EXPECT_EQ(msg.rfind("bad.onnx", 0), 0u) << msg;
  }
}

TEST(BadInput, WrongBuffersAndBatch) {
  OnnxBuilder b(13);
  b.input("x", {2, 4});
  b.node("Relu", {"x"}, {"y"});
  b.output("y");
  const Model model = Model::from_bytes(b.bytes(), "fixed.onnx");
  EXPECT_THROW(Session(model, {.batch = 3}), InputError);
  Session s(model, {.batch = 2});
  std::vector<float> x(7), y(8);
  EXPECT_THROW(s.run(x, y), InputError);
  EXPECT_THROW(parse_backend("cuda"), InputError);
}

// Loading is linear in the graph's size: every pass keeps its producer/reader links current
// instead of recomputing them per rewrite. 50,000 Gemm+Relu pairs (100,000 nodes, 50,000 fusions)
// load, compile and run well inside a minute; the quadratic passes took many minutes. The graph
// computes relu(x) (identity weights), so the result is checked too.
TEST(LargeGraphs, ImportAndPassesAreLinear) {
  const int pairs = 50'000;
  OnnxBuilder b(13);
  b.input("x", {-1, 4});
  b.init("eye", {4, 4}, {1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1});
  std::string x = "x";
  for (int i = 0; i < pairs; ++i) {
    const std::string g = "g" + std::to_string(i), r = "r" + std::to_string(i);
    b.node("Gemm", {x, "eye"}, {g}, {attr_int("transB", 1)});
    b.node("Relu", {g}, {r});
    x = r;
  }
  b.output(x);
  const std::string bytes = b.bytes();
  auto work = std::async(std::launch::async, [&] {
    const Model model = Model::from_bytes(bytes, "long_chain");
    return run_model(model, Backend::reference, 1, {-1.5f, 0.0f, 2.0f, -0.25f});
  });
  ASSERT_EQ(work.wait_for(std::chrono::seconds(60)), std::future_status::ready)
      << "loading a 100,000-node graph stalls";
  EXPECT_EQ(work.get(), (std::vector<float>{0.0f, 0.0f, 2.0f, 0.0f}));
}

}  // namespace
}  // namespace pitlane::runtime
