// Test-side ONNX model builder (ONNX protobuf API) and the PilotNet graphs the runtime's tests
// run: as pitlane writes it, as PyTorch's exporter shapes it, as Keras converters shape it.
//
//   OnnxBuilder b(/*opset=*/13);
//   b.input("x", {-1, 3, 8, 8});
//   b.init("w", {4, 3, 3, 3}, random_values(108, rng));
//   b.node("Conv", {"x", "w"}, {"y"}, {ints("pads", {1, 1, 1, 1})});
//   b.output("y");
//   std::string bytes = b.bytes();
#pragma once

#include <onnx/onnx_pb.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace pitlane::runtime::testing {

inline ::onnx::AttributeProto attr_int(const std::string& name, int64_t v) {
  ::onnx::AttributeProto a;
  a.set_name(name);
  a.set_type(::onnx::AttributeProto::INT);
  a.set_i(v);
  return a;
}
inline ::onnx::AttributeProto attr_float(const std::string& name, float v) {
  ::onnx::AttributeProto a;
  a.set_name(name);
  a.set_type(::onnx::AttributeProto::FLOAT);
  a.set_f(v);
  return a;
}
inline ::onnx::AttributeProto attr_string(const std::string& name, const std::string& v) {
  ::onnx::AttributeProto a;
  a.set_name(name);
  a.set_type(::onnx::AttributeProto::STRING);
  a.set_s(v);
  return a;
}
inline ::onnx::AttributeProto attr_ints(const std::string& name, const std::vector<int64_t>& v) {
  ::onnx::AttributeProto a;
  a.set_name(name);
  a.set_type(::onnx::AttributeProto::INTS);
  for (int64_t x : v) a.add_ints(x);
  return a;
}

inline std::vector<float> random_values(size_t n, std::mt19937& rng, float scale = 1.0f) {
  std::uniform_real_distribution<float> u(-scale, scale);
  std::vector<float> v(n);
  for (float& x : v) x = u(rng);
  return v;
}

