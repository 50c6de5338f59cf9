#include "pitlane/quant/recipes.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <set>

#include "pitlane/core/error.h"
#include "pitlane/onnx/batchnorm.h"
#include "pitlane/onnx/edit.h"
#include "pitlane/onnx/model_file.h"
#include "pitlane/onnx/operators.h"
#include "pitlane/onnx/tensor.h"

namespace pitlane::quant {
namespace {

using ::onnx::TensorProto;

// The node's typed attributes (its operator's defaults where absent).
onnx::Attributes attributes(const ::onnx::NodeProto& n) {
  return onnx::node_attributes(n, "node '" + onnx::printable(n.name()) + "'");
}

std::vector<int64_t> dims_of(const TensorProto& t) {
  return {t.dims().begin(), t.dims().end()};
}

bool is_view(const ::onnx::NodeProto& n) {
  return n.op_type() == "Flatten" || n.op_type() == "Reshape";
}

// Weights quantized to int8, symmetric, one scale per slice along `axis`.
struct QuantizedWeights {
  std::vector<int32_t> q;
  std::vector<float> scale;  // one per channel
};

QuantizedWeights quantize_weights(const std::vector<float>& w, const std::vector<int64_t>& dims,
                                  int axis) {
  int64_t outer = 1, inner = 1;
  for (int d = 0; d < axis; ++d) outer *= dims[d];
  for (size_t d = axis + 1; d < dims.size(); ++d) inner *= dims[d];
  const int64_t channels = dims[axis];
  QuantizedWeights out{std::vector<int32_t>(w.size()), std::vector<float>(channels, 0.0f)};
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t c = 0; c < channels; ++c)
      for (int64_t i = 0; i < inner; ++i)
        out.scale[c] = std::max(out.scale[c], std::abs(w[(o * channels + c) * inner + i]));
  for (float& s : out.scale) s = s > 0 ? s / 127.0f : 1.0f;
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t c = 0; c < channels; ++c)
      for (int64_t i = 0; i < inner; ++i) {
        const int64_t k = (o * channels + c) * inner + i;
        out.q[k] =
            static_cast<int32_t>(std::clamp(std::nearbyint(w[k] / out.scale[c]), -127.0f, 127.0f));
      }
  return out;
}

// The weight's output-channel axis for a quantizable node.
int weight_axis(const ::onnx::NodeProto& n) {
  if (n.op_type() == "Conv") return 0;
  if (n.op_type() == "Gemm" && attributes(n).trans_b) return 0;
  return 1;
}

const TensorProto& initializer(const ::onnx::GraphProto& g, const std::string& name) {
  const TensorProto* t = onnx::find_initializer(g, name);
  if (!t) throw InputError("'" + name + "' is not an initializer");
  return *t;
}

void drop_if_unused(::onnx::GraphProto& g, const std::string& name) {
  if (onnx::readers_of(g, name).empty() && !onnx::is_graph_output(g, name))
    onnx::remove_initializer(g, name);
}

int sole_reader(const ::onnx::GraphProto& g, const std::string& value) {
  const auto r = onnx::readers_of(g, value);
  if (r.size() != 1 || onnx::is_graph_output(g, value)) return -1;
  return r[0];
}

// The tensor holding a quantizable node's result: its output, or the Relu's right after it.
std::string result_of(const ::onnx::GraphProto& g, const ::onnx::NodeProto& n) {
  const int r = sole_reader(g, n.output(0));
  if (r >= 0 && g.node(r).op_type() == "Relu") return g.node(r).output(0);
  return n.output(0);
}

// The tensor whose range quantizes a node's activation input: before a Flatten/Reshape.
std::string input_point(const ::onnx::GraphProto& g, const std::string& x) {
  const int p = onnx::producer_of(g, x);
  if (p >= 0 && is_view(g.node(p)) && sole_reader(g, x) >= 0 &&
      sole_reader(g, g.node(p).input(0)) == p)
    return g.node(p).input(0);
  return x;
}

// The name a quantizable node's new tensors start from.
std::string base_name(const ::onnx::NodeProto& n) {
  return layer_name(n);
}

// Whether node n is one of the layers to quantize.
bool selected(const ::onnx::GraphProto& g, const ::onnx::NodeProto& n,
              const std::optional<std::set<std::string>>& layers) {
  return is_quantizable(g, n) && (!layers || layers->count(layer_name(n)));
}

