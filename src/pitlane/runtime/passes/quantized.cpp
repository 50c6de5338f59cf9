// fuse_quantized(): QDQ patterns (DequantizeLinear -> float op -> QuantizeLinear) to integer
// operators, the way ONNX Runtime runs QDQ models. Works on the symbolic graph, before shape
// inference, so only constness and operator kinds are known: anything unexpected is left alone
// and then runs in float exactly as written.
#include <cmath>
#include <limits>

#include "pitlane/runtime/passes/passes.h"

namespace pitlane::runtime {
namespace {

bool has(const Node& n, size_t i) {
  return i < n.inputs.size() && n.inputs[i] >= 0;
}

bool const_in(const Graph& g, const Node& n, size_t i) {
  return has(n, i) && g.values[n.inputs[i]].is_const;
}

size_t count(const Value& v) {
  return v.f32.size();
}

// The DequantizeLinear producing `value` with constant scale and zero point, or null.
// weights: its input must be a constant (u)int8 tensor; else a per-tensor runtime (u)int8 input.
const Node* dequantize_of(const Graph& g, const Links& l, int value, bool weights) {
  if (value < 0 || l.producer(value) < 0) return nullptr;
  const Node& dq = g.nodes[l.producer(value)];
  if (dq.op != Op::DequantizeLinear || !const_in(g, dq, 1) || (has(dq, 2) && !const_in(g, dq, 2)))
    return nullptr;
  // A runtime input's type is not known yet; shape inference checks it is (u)int8.
  const Value& x = g.values[dq.inputs[0]];
  if (weights != x.is_const) return nullptr;
  if (weights && x.dtype != DType::u8 && x.dtype != DType::i8) return nullptr;
  if (!weights && count(g.values[dq.inputs[1]]) != 1) return nullptr;
  return &dq;
}

// Per-channel weight parameters must run along the output channel (`axis`).
bool weight_axis_ok(const Graph& g, const Node& dq, int64_t axis, size_t rank) {
  if (count(g.values[dq.inputs[1]]) == 1) return true;
  int64_t a = dq.attrs.axis;
  if (a < 0) a += static_cast<int64_t>(rank);
  return a == axis;
}

// The constant QuantizeLinear reading `value` (through an optional Relu), or -1.
struct Tail {
  int quantize = -1;  // node index of the QuantizeLinear
  int relu = -1;      // node index of the Relu between, if any
};
Tail quantized_tail(const Graph& g, const Links& l, int value) {
  Tail t;
  int reader = l.sole_reader(value);
  if (reader >= 0 && g.nodes[reader].op == Op::Relu) {
    t.relu = reader;
    reader = l.sole_reader(g.nodes[reader].outputs[0]);
  }
  if (reader < 0) return {};
  const Node& q = g.nodes[reader];
  if (q.op != Op::QuantizeLinear || q.inputs[0] < 0 || !const_in(g, q, 1) ||
      count(g.values[q.inputs[1]]) != 1 || (has(q, 2) && !const_in(g, q, 2)) ||
      q.attrs.output_dtype != 0)
    return {};
  t.quantize = reader;
  return t;
}

// The bias in int32 at scale x_scale * w_scale[c]: from a float constant or a constant
// DequantizeLinear. -1 when the bias is neither.
int quantize_bias(Graph& g, const Links& l, int bias, float x_scale, const Value& w_scale,
                  int64_t channels) {
  std::vector<float> b;
  const Value& v = g.values[bias];
  if (v.is_const && v.dtype == DType::f32) {
    b = v.f32;
  } else if (l.producer(bias) >= 0) {
    const Node& dq = g.nodes[l.producer(bias)];
    if (dq.op != Op::DequantizeLinear || !const_in(g, dq, 0) || !const_in(g, dq, 1) ||
        (has(dq, 2) && !const_in(g, dq, 2)))
      return -1;
    const Value& q = g.values[dq.inputs[0]];
    const Value& s = g.values[dq.inputs[1]];
    const Value* z = has(dq, 2) ? &g.values[dq.inputs[2]] : nullptr;
    if (q.shape.size() != 1) return -1;
    for (size_t i = 0; i < q.f32.size(); ++i) {
      const size_t c = s.f32.size() == 1 ? 0 : i;
      if (c >= s.f32.size() || (z && c >= z->f32.size())) return -1;
      b.push_back((q.f32[i] - (z ? z->f32[z->f32.size() == 1 ? 0 : i] : 0.0f)) * s.f32[c]);
    }
  } else {
    return -1;
  }
  if (static_cast<int64_t>(b.size()) != channels && b.size() != 1) return -1;
  Value out{.name = v.name + "/int32",
            .dtype = DType::i32,
            .has_shape = true,
            .shape = {channels},
            .is_const = true};
  for (int64_t c = 0; c < channels; ++c) {
    const float ws = w_scale.f32[w_scale.f32.size() == 1 ? 0 : c];
    const double q = std::nearbyint(static_cast<double>(b[b.size() == 1 ? 0 : c]) /
                                    (static_cast<double>(x_scale) * ws));
    const double lim = std::numeric_limits<int32_t>::max();
    const int64_t qi = static_cast<int64_t>(std::max(-lim, std::min(lim, q)));
    out.i64.push_back(qi);
    out.f32.push_back(static_cast<float>(qi));
  }
  g.values.push_back(std::move(out));
  return static_cast<int>(g.values.size()) - 1;
}

void kill(Node& n) {
  n.outputs.clear();
  n.inputs.clear();
}

// Tries one Conv / Gemm / MatMul; true when it was replaced (and `l` follows the edit).
bool fuse_one(Graph& g, Links& l, size_t index) {
  Node& n = g.nodes[index];
  const bool conv = n.op == Op::Conv;
  if (n.op == Op::Gemm) {
    if (n.attrs.trans_a || n.attrs.alpha != 1.0f || (has(n, 2) && n.attrs.beta != 1.0f))
      return false;
  } else if (!conv && n.op != Op::MatMul) {
    return false;
  }
  // A Flatten / Reshape between the activation's DequantizeLinear and a Gemm moves before it
  // (it only relabels the quantized values).
  int view = -1;
  const int a = n.inputs[0];
  if (!conv && a >= 0 && l.producer(a) >= 0 && l.uses(a) == 1) {
    const Node& v = g.nodes[l.producer(a)];
    if ((v.op == Op::Flatten || v.op == Op::Reshape) && v.inputs[0] >= 0 &&
        l.uses(v.inputs[0]) == 1)
      view = l.producer(a);
  }
  const Node* dx = dequantize_of(g, l, view >= 0 ? g.nodes[view].inputs[0] : a, false);
  const Node* dw = dequantize_of(g, l, n.inputs[1], true);
  if (!dx || !dw) return false;
  const Value& wq = g.values[dw->inputs[0]];
  const bool trans_b = n.op == Op::Gemm && n.attrs.trans_b;
  if (wq.shape.size() != (conv ? 4u : 2u)) return false;
  const int64_t channels = conv || trans_b ? wq.shape[0] : wq.shape[1];
  const Value& w_scale = g.values[dw->inputs[1]];
  if (!weight_axis_ok(g, *dw, conv || trans_b ? 0 : 1, wq.shape.size())) return false;
  if (count(w_scale) != 1 && static_cast<int64_t>(count(w_scale)) != channels) return false;
  const float x_scale = g.values[dx->inputs[1]].f32[0];
  int bias = -1;
  if (has(n, 2)) {
    bias = quantize_bias(g, l, n.inputs[2], x_scale, g.values[dw->inputs[1]], channels);
    if (bias < 0) return false;
    l.grow(g);
  }
  const Tail tail = quantized_tail(g, l, n.outputs[0]);
  if (conv && tail.quantize < 0) return false;  // QLinearConv needs a quantized output
  const int none = -1;
  const int x_zp = has(*dx, 2) ? dx->inputs[2] : none, w_zp = has(*dw, 2) ? dw->inputs[2] : none;
  // Every node the fusion edits leaves the links first and comes back as edited.
  std::vector<int> touched = {static_cast<int>(index)};
  for (int t : {view, tail.relu, tail.quantize})
    if (t >= 0) touched.push_back(t);
  for (int t : touched) l.detach(g, t);
  Node fused{.name = n.name};
  if (conv) {
    const Node& q = g.nodes[tail.quantize];
    fused.op = Op::QLinearConv;
    fused.inputs = {dx->inputs[0], dx->inputs[1], x_zp,        dw->inputs[0],
                    dw->inputs[1], w_zp,          q.inputs[1], has(q, 2) ? q.inputs[2] : none,
                    bias};
    fused.attrs = n.attrs;
  } else {
    fused.op = Op::QGemm;
    const int x = view >= 0 ? g.nodes[view].outputs[0] : dx->inputs[0];
    fused.inputs = {x, dx->inputs[1], x_zp, dw->inputs[0], dw->inputs[1], w_zp, bias};
    if (view >= 0) g.nodes[view].inputs[0] = dx->inputs[0];
    if (tail.quantize >= 0) {
      const Node& q = g.nodes[tail.quantize];
      fused.inputs.push_back(q.inputs[1]);
      fused.inputs.push_back(has(q, 2) ? q.inputs[2] : none);
    }
    fused.attrs.trans_b = trans_b;
  }
  if (tail.quantize >= 0) {
    if (tail.relu >= 0) fused.activation = {Activation::relu, 0.0f};
    fused.outputs = {g.nodes[tail.quantize].outputs[0]};
    kill(g.nodes[index]);
    if (tail.relu >= 0) kill(g.nodes[tail.relu]);
    g.nodes[tail.quantize] = std::move(fused);  // its position: after every input's producer
  } else {
    fused.outputs = {n.outputs[0]};
    g.nodes[index] = std::move(fused);
  }
  for (int t : touched) l.attach(g, t);
  return true;
}

}  // namespace

void fuse_quantized(Graph& g) {
  bool any = false;
  Links links(g);
  for (size_t i = 0; i < g.nodes.size(); ++i) any |= fuse_one(g, links, i);
  if (!any) return;
  std::vector<Node> kept;
  for (Node& n : g.nodes)
    if (!n.outputs.empty()) kept.push_back(std::move(n));
  g.nodes = std::move(kept);
}

}  // namespace pitlane::runtime