class OnnxBuilder {
 public:
  explicit OnnxBuilder(int64_t opset) {
    model_.set_ir_version(opset >= 21 ? 10 : opset >= 19 ? 9 : 8);
    model_.set_producer_name("pitlane-tests");
    auto* op = model_.add_opset_import();
    op->set_domain("");
    op->set_version(opset);
    model_.mutable_graph()->set_name("test");
  }
  // dims: -1 = dynamic (dim_param "N").
  OnnxBuilder& input(const std::string& name, const std::vector<int64_t>& dims) {
    auto* in = model_.mutable_graph()->add_input();
    in->set_name(name);
    auto* tt = in->mutable_type()->mutable_tensor_type();
    tt->set_elem_type(::onnx::TensorProto::FLOAT);
    for (int64_t d : dims) {
      auto* dim = tt->mutable_shape()->add_dim();
      if (d < 0)
        dim->set_dim_param("N");
      else
        dim->set_dim_value(d);
    }
    return *this;
  }
  OnnxBuilder& output(const std::string& name, int elem_type = ::onnx::TensorProto::FLOAT) {
    auto* out = model_.mutable_graph()->add_output();
    out->set_name(name);
    out->mutable_type()->mutable_tensor_type()->set_elem_type(elem_type);
    return *this;
  }
  // An input of another element type (uint8 pixels, ...).
  OnnxBuilder& typed_input(const std::string& name, const std::vector<int64_t>& dims,
                           int elem_type) {
    input(name, dims);
    auto* in = model_.mutable_graph()->mutable_input(model_.graph().input_size() - 1);
    in->mutable_type()->mutable_tensor_type()->set_elem_type(elem_type);
    return *this;
  }
  // Integer initializers: UINT8, INT8 (raw bytes) or INT32 (raw little-endian).
  OnnxBuilder& init_int(const std::string& name, const std::vector<int64_t>& dims, int data_type,
                        const std::vector<int32_t>& data) {
    auto* t = model_.mutable_graph()->add_initializer();
    t->set_name(name);
    t->set_data_type(data_type);
    for (int64_t d : dims) t->add_dims(d);
    std::string raw;
    for (int32_t x : data) {
      if (data_type == ::onnx::TensorProto::INT32)
        raw.append(reinterpret_cast<const char*>(&x), 4);
      else
        raw.push_back(static_cast<char>(x));
    }
    t->set_raw_data(raw);
    return *this;
  }
  // Declares an operator domain (e.g. "com.microsoft" for QGemm).
  OnnxBuilder& domain(const std::string& name, int64_t version) {
    auto* op = model_.add_opset_import();
    op->set_domain(name);
    op->set_version(version);
    return *this;
  }
  OnnxBuilder& init(const std::string& name, const std::vector<int64_t>& dims,
                    const std::vector<float>& data) {
    auto* t = model_.mutable_graph()->add_initializer();
    t->set_name(name);
    t->set_data_type(::onnx::TensorProto::FLOAT);
    for (int64_t d : dims) t->add_dims(d);
    t->set_raw_data(
        std::string(reinterpret_cast<const char*>(data.data()), data.size() * sizeof(float)));
    return *this;
  }
  OnnxBuilder& init_i64(const std::string& name, const std::vector<int64_t>& dims,
                        const std::vector<int64_t>& data) {
    auto* t = model_.mutable_graph()->add_initializer();
    t->set_name(name);
    t->set_data_type(::onnx::TensorProto::INT64);
    for (int64_t d : dims) t->add_dims(d);
    for (int64_t x : data) t->add_int64_data(x);
    return *this;
  }
  // A Constant node holding int64 values (as exporters emit for shapes and axes).
  OnnxBuilder& constant_i64(const std::string& name, const std::vector<int64_t>& dims,
                            const std::vector<int64_t>& data) {
    auto* n = model_.mutable_graph()->add_node();
    n->set_op_type("Constant");
    n->set_name(name + "_const");
    n->add_output(name);
    auto* a = n->add_attribute();
    a->set_name("value");
    a->set_type(::onnx::AttributeProto::TENSOR);
    auto* t = a->mutable_t();
    t->set_data_type(::onnx::TensorProto::INT64);
    for (int64_t d : dims) t->add_dims(d);
    t->set_raw_data(std::string(reinterpret_cast<const char*>(data.data()), data.size() * 8));
    return *this;
  }
  OnnxBuilder& node(const std::string& op, const std::vector<std::string>& inputs,
                    const std::vector<std::string>& outputs,
                    const std::vector<::onnx::AttributeProto>& attrs = {},
                    const std::string& name = "", const std::string& domain = "") {
    auto* n = model_.mutable_graph()->add_node();
    n->set_op_type(op);
    if (!domain.empty()) n->set_domain(domain);
    n->set_name(name.empty() ? outputs.at(0) : name);
    for (const auto& i : inputs) n->add_input(i);
    for (const auto& o : outputs) n->add_output(o);
    for (const auto& a : attrs) *n->add_attribute() = a;
    return *this;
  }
  OnnxBuilder& metadata(const std::string& key, const std::string& value) {
    auto* p = model_.add_metadata_props();
    p->set_key(key);
    p->set_value(value);
    return *this;
  }
  ::onnx::ModelProto& proto() { return model_; }
  std::string bytes() const { return model_.SerializeAsString(); }

 private:
  ::onnx::ModelProto model_;
};

enum class Padding { valid, same };
enum class Exporter { pitlane, torch, keras };

// TF "same" pads for one spatial dimension: [begin, end] (the odd pixel at the end).
inline std::pair<int64_t, int64_t> same_pads(int64_t in, int64_t k, int64_t s) {
  const int64_t out = (in + s - 1) / s;
  const int64_t total = std::max<int64_t>(0, (out - 1) * s + k - in);
  return {total / 2, total - total / 2};
}

