// The reference backend's plan: one prepared reference kernel per node, tensors in one arena.
#include <chrono>
#include <cstring>

#include "pitlane/core/error.h"
#include "pitlane/runtime/backends/backend.h"
#include "pitlane/runtime/backends/reference/kernels.h"
#include "pitlane/runtime/passes/passes.h"
#include "pitlane/runtime/planner.h"

namespace pitlane::runtime::reference {

namespace {

// One preparation function per operator family: each reads the node's attributes and concrete
// shapes into its part of the RefKernel (prepare_kernel() has set op and count already).

using Shape = std::vector<int64_t>;

const Shape& input_shape(const Graph& g, const Node& n, size_t i) {
  return g.values[n.inputs[i]].shape;
}
const Shape& output_shape(const Graph& g, const Node& n) {
  return g.values[n.outputs[0]].shape;
}
bool has_input(const Node& n, size_t i) {
  return i < n.inputs.size() && n.inputs[i] >= 0;
}
// The range of the (u)int8 type t: uint8 unless t is int8.
float qmin_of(DType t) {
  return t == DType::i8 ? -128.0f : 0.0f;
}
float qmax_of(DType t) {
  return t == DType::i8 ? 127.0f : 255.0f;
}

// Sizes, strides, dilations, pads and group of a 2-D convolution whose input x and weights w are
// the node's inputs at these positions (Conv, QLinearConv, ConvInteger); no bias, no activation.
ConvParams conv_params(const Graph& g, const Node& n, int x_at, int w_at) {
  const Shape& x = input_shape(g, n, x_at);
  const Shape& w = input_shape(g, n, w_at);
  const Shape& out = output_shape(g, n);
  const auto& pads = n.attrs.pads;
  const auto& strides = n.attrs.strides;
  const auto& dil = n.attrs.dilations;
  return ConvParams{.n = x[0],
                    .c = x[1],
                    .h = x[2],
                    .w = x[3],
                    .oc = out[1],
                    .oh = out[2],
                    .ow = out[3],
                    .kh = w[2],
                    .kw = w[3],
                    .sh = strides[0],
                    .sw = strides[1],
                    .dh = dil[0],
                    .dw = dil[1],
                    .pad_top = pads[0],
                    .pad_left = pads[1],
                    .pad_bottom = pads[2],
                    .pad_right = pads[3],
                    .group = n.attrs.group};
}

void prepare_conv(const Graph& g, const Node& n, RefKernel& k) {
  k.conv = conv_params(g, n, 0, 1);
  k.conv.has_bias = has_input(n, 2);
  k.conv.activation = n.activation;
}

// How Gemm's C [c] broadcasts to the output [m,n].
BiasKind gemm_bias(const Shape& c, int64_t m, int64_t n) {
  const int64_t count = element_count(c);
  if (count == 1) return BiasKind::scalar;
  if (count == m * n) return BiasKind::full;
  if (!c.empty() && c.back() == n) return BiasKind::per_column;
  return BiasKind::per_row;
}

void prepare_gemm(const Graph& g, const Node& n, RefKernel& k) {
  GemmParams& p = k.gemm;
  const Shape& a = input_shape(g, n, 0);
  const Shape& out = output_shape(g, n);
  p.trans_a = n.attrs.trans_a;
  p.trans_b = n.attrs.trans_b;
  p.alpha = n.attrs.alpha;
  p.beta = n.attrs.beta;
  p.m = out[0];
  p.n = out[1];
  p.k = p.trans_a ? a[0] : a[1];
  p.activation = n.activation;
  if (has_input(n, 2)) p.bias = gemm_bias(input_shape(g, n, 2), p.m, p.n);
}

void prepare_matmul(const Graph& g, const Node& n, RefKernel& k) {
  GemmParams& p = k.gemm;
  p.k = input_shape(g, n, 1)[0];
  p.n = input_shape(g, n, 1)[1];
  p.m = element_count(input_shape(g, n, 0)) / p.k;
  p.activation = n.activation;
}

void prepare_binary(const Graph& g, const Node& n, RefKernel& k) {
  const Shape& out = output_shape(g, n);
  k.binary.op = n.op;
  k.binary.out_shape = out;
  k.binary.a_strides = broadcast_strides(input_shape(g, n, 0), out);
  k.binary.b_strides = broadcast_strides(input_shape(g, n, 1), out);
  if (out.size() > 8) throw InputError(g.where(n) + ": more than 8 dimensions");
}

// Relu, LeakyRelu, Elu, Sigmoid, Tanh: the function itself.
void prepare_activation(const Node& n, RefKernel& k) {
  switch (n.op) {
    case Op::Relu:
      k.activation = {Activation::relu, 0.0f};
      return;
    case Op::LeakyRelu:
      k.activation = {Activation::leaky_relu, n.attrs.alpha};
      return;
    case Op::Elu:
      k.activation = {Activation::elu, n.attrs.alpha};
      return;
    case Op::Sigmoid:
      k.activation = {Activation::sigmoid, 0.0f};
      return;
    default:  // Tanh
      k.activation = {Activation::tanh, 0.0f};
  }
}

void prepare_affine(const Graph& g, const Node& n, RefKernel& k) {
  const Shape& x = input_shape(g, n, 0);
  k.affine = AffineParams{.outer = x[0],
                          .channels = x[1],
                          .inner = x[0] * x[1] == 0 ? 0 : element_count(x) / (x[0] * x[1]),
                          .activation = n.activation};
}

void prepare_transpose(const Graph& g, const Node& n, RefKernel& k) {
  k.transpose = make_transpose(input_shape(g, n, 0), n.attrs.perm);
  if (output_shape(g, n).size() > 8) throw InputError(g.where(n) + ": more than 8 dimensions");
}

void prepare_concat(const Graph& g, const Node& n, RefKernel& k) {
  const Shape& out = output_shape(g, n);
  const int64_t axis = n.attrs.axis;
  k.concat.outer = 1;
  for (int64_t i = 0; i < axis; ++i) k.concat.outer *= out[i];
  for (size_t i = 0; i < n.inputs.size(); ++i) {
    const Shape& in = input_shape(g, n, i);
    int64_t chunk = 1;
    for (size_t d = axis; d < in.size(); ++d) chunk *= in[d];
    k.concat.chunk.push_back(chunk);
  }
}

// QuantizeLinear, DequantizeLinear: x viewed as [outer, channels, inner] around the axis.
void prepare_quantize(const Graph& g, const Node& n, RefKernel& k) {
  const Shape& x = input_shape(g, n, 0);
  QuantizeParams& q = k.quantize;
  q.per_channel = element_count(input_shape(g, n, 1)) != 1;  // one scale: per tensor (shapes.cpp)
  const int64_t axis = q.per_channel ? n.attrs.axis : 0;
  q.outer = 1;
  q.inner = 1;
  for (int64_t d = 0; d < static_cast<int64_t>(x.size()); ++d) {
    if (q.per_channel && d < axis) q.outer *= x[d];
    if (!q.per_channel || d > axis) q.inner *= x[d];
  }
  q.channels = q.per_channel ? x[axis] : 1;
  q.qmin = qmin_of(g.values[n.outputs[0]].dtype);
  q.qmax = qmax_of(g.values[n.outputs[0]].dtype);
}

// Where an integer operator's operands sit among its inputs, and what its output is.
void quant_operands(const Node& n, QuantParams& q) {
  auto opt = [&](int i) { return has_input(n, i) ? i : -1; };
  switch (n.op) {
    case Op::QLinearConv:
    case Op::QLinearMatMul:
      q.at = {0, 1, opt(2), 3, 4, opt(5), 6, opt(7), opt(8)};
      q.output = QuantOutput::requantized;
      return;
    case Op::QGemm:
      q.at = {0, 1, opt(2), 3, 4, opt(5), opt(7), opt(8), opt(6)};
      q.output = opt(7) >= 0 ? QuantOutput::requantized : QuantOutput::dequantized;
      q.alpha = n.attrs.alpha;
      return;
    default:  // ConvInteger, MatMulInteger
      q.at = {.x = 0, .x_zp = opt(2), .w = 1, .w_zp = opt(3)};
      q.output = QuantOutput::int32;
  }
}

// QLinearConv, ConvInteger, QLinearMatMul, MatMulInteger, QGemm: the operands, the output's
// range, then the convolution's or the matrix product's shapes.
void prepare_quantized(const Graph& g, const Node& n, RefKernel& k) {
  QuantParams& q = k.quant;
  quant_operands(n, q);
  auto per_channel = [&](int i) { return i >= 0 && element_count(input_shape(g, n, i)) > 1; };
  q.w_scale_per_channel = per_channel(q.at.w_scale);
  q.w_zp_per_channel = per_channel(q.at.w_zp);
  q.qmin = qmin_of(g.values[n.outputs[0]].dtype);
  q.qmax = qmax_of(g.values[n.outputs[0]].dtype);
  q.activation = n.activation;
  if (n.activation.kind != Activation::none && n.activation.kind != Activation::relu)
    throw InputError(g.where(n) + ": only Relu can be fused into a quantized operator");
  if (n.op == Op::QLinearConv || n.op == Op::ConvInteger) {
    k.conv = conv_params(g, n, q.at.x, q.at.w);
    return;
  }
  GemmParams& p = k.gemm;
  const Shape& w = input_shape(g, n, q.at.w);
  const Shape& out = output_shape(g, n);
  p.trans_a = n.op == Op::QGemm && n.attrs.trans_a;
  p.trans_b = n.op == Op::QGemm && n.attrs.trans_b;
  p.n = out.back();
  p.k = p.trans_b ? w[1] : w[0];
  p.m = element_count(out) / p.n;
  p.bias = q.at.bias >= 0 && element_count(input_shape(g, n, q.at.bias)) == 1
               ? BiasKind::scalar
               : BiasKind::per_column;
}

}  // namespace

RefKernel prepare_kernel(const Graph& g, const Node& n) {
  RefKernel k;
  k.op = n.op;
  k.count = element_count(output_shape(g, n));
  switch (n.op) {
    case Op::Conv:
      prepare_conv(g, n, k);
      break;
    case Op::Gemm:
      prepare_gemm(g, n, k);
      break;
    case Op::MatMul:
      prepare_matmul(g, n, k);
      break;
    case Op::Add:
    case Op::Sub:
    case Op::Mul:
    case Op::Div:
      prepare_binary(g, n, k);
      break;
    case Op::Relu:
    case Op::LeakyRelu:
    case Op::Elu:
    case Op::Sigmoid:
    case Op::Tanh:
      prepare_activation(n, k);
      break;
    case Op::Affine:
      prepare_affine(g, n, k);
      break;
    case Op::Transpose:
      prepare_transpose(g, n, k);
      break;
    case Op::Concat:
      prepare_concat(g, n, k);
      break;
    case Op::QuantizeLinear:
    case Op::DequantizeLinear:
      prepare_quantize(g, n, k);
      break;
    case Op::DynamicQuantizeScale:
    case Op::DynamicQuantizeZeroPoint:
      k.count = element_count(input_shape(g, n, 0));
      break;
    case Op::QLinearConv:
    case Op::ConvInteger:
    case Op::QLinearMatMul:
    case Op::MatMulInteger:
    case Op::QGemm:
      prepare_quantized(g, n, k);
      break;
    case Op::Reshape:
    case Op::Flatten:
    case Op::Identity:
    case Op::Dropout:
    case Op::Cast:
    case Op::Squeeze:
    case Op::Unsqueeze:
      k.op = Op::Identity;  // a copy
      break;
    default:
      throw InputError(g.where(n) + ": cannot be evaluated here (constant " + op_name(n.op) +
                       " is not supported)");
  }
  return k;
}

void run_kernel(const RefKernel& k, std::span<const float* const> in, float* y) {
  switch (k.op) {
    case Op::Conv:
      conv2d(k.conv, in[0], in[1], in.size() > 2 ? in[2] : nullptr, y);
      return;
    case Op::Gemm:
      gemm(k.gemm, in[0], in[1], in.size() > 2 ? in[2] : nullptr, y);
      return;
    case Op::MatMul:
      gemm(k.gemm, in[0], in[1], nullptr, y);
      return;
    case Op::Add:
    case Op::Sub:
    case Op::Mul:
    case Op::Div:
      binary(k.binary, in[0], in[1], y);
      return;
    case Op::Relu:
    case Op::LeakyRelu:
    case Op::Elu:
    case Op::Sigmoid:
    case Op::Tanh:
      if (y != in[0]) std::memcpy(y, in[0], k.count * sizeof(float));
      apply_activation(k.activation, {y, static_cast<size_t>(k.count)});
      return;
    case Op::Affine:
      affine(k.affine, in[0], in[1], in[2], y);
      return;
    case Op::Transpose:
      transpose(k.transpose, in[0], y);
      return;
    case Op::Concat:
      concat(k.concat, in, y);
      return;
    case Op::QuantizeLinear:
      quantize_linear(k.quantize, in[0], in[1], in.size() > 2 ? in[2] : nullptr, y);
      return;
    case Op::DequantizeLinear:
      dequantize_linear(k.quantize, in[0], in[1], in.size() > 2 ? in[2] : nullptr, y);
      return;
    case Op::DynamicQuantizeScale:
      y[0] = dynamic_quantization({in[0], static_cast<size_t>(k.count)}).scale;
      return;
    case Op::DynamicQuantizeZeroPoint:
      y[0] = dynamic_quantization({in[0], static_cast<size_t>(k.count)}).zero_point;
      return;
    case Op::QLinearConv:
    case Op::ConvInteger:
      quantized_conv2d(k.conv, k.quant, in, y);
      return;
    case Op::QLinearMatMul:
    case Op::MatMulInteger:
    case Op::QGemm:
      quantized_gemm(k.gemm, k.quant, in, y);
      return;
    default:
      if (y != in[0]) std::memcpy(y, in[0], k.count * sizeof(float));
      return;
  }
}

namespace {

std::string activation_suffix(Activation a) {
  switch (a) {
    case Activation::none:
      return "";
    case Activation::relu:
      return "+relu";
    case Activation::leaky_relu:
      return "+leaky_relu";
    case Activation::elu:
      return "+elu";
    case Activation::sigmoid:
      return "+sigmoid";
    case Activation::tanh:
      return "+tanh";
  }
  return "";
}

// Where a tensor's data lives during run().
struct Loc {
  enum Kind : uint8_t { arena, input, output, constant } kind = arena;
  size_t index = 0;  // input/output number, or offset in floats into the arena
  const float* constant_data = nullptr;
};

struct Step {
  RefKernel kernel;
  std::vector<Loc> inputs;  // one per node input (kind constant + null data for a missing one)
  Loc output;
  std::string name;
};

class ReferencePlan final : public Plan {
 public:
  ReferencePlan(const Graph& g, const PlanOptions&) : graph_(g) { build(); }