// Each activation point's parameters from its range: uint8, or int8 for the int8-only graph
// output; the int8-only graph input takes raw uint8 pixels (scale 1, zero point 0).
std::map<std::string, AffineParams> activation_params(const std::vector<std::string>& points,
                                                      const std::map<std::string, Range>& ranges,
                                                      const StaticOptions& options,
                                                      const std::string& input,
                                                      const std::string& output) {
  std::map<std::string, AffineParams> params;
  for (const auto& p : points) {
    auto it = ranges.find(p);
    if (it == ranges.end()) throw InputError("no calibration range for tensor '" + p + "'");
    const bool int8_out = options.int8_only && p == output;
    params[p] = options.int8_only && p == input ? AffineParams{1.0f, 0}
                                                : affine_params(it->second, int8_out);
  }
  return params;
}

// Node i's weight as int8, symmetric per output channel, behind a DequantizeLinear (appended to
// `dq_nodes`); the per-channel scales.
std::vector<float> quantize_node_weight(::onnx::GraphProto& g, int i,
                                        std::vector<::onnx::NodeProto>& dq_nodes) {
  ::onnx::NodeProto& n = *g.mutable_node(i);
  const std::string base = base_name(n);
  const TensorProto& wt = initializer(g, n.input(1));
  const auto dims = dims_of(wt);
  const int axis = weight_axis(n);
  QuantizedWeights qw = quantize_weights(onnx::tensor_floats(wt), dims, axis);
  const int64_t channels = dims[axis];
  const std::string wq = onnx::unique_name(g, base + ".weight_quantized");
  onnx::add_initializer(g, onnx::int_tensor(wq, dims, TensorProto::INT8, qw.q));
  onnx::add_initializer(g, onnx::float_tensor(wq + "_scale", {channels}, qw.scale));
  onnx::add_initializer(g, onnx::int_tensor(wq + "_zero_point", {channels}, TensorProto::INT8,
                                            std::vector<int32_t>(channels, 0)));
  ::onnx::NodeProto dq =
      onnx::make_node("DequantizeLinear", {wq, wq + "_scale", wq + "_zero_point"},
                      {wq + "_dequantized"}, wq + "_dequantize");
  onnx::set_attr_int(dq, "axis", axis);
  dq_nodes.push_back(std::move(dq));
  const std::string old_w = n.input(1);
  n.set_input(1, wq + "_dequantized");
  drop_if_unused(g, old_w);
  return std::move(qw.scale);
}

// Node i's bias, one per channel, as int32 at x_scale * w_scale behind a DequantizeLinear
// (appended to `dq_nodes`).
void quantize_node_bias(::onnx::GraphProto& g, int i, float x_scale,
                        const std::vector<float>& w_scale,
                        std::vector<::onnx::NodeProto>& dq_nodes) {
  const std::string base = base_name(g.node(i));
  const int64_t channels = static_cast<int64_t>(w_scale.size());
  const auto b = onnx::tensor_floats(initializer(g, g.node(i).input(2)));
  std::vector<int32_t> bq(channels);
  std::vector<float> bs(channels);
  for (int64_t c = 0; c < channels; ++c) {
    bs[c] = x_scale * w_scale[c];
    bq[c] = static_cast<int32_t>(
        std::clamp(std::nearbyint(static_cast<double>(b[c]) / bs[c]), -2147483647.0, 2147483647.0));
  }
  const std::string bname = onnx::unique_name(g, base + ".bias_quantized");
  onnx::add_initializer(g, onnx::int_tensor(bname, {channels}, TensorProto::INT32, bq));
  onnx::add_initializer(g, onnx::float_tensor(bname + "_scale", {channels}, bs));
  onnx::add_initializer(g, onnx::int_tensor(bname + "_zero_point", {channels}, TensorProto::INT32,
                                            std::vector<int32_t>(channels, 0)));
  ::onnx::NodeProto bdq =
      onnx::make_node("DequantizeLinear", {bname, bname + "_scale", bname + "_zero_point"},
                      {bname + "_dequantized"}, bname + "_dequantize");
  onnx::set_attr_int(bdq, "axis", 0);
  dq_nodes.push_back(std::move(bdq));
  const std::string old_b = g.node(i).input(2);
  g.mutable_node(i)->set_input(2, bname + "_dequantized");
  drop_if_unused(g, old_b);
}