// PilotNet (REFERENCE.md section 4) with seeded random weights.
//   pitlane: NCHW input "image" [N,3,66,200], BatchNormalization, Conv+Relu x5, Flatten, Gemm
//            (transB=1) + Relu x4, Gemm -> "vw" [N,2]; explicit asymmetric pads for `same`.
//   torch:   as PyTorch's exporter: Shape->Gather->Unsqueeze->Concat->Reshape flatten, Gemm
//            transB=1, Dropout in eval mode, Identity.
//   keras:   NHWC input [N,66,200,3] + Transpose, BatchNormalization node, NHWC flatten
//            (Transpose back + Reshape), MatMul + Add instead of Gemm.
inline std::string pilotnet_onnx(Padding padding, Exporter exporter, int64_t opset, uint32_t seed) {
  std::mt19937 rng(seed);
  OnnxBuilder b(opset);
  std::string x = "image";
  if (exporter == Exporter::keras) {
    b.input("image", {-1, 66, 200, 3});
    b.node("Transpose", {"image"}, {"image_nchw"}, {attr_ints("perm", {0, 3, 1, 2})});
    x = "image_nchw";
  } else {
    b.input("image", {-1, 3, 66, 200});
  }
  // Input normalization as a BatchNormalization node (kept as a node, like Keras converters).
  b.init("bn.scale", {3}, {1.1f, 0.9f, 1.2f});
  b.init("bn.bias", {3}, {0.1f, -0.2f, 0.05f});
  b.init("bn.mean", {3}, {0.2f, -0.1f, 0.3f});
  b.init("bn.var", {3}, {1.5f, 0.8f, 1.1f});
  b.node("BatchNormalization", {x, "bn.scale", "bn.bias", "bn.mean", "bn.var"}, {"bn"},
         {attr_float("epsilon", 1e-3f)}, "input_norm");
  x = "bn";
  struct ConvSpec {
    int64_t oc, k, s;
  };
  const ConvSpec convs[] = {{24, 5, 2}, {36, 5, 2}, {48, 5, 2}, {64, 3, 1}, {64, 3, 1}};
  int64_t c = 3, h = 66, w = 200;
  for (int i = 0; i < 5; ++i) {
    const auto [oc, k, s] = convs[i];
    const std::string name = "conv" + std::to_string(i + 1);
    const float scale = std::sqrt(6.0f / static_cast<float>(c * k * k));
    b.init(name + ".weight", {oc, c, k, k}, random_values(oc * c * k * k, rng, scale));
    b.init(name + ".bias", {oc}, random_values(oc, rng, 0.1f));
    std::vector<::onnx::AttributeProto> attrs = {attr_ints("kernel_shape", {k, k}),
                                                 attr_ints("strides", {s, s})};
    if (padding == Padding::same) {
      const auto [pt, pb] = same_pads(h, k, s);
      const auto [pl, pr] = same_pads(w, k, s);
      attrs.push_back(attr_ints("pads", {pt, pl, pb, pr}));
      h = (h + s - 1) / s;
      w = (w + s - 1) / s;
    } else {
      h = (h - k) / s + 1;
      w = (w - k) / s + 1;
    }
    b.node("Conv", {x, name + ".weight", name + ".bias"}, {name}, attrs);
    b.node("Relu", {name}, {name + "_relu"});
    x = name + "_relu";
    c = oc;
  }
  const int64_t flat = c * h * w;
  if (exporter == Exporter::torch) {
    b.node("Shape", {x}, {"shape"});
    b.constant_i64("zero", {}, {0});
    b.node("Gather", {"shape", "zero"}, {"batch"}, {attr_int("axis", 0)});
    if (opset >= 13) {
      b.constant_i64("axes0", {1}, {0});
      b.node("Unsqueeze", {"batch", "axes0"}, {"batch1"});
    } else {
      b.node("Unsqueeze", {"batch"}, {"batch1"}, {attr_ints("axes", {0})});
    }
    b.constant_i64("minus1", {1}, {-1});
    b.node("Concat", {"batch1", "minus1"}, {"flat_shape"}, {attr_int("axis", 0)});
    b.node("Reshape", {x, "flat_shape"}, {"flat"});
  } else if (exporter == Exporter::keras) {
    b.node("Transpose", {x}, {"nhwc"}, {attr_ints("perm", {0, 2, 3, 1})});
    b.init_i64("flat_shape", {2}, {-1, flat});
    b.node("Reshape", {"nhwc", "flat_shape"}, {"flat"});
  } else {
    b.node("Flatten", {x}, {"flat"}, {attr_int("axis", 1)});
  }
  x = "flat";
  const int64_t dense[] = {1164, 100, 50, 10, 2};
  int64_t in = flat;
  for (int i = 0; i < 5; ++i) {
    const int64_t out = dense[i];
    const std::string name = "fc" + std::to_string(i + 1);
    const float scale = std::sqrt(6.0f / static_cast<float>(in));
    auto wv = random_values(out * in, rng, scale);
    b.init(name + ".bias", {out}, random_values(out, rng, 0.1f));
    const std::string y = i == 4 ? "vw" : name;
    if (exporter == Exporter::keras) {
      // Keras kernels are [in, out]: MatMul then Add.
      b.init(name + ".kernel", {in, out}, wv);
      b.node("MatMul", {x, name + ".kernel"}, {name + "_mm"});
      b.node("Add", {name + "_mm", name + ".bias"}, {i == 4 ? y : name + "_add"});
      if (i < 4) b.node("Relu", {name + "_add"}, {name + "_relu"});
    } else {
      b.init(name + ".weight", {out, in}, wv);
      b.node("Gemm", {x, name + ".weight", name + ".bias"}, {i == 4 ? y : name},
             {attr_int("transB", 1), attr_float("alpha", 1.0f), attr_float("beta", 1.0f)});
      if (i < 4) b.node("Relu", {name}, {name + "_relu"});
    }
    x = name + "_relu";
    if (exporter == Exporter::torch && i == 0) {
      b.node("Dropout", {x}, {name + "_drop"});
      x = name + "_drop";
    }
    in = out;
  }
  b.output("vw");
  b.metadata("pitlane.outputs", R"({"names":["v","w"]})");
  return b.bytes();
}

