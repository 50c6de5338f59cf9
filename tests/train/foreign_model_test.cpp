// pitlane eval must accept ONNX models it did not write. This builds PilotNet the way other
// exporters lay it out (tf2onnx: NHWC input and a Transpose, Conv with auto_pad=SAME_UPPER, MatMul
// + Add; PyTorch: Shape/Gather/Unsqueeze/Concat/Reshape for the flatten) and checks the eval
// executor reproduces libtorch on the same weights.
#include <gtest/gtest.h>
#include <onnx/onnx_pb.h>

#include "pitlane/core/files.h"
#include "pitlane/core/rng.h"
#include "pitlane/data/model_metadata.h"
#include "pitlane/eval/model_runner.h"
#include "pitlane/train/trainer.h"
#include "synthetic.h"

namespace pitlane::train {
namespace {

class ForeignGraph {
 public:
  ForeignGraph() {
    model_.set_ir_version(7);
    model_.add_opset_import()->set_version(13);
  }
  void init(const std::string& name, std::vector<int64_t> dims, const std::vector<float>& v) {
    auto* t = g().add_initializer();
    t->set_name(name);
    t->set_data_type(::onnx::TensorProto::FLOAT);
    for (auto d : dims) t->add_dims(d);
    for (float x : v) t->add_float_data(x);  // float_data rather than raw_data, like some tools
  }
  void init_i64(const std::string& name, std::vector<int64_t> v) {
    auto* t = g().add_initializer();
    t->set_name(name);
    t->set_data_type(::onnx::TensorProto::INT64);
    t->add_dims(static_cast<int64_t>(v.size()));
    for (auto x : v) t->add_int64_data(x);
  }
  ::onnx::NodeProto* node(const std::string& op, std::vector<std::string> in, std::string out) {
    auto* n = g().add_node();
    n->set_op_type(op);
    n->set_name(out);
    for (auto& i : in) n->add_input(i);
    n->add_output(out);
    return n;
  }
  static void ints(::onnx::NodeProto* n, const std::string& name, std::vector<int64_t> v) {
    auto* a = n->add_attribute();
    a->set_name(name);
    a->set_type(::onnx::AttributeProto::INTS);
    for (auto x : v) a->add_ints(x);
  }
  static void str(::onnx::NodeProto* n, const std::string& name, const std::string& v) {
    auto* a = n->add_attribute();
    a->set_name(name);
    a->set_type(::onnx::AttributeProto::STRING);
    a->set_s(v);
  }
  static void i(::onnx::NodeProto* n, const std::string& name, int64_t v) {
    auto* a = n->add_attribute();
    a->set_name(name);
    a->set_type(::onnx::AttributeProto::INT);
    a->set_i(v);
  }
  void io(const std::string& in, std::vector<int64_t> in_dims, const std::string& out) {
    auto* vi = g().add_input();
    vi->set_name(in);
    auto* tt = vi->mutable_type()->mutable_tensor_type();
    tt->set_elem_type(::onnx::TensorProto::FLOAT);
    tt->mutable_shape()->add_dim()->set_dim_param("batch");
    for (auto d : in_dims) tt->mutable_shape()->add_dim()->set_dim_value(d);
    auto* vo = g().add_output();
    vo->set_name(out);
    vo->mutable_type()->mutable_tensor_type()->set_elem_type(::onnx::TensorProto::FLOAT);
  }
  void meta(const std::string& k, const std::string& v) {
    auto* p = model_.add_metadata_props();
    p->set_key(k);
    p->set_value(v);
  }
  std::string bytes() const { return model_.SerializeAsString(); }