// True when node i has a bias with one value per output channel.
bool has_channel_bias(const ::onnx::GraphProto& g, int i, int64_t channels) {
  const ::onnx::NodeProto& n = g.node(i);
  return n.input_size() > 2 && !n.input(2).empty() &&
         onnx::element_count(initializer(g, n.input(2))) == channels;
}

// int8-only: the graph input becomes uint8 pixels; only a DequantizeLinear (scale 1) follows it.
// The dequantized tensor's name.
std::string dequantize_uint8_input(::onnx::GraphProto& g) {
  const std::string input = g.input(0).name();
  std::string d = onnx::unique_name(g, input + "_dequantized");
  onnx::add_initializer(g, onnx::float_tensor(d + "_scale", {}, {1.0f}));
  onnx::add_initializer(g, onnx::int_tensor(d + "_zero_point", {}, TensorProto::UINT8, {0}));
  g.mutable_input(0)->mutable_type()->mutable_tensor_type()->set_elem_type(TensorProto::UINT8);
  onnx::redirect_readers(g, input, d);
  onnx::insert_node(g, 0,
                    onnx::make_node("DequantizeLinear", {input, d + "_scale", d + "_zero_point"},
                                    {d}, d + "_dequantize"));
  return d;
}

// Scale and zero-point initializers for activation `p`'s QuantizeLinear; their base name.
std::string add_activation_params(::onnx::GraphProto& g, const std::string& p,
                                  const AffineParams& a, int zero_point_type) {
  std::string q = onnx::unique_name(g, p + "_quantized");
  onnx::add_initializer(g, onnx::float_tensor(q + "_scale", {}, {a.scale}));
  onnx::add_initializer(g,
                        onnx::int_tensor(q + "_zero_point", {}, zero_point_type, {a.zero_point}));
  return q;
}

// int8-only: the graph output keeps its name and becomes int8; the float result is renamed and
// quantized into it.
void quantize_graph_output(::onnx::GraphProto& g, const std::string& p, const AffineParams& a) {
  const std::string q = add_activation_params(g, p, a, TensorProto::INT8);
  const std::string f = onnx::unique_name(g, p + "_float");
  const int prod = onnx::producer_of(g, p);
  for (auto& o : *g.mutable_node(prod)->mutable_output())
    if (o == p) o = f;
  onnx::redirect_readers(g, p, f);
  g.mutable_output(0)->mutable_type()->mutable_tensor_type()->set_elem_type(TensorProto::INT8);
  onnx::insert_node(
      g, prod + 1, onnx::make_node("QuantizeLinear", {f, q + "_scale", q + "_zero_point"}, {p}, q));
}

// QuantizeLinear + DequantizeLinear (uint8) right after activation `p`'s producer, its readers
// moved to the result; the dequantized tensor's name.
std::string insert_activation_qdq(::onnx::GraphProto& g, const std::string& p,
                                  const AffineParams& a) {
  const std::string q = add_activation_params(g, p, a, TensorProto::UINT8);
  const int prod = onnx::producer_of(g, p);
  const int at = prod + 1;  // graph inputs: at 0
  onnx::redirect_readers(g, p, q + "_dequantized");
  onnx::insert_node(
      g, at, onnx::make_node("QuantizeLinear", {p, q + "_scale", q + "_zero_point"}, {q}, q));
  onnx::insert_node(g, at + 1,
                    onnx::make_node("DequantizeLinear", {q, q + "_scale", q + "_zero_point"},
                                    {q + "_dequantized"}, q + "_dequantize"));
  return q + "_dequantized";
}

}  // namespace

std::string layer_name(const ::onnx::NodeProto& n) {
  return n.name().empty() ? n.output(0) : n.name();
}

std::vector<std::string> quantizable_layers(const ::onnx::ModelProto& model) {
  std::vector<std::string> out;
  for (const auto& n : model.graph().node())
    if (is_quantizable(model.graph(), n)) out.push_back(layer_name(n));
  return out;
}

bool is_quantizable(const ::onnx::GraphProto& g, const ::onnx::NodeProto& n) {
  if (n.input_size() < 2 || !onnx::find_initializer(g, n.input(1))) return false;
  const TensorProto& w = *onnx::find_initializer(g, n.input(1));
  if (w.data_type() != TensorProto::FLOAT) return false;
  if (n.op_type() == "Conv") return w.dims_size() == 4;
  if (n.op_type() == "MatMul") return w.dims_size() == 2;
  if (n.op_type() == "Gemm") {
    const onnx::Attributes a = attributes(n);
    if (a.trans_a || a.alpha != 1.0f || a.beta != 1.0f || w.dims_size() != 2) return false;
    return n.input_size() < 3 || n.input(2).empty() ||
           (onnx::find_initializer(g, n.input(2)) &&
            onnx::find_initializer(g, n.input(2))->dims_size() == 1);
  }
  return false;
}