// A small QDQ model as ONNX Runtime's static quantizer writes it: uint8 input quantization,
// int8 per-channel Conv weights, int32 bias through DequantizeLinear, Conv + Relu, Flatten, an
// int8 Gemm and a float output. pitlane fuses it into QLinearConv and QGemm.
inline std::string qdq_conv_gemm_onnx(uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> w8(-127, 127), b32(-500, 500);
  auto ints = [&](size_t n, std::uniform_int_distribution<int>& d) {
    std::vector<int32_t> v(n);
    for (auto& x : v) x = d(rng);
    return v;
  };
  const int64_t oc = 8, c = 3;
  OnnxBuilder b(13);
  b.input("x", {-1, c, 10, 12});
  b.init("xs", {}, {0.02f});
  b.init_int("xzp", {}, ::onnx::TensorProto::UINT8, {128});
  b.node("QuantizeLinear", {"x", "xs", "xzp"}, {"xq"});
  b.node("DequantizeLinear", {"xq", "xs", "xzp"}, {"xd"});
  b.init_int("w", {oc, c, 3, 3}, ::onnx::TensorProto::INT8, ints(oc * c * 9, w8));
  std::vector<float> ws(oc), bs(oc);
  for (int64_t i = 0; i < oc; ++i) ws[i] = 0.004f + 0.001f * i, bs[i] = 0.02f * ws[i];
  b.init("ws", {oc}, ws);
  b.init_int("wzp", {oc}, ::onnx::TensorProto::INT8, std::vector<int32_t>(oc, 0));
  b.node("DequantizeLinear", {"w", "ws", "wzp"}, {"wd"}, {attr_int("axis", 0)});
  b.init_int("b", {oc}, ::onnx::TensorProto::INT32, ints(oc, b32));
  b.init("bs", {oc}, bs);
  b.node("DequantizeLinear", {"b", "bs"}, {"bd"}, {attr_int("axis", 0)});
  b.node("Conv", {"xd", "wd", "bd"}, {"conv"}, {attr_ints("strides", {2, 2})});
  b.node("Relu", {"conv"}, {"relu"});
  b.init("ys", {}, {0.01f});
  b.init_int("yzp", {}, ::onnx::TensorProto::UINT8, {0});
  b.node("QuantizeLinear", {"relu", "ys", "yzp"}, {"yq"});
  b.node("DequantizeLinear", {"yq", "ys", "yzp"}, {"yd"});
  b.node("Flatten", {"yd"}, {"flat"});
  b.init_int("fw", {4, oc * 20}, ::onnx::TensorProto::INT8, ints(4 * oc * 20, w8));
  b.init("fs", {}, {0.004f});
  b.node("DequantizeLinear", {"fw", "fs"}, {"fwd"});
  b.node("Gemm", {"flat", "fwd"}, {"y"}, {attr_int("transB", 1)});
  b.output("y");
  return b.bytes();
}

