// optimize(): the rewriting passes, each a plain loop over the nodes. A node is removed by
// clearing its outputs; compact() drops such nodes at the end.
#include <cmath>

#include "pitlane/core/error.h"
#include "pitlane/onnx/batchnorm.h"
#include "pitlane/runtime/passes/passes.h"

namespace pitlane::runtime {
namespace {

bool dead(const Node& n) {
  return n.outputs.empty();
}
void kill(Node& n) {
  n.outputs.clear();
  n.inputs.clear();
}

int add_const(Graph& g, const std::string& name, std::vector<int64_t> shape,
              std::vector<float> data) {
  Value v{.name = name,
          .dtype = DType::f32,
          .has_shape = true,
          .shape = std::move(shape),
          .is_const = true,
          .f32 = std::move(data)};
  g.values.push_back(std::move(v));
  return static_cast<int>(g.values.size()) - 1;
}

bool is_const(const Graph& g, const Node& n, size_t i) {
  return i < n.inputs.size() && n.inputs[i] >= 0 && g.values[n.inputs[i]].is_const;
}

void drop_folded(Graph& g) {
  for (Node& n : g.nodes)
    if (!dead(n) && g.values[n.outputs[0]].is_const) kill(n);
}

void make_views(Graph& g) {
  for (Node& n : g.nodes) {
    if (dead(n)) continue;
    switch (n.op) {
      case Op::Flatten:
      case Op::Reshape:
      case Op::Squeeze:
      case Op::Unsqueeze:
      case Op::Identity:
      case Op::Dropout:
      case Op::Cast:
        n.op = Op::Reshape;
        n.inputs.resize(1);
        n.outputs.resize(1);
        n.attrs = {};
        break;
      default:
        break;
    }
  }
}

std::vector<float> transpose2d(const std::vector<float>& a, int64_t rows, int64_t cols) {
  std::vector<float> t(a.size());
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c) t[c * rows + r] = a[r * cols + c];
  return t;
}

// MatMul(A [M,K], const B [K,N]) (+ Add const [N]) -> Gemm(A, B^T [N,K], bias, transB=1).
void matmul_to_gemm(Graph& g) {
  Links links(g);
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    Node& n = g.nodes[i];
    if (dead(n) || n.op != Op::MatMul || !is_const(g, n, 1)) continue;
    if (g.values[n.inputs[0]].shape.size() != 2) continue;
    const Value& b = g.values[n.inputs[1]];
    const int64_t k = b.shape[0], cols = b.shape[1];
    const int bt = add_const(g, n.name + ".weight", {cols, k}, transpose2d(b.f32, k, cols));
    links.grow(g);
    links.detach(g, static_cast<int>(i));
    n.op = Op::Gemm;
    n.inputs[1] = bt;
    n.attrs = {};
    n.attrs.trans_b = true;
    links.attach(g, static_cast<int>(i));
    const int ci = links.sole_reader(n.outputs[0]);
    if (ci < 0) continue;
    Node& add = g.nodes[ci];
    if (add.op != Op::Add) continue;
    const int other = add.inputs[0] == n.outputs[0] ? add.inputs[1] : add.inputs[0];
    const Value& bias = g.values[other];
    if (!bias.is_const || bias.dtype != DType::f32 || element_count(bias.shape) != cols ||
        bias.shape.empty() || bias.shape.back() != cols || bias.shape.size() > 2)
      continue;
    links.detach(g, static_cast<int>(i));
    links.detach(g, ci);
    n.inputs.push_back(other);
    n.outputs[0] = add.outputs[0];
    kill(add);
    links.attach(g, static_cast<int>(i));
  }
}

// Gemm with constant B -> transB=1, alpha folded into B, beta*C folded into a [N] bias.
void canonical_gemm(Graph& g) {
  for (Node& n : g.nodes) {
    if (dead(n) || n.op != Op::Gemm || !is_const(g, n, 1) || n.attrs.trans_a) continue;
    const float alpha = n.attrs.alpha, beta = n.attrs.beta;
    const bool trans_b = n.attrs.trans_b;
    const auto& out = g.values[n.outputs[0]].shape;
    const int64_t cols = out[1];
    int bias = -1;
    if (n.inputs.size() > 2 && n.inputs[2] >= 0) {
      const Value& c = g.values[n.inputs[2]];
      const int64_t count = element_count(c.shape);
      if (!c.is_const || !(count == 1 || (count == cols && c.shape.back() == cols))) continue;
      std::vector<float> b(cols);
      for (int64_t j = 0; j < cols; ++j) b[j] = beta * c.f32[count == 1 ? 0 : j];
      bias = add_const(g, n.name + ".bias", {cols}, std::move(b));
    }
    if (trans_b && alpha == 1.0f && (bias < 0 || beta == 1.0f) &&
        (bias < 0 || g.values[n.inputs[2]].shape.size() == 1)) {
      if (bias >= 0) n.inputs[2] = bias;
      continue;  // already canonical (or trivially so)
    }
    const Value& b = g.values[n.inputs[1]];
    std::vector<float> w = trans_b ? b.f32 : transpose2d(b.f32, b.shape[0], b.shape[1]);
    if (alpha != 1.0f)
      for (float& x : w) x *= alpha;
    const int64_t k = static_cast<int64_t>(w.size()) / std::max<int64_t>(cols, 1);
    n.inputs[1] = add_const(g, n.name + ".weight", {cols, k}, std::move(w));
    if (bias >= 0) n.inputs[2] = bias;
    n.attrs = {};
    n.attrs.trans_b = true;
  }
}