void convert_weights_to_half(::onnx::ModelProto& model, bool bfloat16) {
  ::onnx::GraphProto& g = *model.mutable_graph();
  std::vector<std::string> names;
  for (const auto& t : g.initializer())
    if (t.data_type() == TensorProto::FLOAT && onnx::element_count(t) > 1)
      names.push_back(t.name());
  int at = 0;
  for (const auto& name : names) {
    const TensorProto& t = initializer(g, name);
    const std::string half = onnx::unique_name(g, name + (bfloat16 ? "_bf16" : "_fp16"));
    TensorProto h = onnx::half_tensor(half, dims_of(t), onnx::tensor_floats(t), bfloat16);
    onnx::remove_initializer(g, name);
    onnx::add_initializer(g, std::move(h));
    ::onnx::NodeProto cast = onnx::make_node("Cast", {half}, {name}, half + "_cast");
    onnx::set_attr_int(cast, "to", TensorProto::FLOAT);
    onnx::insert_node(g, at++, std::move(cast));
  }
}

void fold_batchnorm_into_conv(::onnx::ModelProto& model) {
  ::onnx::GraphProto& g = *model.mutable_graph();
  for (bool changed = true; changed;) {
    changed = false;
    for (int i = 0; i < g.node_size() && !changed; ++i) {
      const ::onnx::NodeProto& bn = g.node(i);
      if (bn.op_type() != "BatchNormalization" || bn.output_size() > 1) continue;
      const int c = sole_reader(g, bn.output(0));
      if (c < 0) continue;
      const ::onnx::NodeProto& conv = g.node(c);
      if (conv.op_type() != "Conv" || conv.input(0) != bn.output(0) || !is_quantizable(g, conv))
        continue;
      const onnx::Attributes ca = attributes(conv);
      const bool padded =
          std::any_of(ca.pads.begin(), ca.pads.end(), [](int64_t p) { return p; }) ||
          ca.auto_pad == onnx::AutoPad::same_upper || ca.auto_pad == onnx::AutoPad::same_lower;
      if (ca.group != 1 || padded) continue;
      std::vector<std::vector<float>> p;
      for (int k = 1; k < 5; ++k)
        if (const TensorProto* t = onnx::find_initializer(g, bn.input(k)))
          p.push_back(onnx::tensor_floats(*t));
      if (p.size() != 4) continue;
      const TensorProto& wt = initializer(g, conv.input(1));
      const auto dims = dims_of(wt);
      const int64_t oc = dims[0], ic = dims[1];
      if (static_cast<int64_t>(p[0].size()) != ic) continue;
      auto w = onnx::tensor_floats(wt);
      std::vector<float> bias;
      if (conv.input_size() > 2 && !conv.input(2).empty())
        bias = onnx::tensor_floats(initializer(g, conv.input(2)));
      const auto affine = onnx::batchnorm_affine(p[0], p[1], p[2], p[3], attributes(bn).epsilon);
      onnx::fold_into_following(affine, w, bias, ic, dims[2] * dims[3]);
      const std::string wname = onnx::unique_name(g, conv.input(1) + "_folded");
      const std::string bname = onnx::unique_name(g, conv.name() + ".bias_folded");
      onnx::add_initializer(g, onnx::float_tensor(wname, dims, w));
      onnx::add_initializer(g, onnx::float_tensor(bname, {oc}, bias));
      const std::string old_w = conv.input(1), x = bn.input(0);
      const std::string old_b = conv.input_size() > 2 ? conv.input(2) : "";
      ::onnx::NodeProto& cv = *g.mutable_node(c);
      cv.set_input(0, x);
      cv.set_input(1, wname);
      if (cv.input_size() > 2)
        cv.set_input(2, bname);
      else
        cv.add_input(bname);
      std::vector<std::string> bn_inputs(bn.input().begin() + 1, bn.input().end());
      g.mutable_node()->DeleteSubrange(i, 1);
      for (const auto& n : bn_inputs) drop_if_unused(g, n);
      drop_if_unused(g, old_w);
      if (!old_b.empty()) drop_if_unused(g, old_b);
      changed = true;
    }
  }
}