// Quantized operators in ONNX Runtime's dynamic and QOperator forms, with a float16 weight.
inline std::string mixed_quantized_onnx() {
  using ::onnx::TensorProto;
  OnnxBuilder b(13);
  b.domain("com.microsoft", 1);
  b.input("x", {-1, 3, 6, 6});
  b.node("DynamicQuantizeLinear", {"x"}, {"xq", "xs", "xzp"});
  b.init_int("w", {4, 3, 3, 3}, TensorProto::INT8, std::vector<int32_t>(108, 3));
  b.init_int("wzp", {}, TensorProto::INT8, {0});
  b.node("ConvInteger", {"xq", "w", "xzp", "wzp"}, {"acc"});
  b.node("Cast", {"acc"}, {"accf"}, {attr_int("to", TensorProto::FLOAT)});
  b.node("Mul", {"accf", "xs"}, {"c"});
  b.init("qs", {}, {0.05f});
  b.init_int("qzp", {}, TensorProto::UINT8, {10});
  b.node("QuantizeLinear", {"c", "qs", "qzp"}, {"cq"});
  b.node("Flatten", {"cq"}, {"f"});
  b.init_int("g", {64, 2}, TensorProto::UINT8, std::vector<int32_t>(128, 130));
  b.init("gs", {2}, {0.01f, 0.02f});
  b.init_int("gzp", {2}, TensorProto::UINT8, {128, 127});
  b.init("ys", {}, {0.1f});
  b.init_int("yzp", {}, TensorProto::UINT8, {128});
  b.node("QLinearMatMul", {"f", "qs", "qzp", "g", "gs", "gzp", "ys", "yzp"}, {"m"});
  b.init_int("h", {2, 2}, TensorProto::INT8, {1, -2, 3, -4});
  b.init("hs", {}, {0.5f});
  b.init_int("hb", {2}, TensorProto::INT32, {7, -7});
  b.init_int("hzp", {}, TensorProto::INT8, {0});
  b.node("QGemm", {"m", "ys", "yzp", "h", "hs", "hzp", "hb"}, {"y0"}, {attr_int("transB", 1)}, "qg",
         "com.microsoft");
  auto& half = *b.proto().mutable_graph()->add_initializer();
  half.set_name("k16");
  half.set_data_type(TensorProto::FLOAT16);
  half.add_dims(2);
  half.set_raw_data(std::string("\x00\x3c\x00\x40", 4));  // 1.0, 2.0
  b.node("Cast", {"k16"}, {"k"}, {attr_int("to", TensorProto::FLOAT)});
  b.node("Mul", {"y0", "k"}, {"y"});
  b.output("y");
  return b.bytes();
}

}  // namespace pitlane::runtime::testing