  void run(std::span<const float* const> inputs, std::span<float* const> outputs,
           std::span<double> step_us) override {
    for (size_t s = 0; s < steps_.size(); ++s) {
      const auto t0 = step_us.empty() ? std::chrono::steady_clock::time_point{}
                                      : std::chrono::steady_clock::now();
      Step& step = steps_[s];
      for (size_t i = 0; i < step.inputs.size(); ++i)
        in_ptrs_[i] = resolve(step.inputs[i], inputs, outputs);
      run_kernel(step.kernel, {in_ptrs_.data(), step.inputs.size()},
                 const_cast<float*>(resolve(step.output, inputs, outputs)));
      if (!step_us.empty())
        step_us[s] =
            std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0)
                .count();
    }
  }
  size_t num_steps() const override { return steps_.size(); }
  const std::string& step_name(size_t i) const override { return steps_[i].name; }
  size_t arena_bytes() const override { return arena_.size() * sizeof(float); }
  size_t constant_bytes() const override {
    size_t bytes = 0;
    for (const Value& v : graph_.values)
      if (v.is_const) bytes += v.f32.size() * sizeof(float);
    return bytes;
  }

 private:
  const float* resolve(const Loc& l, std::span<const float* const> inputs,
                       std::span<float* const> outputs) {
    switch (l.kind) {
      case Loc::arena:
        return arena_.data() + l.index;
      case Loc::input:
        return inputs[l.index];
      case Loc::output:
        return outputs[l.index];
      case Loc::constant:
        return l.constant_data;
    }
    return nullptr;
  }