void prepend_normalization(::onnx::ModelProto& model, double pixel_scale,
                           const std::vector<double>& mean, const std::vector<double>& std) {
  ::onnx::GraphProto& g = *model.mutable_graph();
  const std::string x = g.input(0).name();
  const std::string y = onnx::unique_name(g, x + "_normalized");
  const int64_t c = static_cast<int64_t>(mean.size());
  std::vector<float> scale(c), shift(c), zeros(c, 0.0f), ones(c, 1.0f);
  for (int64_t i = 0; i < c; ++i) {
    scale[i] = static_cast<float>(1.0 / (pixel_scale * std[i]));
    shift[i] = static_cast<float>(-mean[i] / std[i]);
  }
  const std::string base = onnx::unique_name(g, "input_normalization");
  onnx::add_initializer(g, onnx::float_tensor(base + ".scale", {c}, scale));
  onnx::add_initializer(g, onnx::float_tensor(base + ".shift", {c}, shift));
  onnx::add_initializer(g, onnx::float_tensor(base + ".mean", {c}, zeros));
  onnx::add_initializer(g, onnx::float_tensor(base + ".var", {c}, ones));
  onnx::redirect_readers(g, x, y);
  ::onnx::NodeProto bn = onnx::make_node(
      "BatchNormalization", {x, base + ".scale", base + ".shift", base + ".mean", base + ".var"},
      {y}, base);
  auto* eps = bn.add_attribute();
  eps->set_name("epsilon");
  eps->set_type(::onnx::AttributeProto::FLOAT);
  eps->set_f(0.0f);
  onnx::insert_node(g, 0, std::move(bn));
}

void quantize_dynamic(::onnx::ModelProto& model) {
  ::onnx::GraphProto& g = *model.mutable_graph();
  std::map<std::string, std::array<std::string, 3>> quantized;  // x -> (x_q, x_scale, x_zp)
  for (int i = 0; i < g.node_size(); ++i) {
    const ::onnx::NodeProto n = g.node(i);
    if (!is_quantizable(g, n)) continue;
    const bool conv = n.op_type() == "Conv";
    // n is this loop's own copy: its names stay valid while nodes are inserted.
    const std::string& x = n.input(0);
    const std::string& y = n.output(0);
    const std::string base = n.name().empty() ? y : n.name();
    int at = i;
    auto emit = [&](::onnx::NodeProto node) { onnx::insert_node(g, at++, std::move(node)); };
    if (!quantized.count(x)) {
      const std::string q = onnx::unique_name(g, x + "_quantized");
      quantized[x] = {q, q + "_scale", q + "_zero_point"};
      emit(onnx::make_node("DynamicQuantizeLinear", {x}, {q, q + "_scale", q + "_zero_point"}, q));
    }
    const auto& [xq, xs, xzp] = quantized[x];
    // int8 weights, symmetric per output channel; MatMulInteger wants B as [K, N].
    const TensorProto& wt = initializer(g, n.input(1));
    auto dims = dims_of(wt);
    auto w = onnx::tensor_floats(wt);
    if (n.op_type() == "Gemm" && attributes(n).trans_b) {
      std::vector<float> t(w.size());
      for (int64_t r = 0; r < dims[0]; ++r)
        for (int64_t c = 0; c < dims[1]; ++c) t[c * dims[0] + r] = w[r * dims[1] + c];
      w = std::move(t);
      std::swap(dims[0], dims[1]);
    }
    const int axis = conv ? 0 : 1;
    const QuantizedWeights qw = quantize_weights(w, dims, axis);
    const int64_t channels = dims[axis];
    const std::string wq = onnx::unique_name(g, base + ".weight_quantized");
    onnx::add_initializer(g, onnx::int_tensor(wq, dims, TensorProto::INT8, qw.q));
    onnx::add_initializer(g, onnx::int_tensor(wq + "_zero_point", {}, TensorProto::INT8, {0}));
    const std::vector<int64_t> bdims =
        conv ? std::vector<int64_t>{1, channels, 1, 1} : std::vector<int64_t>{channels};
    onnx::add_initializer(g, onnx::float_tensor(wq + "_scale", bdims, qw.scale));
    const std::string acc = onnx::unique_name(g, base + "_int32");
    ::onnx::NodeProto core =
        conv ? onnx::make_node("ConvInteger", {xq, wq, xzp, wq + "_zero_point"}, {acc},
                               base + "_integer")
             : onnx::make_node("MatMulInteger", {xq, wq, xzp, wq + "_zero_point"}, {acc},
                               base + "_integer");
    if (conv)
      for (const auto& a : n.attribute()) *core.add_attribute() = a;
    emit(std::move(core));
    ::onnx::NodeProto cast = onnx::make_node("Cast", {acc}, {acc + "_float"}, acc + "_cast");
    onnx::set_attr_int(cast, "to", TensorProto::FLOAT);
    emit(std::move(cast));
    emit(onnx::make_node("Mul", {xs, wq + "_scale"}, {acc + "_scale"}, acc + "_scale"));
    const bool has_bias = n.input_size() > 2 && !n.input(2).empty();
    const std::string scaled = has_bias ? acc + "_scaled" : y;
    emit(onnx::make_node("Mul", {acc + "_float", acc + "_scale"}, {scaled}, acc + "_rescale"));
    if (has_bias) {
      const std::string b = onnx::unique_name(g, base + ".bias_broadcast");
      onnx::add_initializer(
          g, onnx::float_tensor(b, bdims, onnx::tensor_floats(initializer(g, n.input(2)))));
      emit(onnx::make_node("Add", {scaled, b}, {y}, acc + "_bias"));
    }
    g.mutable_node()->DeleteSubrange(at, 1);  // the float node
    i = at - 1;
    drop_if_unused(g, n.input(1));
    if (has_bias) drop_if_unused(g, n.input(2));
  }
}