 private:
  ::onnx::GraphProto& g() { return *model_.mutable_graph(); }
  ::onnx::ModelProto model_;
};

TEST(ForeignModel, TfStyleNhwcSameArchitectureMatchesLibtorch) {
  const PilotNetWeights net = init_pilotnet(Arch::same, 21);
  ForeignGraph f;
  f.io("input_1", {66, 200, 3}, "dense_out");
  data::PreprocessSpec spec;
  spec.layout = "nhwc";
  f.meta("pitlane.preprocess", data::preprocess_to_json(spec));
  f.node("Transpose", {"input_1"}, "nchw");
  ForeignGraph::ints(f.node("Transpose", {"input_1"}, "nchw_unused"), "perm", {0, 3, 1, 2});
  // The first Transpose above has no perm (reverses all axes) and is unused: a dead node.
  ForeignGraph::ints(f.node("Transpose", {"input_1"}, "x0"), "perm", {0, 3, 1, 2});
  const auto& bn = net.input_norm;
  f.init("s", {3}, bn.scale);
  f.init("b", {3}, bn.bias);
  f.init("m", {3}, bn.mean);
  f.init("v", {3}, bn.var);
  f.node("BatchNormalization", {"x0", "s", "b", "m", "v"}, "x1");
  std::string x = "x1";
  for (size_t l = 0; l < net.convs.size(); ++l) {
    const auto& c = net.convs[l];
    const std::string p = "c" + std::to_string(l);
    f.init(p + "w", {c.out_channels, c.in_channels, c.kernel, c.kernel}, c.weight);
    f.init(p + "b", {c.out_channels}, c.bias);
    auto* conv = f.node("Conv", {x, p + "w", p + "b"}, p + "o");
    ForeignGraph::str(conv, "auto_pad", "SAME_UPPER");
    ForeignGraph::ints(conv, "strides", {c.stride, c.stride});
    f.node("Relu", {p + "o"}, p + "r");
    x = p + "r";
  }
  // PyTorch-style flatten: Reshape(x, Concat(Unsqueeze(Gather(Shape(x), 0)), [-1])).
  f.node("Shape", {x}, "shape");
  f.init_i64("zero", {0});
  auto* gather = f.node("Gather", {"shape", "zero"}, "batch");
  ForeignGraph::i(gather, "axis", 0);
  f.init_i64("minus1", {-1});
  auto* concat = f.node("Concat", {"batch", "minus1"}, "newshape");
  ForeignGraph::i(concat, "axis", 0);
  f.node("Reshape", {x, "newshape"}, "flat");
  x = "flat";
  for (size_t l = 0; l < net.dense.size(); ++l) {
    const auto& d = net.dense[l];
    const std::string p = "d" + std::to_string(l);
    // MatMul wants [in, out]: transpose the [out, in] weights.
    std::vector<float> wt(d.weight.size());
    for (int o = 0; o < d.out_features; ++o) {
      for (int k = 0; k < d.in_features; ++k) {
        wt[static_cast<size_t>(k) * d.out_features + o] =
            d.weight[static_cast<size_t>(o) * d.in_features + k];
      }
    }
    f.init(p + "w", {d.in_features, d.out_features}, wt);
    f.init(p + "b", {d.out_features}, d.bias);
    f.node("MatMul", {x, p + "w"}, p + "m");
    const bool last = l + 1 == net.dense.size();
    f.node("Add", {p + "m", p + "b"}, last ? "dense_out" : p + "a");
    if (!last) {
      f.node("Relu", {p + "a"}, p + "r");
      x = p + "r";
    }
  }
  test::TempDir tmp("foreign");
  write_file_atomic(tmp.path() / "tf.onnx", f.bytes());
  eval::OpenedModel m = eval::open_model(tmp.path() / "tf.onnx", 2);

  const int64_t n = 2, hw = 66 * 200;
  Rng rng(4);
  std::vector<float> nchw(n * 3 * hw), nhwc(nchw.size());
  for (float& v : nchw) v = static_cast<float>(rng.uniform(-2, 2));
  for (int64_t b = 0; b < n; ++b) {
    for (int64_t c = 0; c < 3; ++c) {
      for (int64_t p = 0; p < hw; ++p) nhwc[(b * hw + p) * 3 + c] = nchw[(b * 3 + c) * hw + p];
    }
  }
  const std::vector<float> want = torch_forward(net, nchw, n);
  std::vector<float> got(4);
  m.runner.run(nhwc, n, got);
  for (size_t k = 0; k < 4; ++k) EXPECT_NEAR(got[k], want[k], 1e-4) << k;
}

}  // namespace
}  // namespace pitlane::train