bool canonical(const Graph& g, const Node& n) {
  return n.op == Op::Gemm && is_const(g, n, 1) && !n.attrs.trans_a && n.attrs.trans_b &&
         n.attrs.alpha == 1.0f && n.attrs.beta == 1.0f &&
         (n.inputs.size() < 3 || n.inputs[2] < 0 ||
          (is_const(g, n, 2) && g.values[n.inputs[2]].shape.size() == 1));
}

void fold_batchnorm(Graph& g) {
  Links links(g);
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    if (dead(g.nodes[i]) || g.nodes[i].op != Op::BatchNormalization) continue;
    Node bn = g.nodes[i];
    const int64_t channels = g.values[bn.inputs[1]].shape[0];
    const onnx::ChannelAffine affine = onnx::batchnorm_affine(
        g.values[bn.inputs[1]].f32, g.values[bn.inputs[2]].f32, g.values[bn.inputs[3]].f32,
        g.values[bn.inputs[4]].f32, bn.attrs.epsilon);
    auto bias_of = [&](const Node& n) {
      return n.inputs.size() > 2 && n.inputs[2] >= 0 ? g.values[n.inputs[2]].f32
                                                     : std::vector<float>{};
    };
    const int x = bn.inputs[0];
    // A: Conv -> BN (or canonical Gemm -> BN): scale the producer's output channels.
    const int pi = links.producer(x);
    if (pi >= 0 && links.sole_reader(x) == static_cast<int>(i)) {
      const Node& p = g.nodes[pi];
      const bool conv = p.op == Op::Conv;
      if ((conv || (canonical(g, p) && g.values[x].shape.size() == 2)) &&
          p.activation.kind == Activation::none) {
        std::vector<float> w = g.values[p.inputs[1]].f32, b = bias_of(p);
        onnx::fold_into_preceding(affine, w, b);
        const auto wshape = g.values[p.inputs[1]].shape;
        const int wid = add_const(g, p.name + ".weight_bn", wshape, std::move(w));
        const int bid = add_const(g, p.name + ".bias_bn", {channels}, std::move(b));
        links.grow(g);
        links.detach(g, pi);
        links.detach(g, static_cast<int>(i));
        Node& p2 = g.nodes[pi];
        p2.inputs.resize(3);
        p2.inputs[1] = wid;
        p2.inputs[2] = bid;
        p2.outputs[0] = bn.outputs[0];
        kill(g.nodes[i]);
        links.attach(g, pi);
        continue;
      }
    }
    // B: BN -> Conv without padding: fold into the Conv's input channels (exact: no padded zeros).
    const int y = bn.outputs[0];
    const int ci = links.sole_reader(y);
    if (ci >= 0 && g.nodes[ci].op == Op::Conv && g.nodes[ci].inputs[0] == y &&
        g.nodes[ci].attrs.pads == std::vector<int64_t>{0, 0, 0, 0}) {
      const Node& c = g.nodes[ci];
      const auto wshape = g.values[c.inputs[1]].shape;
      std::vector<float> w = g.values[c.inputs[1]].f32, b = bias_of(c);
      onnx::fold_into_following(affine, w, b, wshape[1], wshape[2] * wshape[3]);
      const int wid = add_const(g, c.name + ".weight_bn", wshape, std::move(w));
      const int bid = add_const(g, c.name + ".bias_bn", {wshape[0]}, std::move(b));
      links.grow(g);
      links.detach(g, ci);
      links.detach(g, static_cast<int>(i));
      Node& c2 = g.nodes[ci];
      c2.inputs.resize(3);
      c2.inputs[0] = x;
      c2.inputs[1] = wid;
      c2.inputs[2] = bid;
      kill(g.nodes[i]);
      links.attach(g, ci);
      continue;
    }
    // Otherwise: a per-channel affine of its own.
    std::vector<float> scale(affine.scale.begin(), affine.scale.end());
    std::vector<float> shift(affine.shift.begin(), affine.shift.end());
    const int sid = add_const(g, bn.name + ".scale", {channels}, std::move(scale));
    const int tid = add_const(g, bn.name + ".shift", {channels}, std::move(shift));
    links.grow(g);
    links.detach(g, static_cast<int>(i));
    Node& n = g.nodes[i];
    n.op = Op::Affine;
    n.inputs = {x, sid, tid};
    n.outputs.resize(1);
    n.attrs = {};
    links.attach(g, static_cast<int>(i));
  }
}

