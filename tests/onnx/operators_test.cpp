// The operator table (consistent with enum Op, every file operator findable), typed attributes
// (each operator's ONNX defaults, kinds checked once at import) and shape rules run through it.
#include "pitlane/onnx/operators.h"

#include <gtest/gtest.h>
#include <onnx/onnx_pb.h>

#include "pitlane/core/error.h"
#include "pitlane/onnx/edit.h"
#include "pitlane/onnx/import.h"
#include "pitlane/onnx/shapes.h"
#include "pitlane/onnx/tensor.h"

namespace pitlane::onnx {
namespace {

TEST(OperatorTable, EveryOpHasItsEntryAndFileOperatorsAreFound) {
  for (int i = 0; i <= static_cast<int>(Op::DynamicQuantizeZeroPoint); ++i) {
    const OpSpec& spec = spec_of(static_cast<Op>(i));
    EXPECT_EQ(static_cast<int>(spec.op), i);
    EXPECT_STREQ(op_name(spec.op), spec.name);
    EXPECT_LE(spec.min_inputs, spec.max_inputs) << spec.name;
    EXPECT_GE(spec.max_outputs, 1) << spec.name;
    const OpSpec* found = find_operator(spec.name, spec.domain);
    if (spec.internal)
      EXPECT_EQ(found, nullptr) << spec.name << " is internal and must not load from a file";
    else
      EXPECT_EQ(found, &spec) << spec.name;
  }
  EXPECT_EQ(find_operator("Conv", "ai.onnx"), &spec_of(Op::Conv));
  EXPECT_EQ(find_operator("QGemm", ""), nullptr);  // com.microsoft only
  EXPECT_EQ(find_operator("Softmax", ""), nullptr);
  EXPECT_NE(supported_operators().find("QGemm"), std::string::npos);
  EXPECT_EQ(supported_operators().find("Affine"), std::string::npos);
}

TEST(TypedAttributes, DefaultsPerOperator) {
  const Attributes conv = node_attributes(make_node("Conv", {"x", "w"}, {"y"}, "c"), "c");
  EXPECT_EQ(conv.strides, (std::vector<int64_t>{1, 1}));
  EXPECT_EQ(conv.pads, (std::vector<int64_t>{0, 0, 0, 0}));
  EXPECT_EQ(conv.group, 1);
  EXPECT_EQ(conv.auto_pad, AutoPad::notset);
  EXPECT_EQ(node_attributes(make_node("LeakyRelu", {"x"}, {"y"}, "l"), "l").alpha, 0.01f);
  EXPECT_EQ(node_attributes(make_node("Elu", {"x"}, {"y"}, "e"), "e").alpha, 1.0f);
  EXPECT_EQ(node_attributes(make_node("Flatten", {"x"}, {"y"}, "f"), "f").axis, 1);
  EXPECT_EQ(node_attributes(make_node("Gather", {"x", "i"}, {"y"}, "g"), "g").axis, 0);
  EXPECT_EQ(node_attributes(make_node("DequantizeLinear", {"x", "s"}, {"y"}, "d"), "d").axis, 1);
  const Attributes bn = node_attributes(
      make_node("BatchNormalization", {"x", "a", "b", "m", "v"}, {"y"}, "bn"), "bn");
  EXPECT_EQ(bn.epsilon, 1e-5f);

  ::onnx::NodeProto gemm = make_node("Gemm", {"a", "b"}, {"y"}, "g");
  set_attr_int(gemm, "transB", 1);
  set_attr_float(gemm, "alpha", 0.5f);
  const Attributes g = node_attributes(gemm, "g");
  EXPECT_TRUE(g.trans_b);
  EXPECT_FALSE(g.trans_a);
  EXPECT_EQ(g.alpha, 0.5f);
  EXPECT_EQ(g.beta, 1.0f);
}

TEST(TypedAttributes, MalformedAttributesAreRefusedWithTheNode) {
  auto message = [](const ::onnx::NodeProto& n) {
    try {
      node_attributes(n, "m.onnx: node 'n' (" + n.op_type() + ")");
    } catch (const InputError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  ::onnx::NodeProto conv = make_node("Conv", {"x", "w"}, {"y"}, "n");
  set_attr_float(conv, "group", 2.0f);
  EXPECT_EQ(message(conv), "m.onnx: node 'n' (Conv): attribute 'group' must be an int");

  ::onnx::NodeProto pad = make_node("Conv", {"x", "w"}, {"y"}, "n");
  auto* a = pad.add_attribute();
  a->set_name("auto_pad");
  a->set_type(::onnx::AttributeProto::STRING);
  a->set_s("SAME_SIDEWAYS");
  EXPECT_NE(message(pad).find("unsupported auto_pad 'SAME_SIDEWAYS'"), std::string::npos);

  ::onnx::NodeProto perm = make_node("Transpose", {"x"}, {"y"}, "n");
  set_attr_ints(perm, "perm", std::vector<int64_t>(65, 0));
  EXPECT_NE(message(perm).find("attribute 'perm' is too long"), std::string::npos);

  EXPECT_NE(message(make_node("Softmax", {"x"}, {"y"}, "n")).find("not supported"),
            std::string::npos);
}

// A Conv with auto_pad=SAME_UPPER through the importer and its shape rule: pads become explicit.
TEST(ShapeRules, ConvSameUpperBecomesExplicitPads) {
  ::onnx::ModelProto m;
  m.set_ir_version(7);
  m.add_opset_import()->set_version(13);
  auto& g = *m.mutable_graph();
  auto* in = g.add_input();
  in->set_name("x");
  auto* tt = in->mutable_type()->mutable_tensor_type();
  tt->set_elem_type(::onnx::TensorProto::FLOAT);
  for (int64_t d : {1, 2, 7, 8}) tt->mutable_shape()->add_dim()->set_dim_value(d);
  add_initializer(g, float_tensor("w", {3, 2, 3, 3}, std::vector<float>(54, 0.1f)));
  ::onnx::NodeProto conv = make_node("Conv", {"x", "w"}, {"y"}, "conv");
  set_attr_ints(conv, "strides", {2, 2});
  auto* a = conv.add_attribute();
  a->set_name("auto_pad");
  a->set_type(::onnx::AttributeProto::STRING);
  a->set_s("SAME_UPPER");
  *g.add_node() = conv;
  g.add_output()->set_name("y");

  Graph graph = import_model(m, "same.onnx");
  ASSERT_EQ(graph.nodes.size(), 1u);
  Node& n = graph.nodes[0];
  EXPECT_EQ(n.attrs.auto_pad, AutoPad::same_upper);
  infer_node(graph, n);
  // Output ceil(7/2) x ceil(8/2) = 4 x 4; total padding (4-1)*2+3-7 = 2 rows (1+1) and
  // (4-1)*2+3-8 = 1 column, the odd one at the end for SAME_UPPER.
  EXPECT_EQ(graph.values[n.outputs[0]].shape, (std::vector<int64_t>{1, 3, 4, 4}));
  EXPECT_EQ(n.attrs.pads, (std::vector<int64_t>{1, 0, 1, 1}));
  EXPECT_EQ(n.attrs.auto_pad, AutoPad::notset);
  EXPECT_EQ(n.attrs.kernel_shape, (std::vector<int64_t>{3, 3}));
}

}  // namespace
}  // namespace pitlane::onnx