  void build() {
    const Graph& g = graph_;
    // Views share their source's data: map every value to the value that owns the bytes.
    root_.resize(g.values.size());
    for (size_t i = 0; i < root_.size(); ++i) root_[i] = static_cast<int>(i);
    for (const Node& n : g.nodes)
      if (is_view(n.op)) root_[n.outputs[0]] = root_[n.inputs[0]];
    std::vector<Loc> loc(g.values.size());
    std::vector<bool> placed(g.values.size(), false);
    for (size_t i = 0; i < g.inputs.size(); ++i) {
      loc[g.inputs[i]] = Loc{Loc::input, i};
      placed[g.inputs[i]] = true;
    }
    for (size_t i = 0; i < g.values.size(); ++i)
      if (g.values[i].is_const) {
        loc[i] = Loc{Loc::constant, 0, g.values[i].f32.data()};
        placed[i] = true;
      }
    // A graph output is written straight into the caller's buffer by its producer when it can be.
    std::vector<std::pair<int, size_t>> copies;  // (root value, output index)
    for (size_t o = 0; o < g.outputs.size(); ++o) {
      const int r = root_[g.outputs[o]];
      if (!placed[r]) {
        loc[r] = Loc{Loc::output, o};
        placed[r] = true;
      } else {
        copies.emplace_back(r, o);
      }
    }
    // Arena for the rest: lifetimes from producing step to last reader (through views).
    std::vector<const Node*> compute;
    for (const Node& n : g.nodes)
      if (!is_view(n.op)) compute.push_back(&n);
    std::vector<int> first(g.values.size(), -1), last(g.values.size(), -1);
    for (size_t s = 0; s < compute.size(); ++s) {
      first[root_[compute[s]->outputs[0]]] = static_cast<int>(s);
      for (int id : compute[s]->inputs)
        if (id >= 0) last[root_[id]] = static_cast<int>(s);
    }
    std::vector<BufferLifetime> buffers;
    std::vector<int> buffer_value;
    for (size_t v = 0; v < g.values.size(); ++v) {
      if (placed[v] || first[v] < 0) continue;
      buffers.push_back({static_cast<size_t>(element_count(g.values[v].shape)) * sizeof(float),
                         first[v], std::max(first[v], last[v])});
      buffer_value.push_back(static_cast<int>(v));
    }
    const ArenaPlan arena = plan_arena(buffers);
    arena_.assign(arena.total_bytes / sizeof(float) + 1, 0.0f);
    for (size_t b = 0; b < buffers.size(); ++b)
      loc[buffer_value[b]] = Loc{Loc::arena, arena.offsets[b] / sizeof(float)};

    size_t max_inputs = 0;
    for (const Node* n : compute) {
      Step step{
          .kernel = prepare_kernel(g, *n),
          .name = n->name + " (" + op_name(n->op) + activation_suffix(n->activation.kind) + ")"};
      for (int id : n->inputs)
        step.inputs.push_back(id >= 0 ? loc[root_[id]] : Loc{Loc::constant, 0, nullptr});
      step.output = loc[root_[n->outputs[0]]];
      max_inputs = std::max(max_inputs, step.inputs.size());
      steps_.push_back(std::move(step));
    }
    for (auto [r, o] : copies) {
      Step step{.name = g.values[g.outputs[o]].name + " (copy)"};
      step.kernel.op = Op::Identity;
      step.kernel.count = element_count(g.values[r].shape);
      step.inputs.push_back(loc[r]);
      step.output = Loc{Loc::output, o};
      steps_.push_back(std::move(step));
    }
    in_ptrs_.assign(std::max<size_t>(max_inputs, 1), nullptr);
  }

  const Graph& graph_;
  std::vector<int> root_;
  std::vector<Step> steps_;
  std::vector<float> arena_;
  std::vector<const float*> in_ptrs_;  // scratch for one step's input pointers
};

}  // namespace
}  // namespace pitlane::runtime::reference

namespace pitlane::runtime {
std::unique_ptr<Plan> make_reference_plan(const Graph& g, const PlanOptions& options) {
  return std::make_unique<reference::ReferencePlan>(g, options);
}
}  // namespace pitlane::runtime