std::vector<std::string> activation_points(const ::onnx::ModelProto& model, bool int8_only,
                                           const std::optional<std::set<std::string>>& layers) {
  const ::onnx::GraphProto& g = model.graph();
  std::vector<std::string> points;
  auto add = [&](const std::string& t) {
    if (std::find(points.begin(), points.end(), t) == points.end()) points.push_back(t);
  };
  for (const auto& n : g.node()) {
    if (!selected(g, n, layers)) continue;
    add(input_point(g, n.input(0)));
    const std::string y = result_of(g, n);
    if (!onnx::is_graph_output(g, y) || int8_only) add(y);
  }
  return points;
}

StaticQuantization quantize_static(::onnx::ModelProto& model,
                                   const std::map<std::string, Range>& ranges,
                                   const StaticOptions& options) {
  ::onnx::GraphProto& g = *model.mutable_graph();
  StaticQuantization out;
  const std::string input = g.input(0).name();
  const std::string output = g.output(0).name();
  if (options.layers) {
    if (options.int8_only)
      throw InputError(
          "int8-only quantizes every layer (uint8 input, int8 output); a subset of "
          "layers needs the float-in, float-out int8 format");
    const auto all = quantizable_layers(model);
    for (const auto& l : *options.layers)
      if (std::find(all.begin(), all.end(), l) == all.end()) {
        std::string list;
        for (const auto& a : all) list += (list.empty() ? "" : ", ") + a;
        throw InputError("layer '" + l +
                         "' is not a quantizable layer of the model; use one of: " + list);
      }
  }
  // Weights and biases first (they need each node's input scale), on the float graph's nodes.
  const auto points = activation_points(model, options.int8_only, options.layers);
  out.params = activation_params(points, ranges, options, input, output);
  std::vector<::onnx::NodeProto> dq_nodes;
  for (int i = 0; i < g.node_size(); ++i) {
    if (!selected(g, g.node(i), options.layers)) continue;
    const std::vector<float> w_scale = quantize_node_weight(g, i, dq_nodes);
    if (has_channel_bias(g, i, static_cast<int64_t>(w_scale.size()))) {
      const float x_scale = out.params.at(input_point(g, g.node(i).input(0))).scale;
      quantize_node_bias(g, i, x_scale, w_scale, dq_nodes);
    }
  }
  for (auto& n : dq_nodes) onnx::insert_node(g, 0, std::move(n));
  if (options.int8_only) out.dequantized[input] = dequantize_uint8_input(g);
  // Activations: QuantizeLinear + DequantizeLinear after each point's producer.
  for (const auto& p : points) {
    if (options.int8_only && p == input) continue;
    const AffineParams a = out.params.at(p);
    if (options.int8_only && p == output) {
      quantize_graph_output(g, p, a);
      out.output = a;
      continue;
    }
    out.dequantized[p] = insert_activation_qdq(g, p, a);
  }
  return out;
}

}  // namespace pitlane::quant