// Transpose(X, perm with perm[0]=0) -> flatten view -> canonical Gemm: permute the Gemm's weight
// columns instead, so the Gemm reads X's own layout and the Transpose disappears.
void fold_transpose_into_gemm(Graph& g) {
  Links links(g);
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    Node& gemm = g.nodes[i];
    if (dead(gemm) || !canonical(g, gemm)) continue;
    const int a = gemm.inputs[0];
    const int vi = links.producer(a);
    if (vi < 0 || g.nodes[vi].op != Op::Reshape || links.sole_reader(a) != static_cast<int>(i))
      continue;
    const int t = g.nodes[vi].inputs[0];
    const int ti = links.producer(t);
    if (ti < 0 || g.nodes[ti].op != Op::Transpose || links.sole_reader(t) != vi) continue;
    const auto perm = g.nodes[ti].attrs.perm;
    const int xid = g.nodes[ti].inputs[0];
    const auto& xs = g.values[xid].shape;
    const auto& ts = g.values[t].shape;
    if (perm.empty() || perm[0] != 0 || g.values[a].shape[0] != ts[0]) continue;
    const size_t rank = xs.size();
    std::vector<int64_t> xstride(rank, 1);
    for (size_t d = rank - 1; d-- > 0;) xstride[d] = xstride[d + 1] * xs[d + 1];
    const int64_t k = g.values[a].shape[1];
    // For each position of T's flattened row, the matching position in X's flattened row.
    std::vector<int64_t> to_x(k);
    std::vector<int64_t> idx(rank, 0);
    for (int64_t f = 0; f < k; ++f) {
      int64_t xf = 0;
      for (size_t d = 1; d < rank; ++d) xf += idx[d] * xstride[perm[d]];
      to_x[f] = xf;
      for (size_t d = rank; d-- > 1;) {
        if (++idx[d] < ts[d]) break;
        idx[d] = 0;
      }
    }
    const Value& w = g.values[gemm.inputs[1]];
    const int64_t rows = w.shape[0];
    std::vector<float> wf(w.f32.size());
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t f = 0; f < k; ++f) wf[r * k + to_x[f]] = w.f32[r * k + f];
    const auto wshape = w.shape;
    const int wid = add_const(g, gemm.name + ".weight_perm", wshape, std::move(wf));
    links.grow(g);
    for (int node : {static_cast<int>(i), vi, ti}) links.detach(g, node);
    g.nodes[i].inputs[1] = wid;
    g.nodes[vi].inputs[0] = xid;
    kill(g.nodes[ti]);
    links.attach(g, static_cast<int>(i));
    links.attach(g, vi);
  }
}

void fuse_activations(Graph& g) {
  Links links(g);
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    Node& act = g.nodes[i];
    if (dead(act)) continue;
    FusedActivation f;
    switch (act.op) {
      case Op::Relu:
        f = {Activation::relu, 0.0f};
        break;
      case Op::LeakyRelu:
        f = {Activation::leaky_relu, act.attrs.alpha};
        break;
      case Op::Elu:
        f = {Activation::elu, act.attrs.alpha};
        break;
      case Op::Sigmoid:
        f = {Activation::sigmoid, 0.0f};
        break;
      case Op::Tanh:
        f = {Activation::tanh, 0.0f};
        break;
      default:
        continue;
    }
    const int x = act.inputs[0];
    const int pi = links.producer(x);
    if (pi < 0 || links.sole_reader(x) != static_cast<int>(i)) continue;
    Node& p = g.nodes[pi];
    if (p.activation.kind != Activation::none ||
        !(p.op == Op::Conv || p.op == Op::Gemm || p.op == Op::MatMul || p.op == Op::Affine))
      continue;
    links.detach(g, pi);
    links.detach(g, static_cast<int>(i));
    p.activation = f;
    p.outputs[0] = act.outputs[0];
    kill(act);
    links.attach(g, pi);
  }
}

void remove_dead(Graph& g) {
  auto uses = use_counts(g);
  for (size_t i = g.nodes.size(); i-- > 0;) {
    Node& n = g.nodes[i];
    if (dead(n)) continue;
    bool used = false;
    for (int id : n.outputs)
      if (id >= 0 && uses[id] > 0) used = true;
    if (used) continue;
    for (int id : n.inputs)
      if (id >= 0) --uses[id];
    kill(n);
  }
  std::vector<Node> kept;
  for (Node& n : g.nodes)
    if (!dead(n)) kept.push_back(std::move(n));
  g.nodes = std::move(kept);
  // Constants nobody reads any more (replaced weights) free their memory.
  uses = use_counts(g);
  for (size_t v = 0; v < g.values.size(); ++v)
    if (g.values[v].is_const && uses[v] == 0) {
      g.values[v].f32 = {};
      g.values[v].i64 = {};
    }
}

}  // namespace

void optimize(Graph& g) {
  drop_folded(g);
  make_views(g);
  matmul_to_gemm(g);
  canonical_gemm(g);
  fold_batchnorm(g);
  fold_transpose_into_gemm(g);
  fuse_activations(g);
  remove_dead(g);
}

}  // namespace pitlane::runtime
