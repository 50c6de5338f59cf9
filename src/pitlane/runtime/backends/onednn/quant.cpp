// oneDNN int8 primitives for the fused quantized operators: QLinearConv -> int8 convolution,
// QGemm -> int8 inner product (u8/s8 activations, s8 weights, s32 bias, per-channel output scales
// x_scale * w_scale / y_scale, destination zero point, fused Relu), or at batch <= 4 the backend's
// zero-skipping int8 kernel (kernels/zero_skip_gemm/int8.h), QuantizeLinear -> a scaling reorder,
// ConvInteger / MatMulInteger -> int8 convolution / matmul with s32 output. Activations between
// these primitives stay u8/s8 in the layout each primitive chose. Anything else (u8 weights,
// weight zero points, runtime scales) runs the reference kernel.
#include <optional>

#include "pitlane/runtime/backends/onednn/builder.h"
#include "pitlane/runtime/kernels/zero_skip_gemm/int8.h"

namespace pitlane::runtime::onednn {
namespace {

using dt = memory::data_type;

dt dnnl_type(DType t) {
  return t == DType::u8 ? dt::u8 : t == DType::i8 ? dt::s8 : t == DType::i32 ? dt::s32 : dt::f32;
}

// A constant scalar input, or nullopt when absent (absent zero points are 0).
std::optional<float> scalar(const Graph& g, const Node& n, size_t i) {
  if (i >= n.inputs.size() || n.inputs[i] < 0) return std::nullopt;
  const Value& v = g.values[n.inputs[i]];
  if (!v.is_const || v.f32.size() != 1) return std::nullopt;
  return v.f32[0];
}

bool present(const Node& n, size_t i) {
  return i < n.inputs.size() && n.inputs[i] >= 0;
}

// Operand positions: QLinearConv (x 0, xs 1, xzp 2, w 3, ws 4, wzp 5, ys 6, yzp 7, bias 8) and
// QGemm (a 0, as 1, azp 2, b 3, bs 4, bzp 5, bias 6, ys 7, yzp 8).
struct Operands {
  size_t ws = 4, wzp = 5, ys = 6, yzp = 7, bias = 8;
};

// Checks the form the primitives take and builds the attributes: per-channel output scales,
// source / destination zero points, Relu. False when the node needs the reference kernel.
// zero_points: whether the primitive takes zero points (convolution); inner products in oneDNN
// 2.6 do not, so their destination zero point becomes a final linear post-op (x + zp) and a
// source zero point sends the node to the reference kernel.
bool quant_attr(const Builder& b, const Node& n, const Operands& o, int64_t channels,
                dnnl::primitive_attr& attr, bool& src_zp, bool zero_points = true) {
  const Graph& g = b.g;
  const Value& w = g.values[n.inputs[3]];
  if (!w.is_const || w.dtype != DType::i8) return false;
  if (present(n, o.wzp)) {
    const Value& z = g.values[n.inputs[o.wzp]];
    if (!z.is_const) return false;
    for (float v : z.f32)
      if (v != 0.0f) return false;
  }
  const auto xs = scalar(g, n, 1);
  const bool quantized_out = present(n, o.ys);
  const auto ys = quantized_out ? scalar(g, n, o.ys) : std::optional<float>(1.0f);
  const Value& ws = g.values[n.inputs[o.ws]];
  if (!xs || !ys || !ws.is_const || (present(n, 2) && !scalar(g, n, 2)) ||
      (present(n, o.yzp) && !scalar(g, n, o.yzp)))
    return false;
  if (n.activation.kind != Activation::none && n.activation.kind != Activation::relu) return false;
  const float alpha = n.op == Op::QGemm ? n.attrs.alpha : 1.0f;
  std::vector<float> scales(channels);
  for (int64_t c = 0; c < channels; ++c) {
    const float wsc = ws.f32[ws.f32.size() == 1 ? 0 : c];
    scales[c] = quantized_out ? alpha * *xs * wsc / *ys : alpha * *xs * wsc;
  }
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  attr.set_output_scales(1 << 1, scales);
  const int x_zp = static_cast<int>(scalar(g, n, 2).value_or(0.0f));
  src_zp = x_zp != 0;
  if (src_zp && !zero_points) return false;
  if (src_zp) attr.set_zero_points(DNNL_ARG_SRC, 0, {DNNL_RUNTIME_S32_VAL});
  const int y_zp = static_cast<int>(present(n, o.yzp) ? *scalar(g, n, o.yzp) : 0.0f);
  if (y_zp != 0 && zero_points) attr.set_zero_points(DNNL_ARG_DST, 0, {y_zp});
  dnnl::post_ops ops;
  if (n.activation.kind == Activation::relu)
    ops.append_eltwise(1.0f, dnnl::algorithm::eltwise_relu, 0.0f, 0.0f);
  if (y_zp != 0 && !zero_points)
    ops.append_eltwise(1.0f, dnnl::algorithm::eltwise_linear, 1.0f, static_cast<float>(y_zp));
  if (ops.len() > 0) attr.set_post_ops(ops);
  return true;
}

// The int32 bias as s32 memory (exact, from the constant's int64 copy).
int bias_buffer(Builder& b, const Value& bias) {
  const memory::desc md({static_cast<int64_t>(bias.f32.size())}, dt::s32, memory::format_tag::x);
  memory owned(md, b.engine);
  auto* p = static_cast<int32_t*>(owned.get_data_handle());
  for (size_t i = 0; i < bias.f32.size(); ++i)
    p[i] = static_cast<int32_t>(bias.i64.size() == bias.f32.size() ? bias.i64[i] : bias.f32[i]);
  const int id = b.new_buffer(md);
  b.buffers[id].kind = Buffer::constant;
  b.buffers[id].constant_memory = owned;
  return id;
}

// The source zero point as a runtime s32 argument.
int zero_point_buffer(Builder& b, int value) {
  const memory::desc md({1}, dt::s32, memory::format_tag::x);
  memory owned(md, b.engine);
  *static_cast<int32_t*>(owned.get_data_handle()) = value;
  const int id = b.new_buffer(md);
  b.buffers[id].kind = Buffer::constant;
  b.buffers[id].constant_memory = owned;
  return id;
}

// The source zero point of ConvInteger / MatMulInteger as an s32 runtime argument: a constant,
// or the DynamicQuantizeZeroPoint result converted once per run. -1 when the zero point is 0.
int runtime_zero_point(Builder& b, const Node& n, size_t i) {
  if (!present(n, i)) return -1;
  const Value& v = b.g.values[n.inputs[i]];
  if (v.is_const) {
    const int zp = static_cast<int>(v.f32.at(0));
    return zp == 0 ? -1 : zero_point_buffer(b, zp);
  }
  return b.as_md(b.plain(n.inputs[i]), memory::desc({1}, dt::s32, memory::format_tag::x));
}

// ConvInteger / MatMulInteger weights: constant int8 with no zero point.
bool integer_weights_ok(const Graph& g, const Node& n, size_t w, size_t wzp) {
  const Value& v = g.values[n.inputs[w]];
  if (!v.is_const || v.dtype != DType::i8) return false;
  if (present(n, wzp)) {
    const Value& z = g.values[n.inputs[wzp]];
    if (!z.is_const) return false;
    for (float x : z.f32)
      if (x != 0.0f) return false;
  }
  if (present(n, 2) && g.values[n.inputs[2]].f32.size() > 1 && g.values[n.inputs[2]].is_const)
    return false;  // per-row activation zero points
  return true;
}

// The common end of every int8 builder: the source zero point (a buffer, or -1 for none), the
// destination in the primitive's layout, the step, and the node's output bound to it.
void add_int8_step(Builder& b, const Node& n, dnnl::primitive p, const memory::desc& scratchpad,
                   const memory::desc& dst_md, std::vector<std::pair<int, int>> args,
                   int zero_point) {
  if (zero_point >= 0) args.emplace_back(DNNL_ARG_ATTR_ZERO_POINTS | DNNL_ARG_SRC, zero_point);
  const int dst = b.new_buffer(dst_md);
  args.emplace_back(DNNL_ARG_DST, dst);
  b.add_primitive(b.step_name(n) + " [int8]", std::move(p), scratchpad, std::move(args));
  b.native[n.outputs[0]] = dst;
}

}  // namespace

bool add_integer_conv(Builder& b, const Node& n) {
  const Graph& g = b.g;
  if (n.op != Op::ConvInteger || n.attrs.group != 1 || !integer_weights_ok(g, n, 1, 3))
    return false;
  const auto& x = g.values[n.inputs[0]].shape;
  const Value& w = g.values[n.inputs[1]];
  const auto& y = g.values[n.outputs[0]].shape;
  const auto pads = n.attrs.pads;
  const auto strides = n.attrs.strides;
  const auto dil = n.attrs.dilations;
  const bool zp =
      present(n, 2) && !(g.values[n.inputs[2]].is_const && g.values[n.inputs[2]].f32.at(0) == 0.0f);
  dnnl::primitive_attr attr;
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  if (zp) attr.set_zero_points(DNNL_ARG_SRC, 0, {DNNL_RUNTIME_S32_VAL});
  const auto any = memory::format_tag::any;
  const memory::dims wdims = {w.shape[0], w.shape[1], w.shape[2], w.shape[3]};
  dnnl::convolution_forward::primitive_desc pd;
  try {
    dnnl::convolution_forward::desc d(
        dnnl::prop_kind::forward_inference, dnnl::algorithm::convolution_direct,
        memory::desc({x[0], x[1], x[2], x[3]}, dnnl_type(g.values[n.inputs[0]].dtype), any),
        memory::desc(wdims, dt::s8, any), memory::desc(),
        memory::desc({y[0], y[1], y[2], y[3]}, dt::s32, any), {strides[0], strides[1]},
        {dil[0] - 1, dil[1] - 1}, {pads[0], pads[1]}, {pads[2], pads[3]});
    pd = dnnl::convolution_forward::primitive_desc(d, attr, b.engine);
  } catch (const dnnl::error&) {
    return false;
  }
  int in = b.value_buffer(n.inputs[0]);
  if (b.buffers[in].md.data_type() != pd.src_desc().data_type() &&
      b.buffers[in].md != pd.src_desc())
    in = b.as_md(in, Builder::plain_md(x, pd.src_desc().data_type()));
  std::vector<std::pair<int, int>> args = {
      {DNNL_ARG_SRC, b.as_md(in, pd.src_desc())},
      {DNNL_ARG_WEIGHTS, b.constant(memory::desc(wdims, dt::f32, memory::format_tag::oihw),
                                    w.f32.data(), pd.weights_desc())}};
  const int zero_point = zp ? runtime_zero_point(b, n, 2) : -1;
  add_int8_step(b, n, dnnl::convolution_forward(pd), pd.scratchpad_desc(), pd.dst_desc(),
                std::move(args), zero_point);
  return true;
}

// A matmul primitive, not an inner product: oneDNN 2.6's inner products take no zero points, and
// DynamicQuantizeLinear's uint8 activations always carry one.
bool add_integer_matmul(Builder& b, const Node& n) {
  const Graph& g = b.g;
  if (n.op != Op::MatMulInteger || !integer_weights_ok(g, n, 1, 3)) return false;
  const auto& a = g.values[n.inputs[0]].shape;
  const Value& w = g.values[n.inputs[1]];
  if (a.size() != 2 || w.shape.size() != 2) return false;
  const int64_t m = a[0], k = a[1], cols = w.shape[1];
  const bool zp =
      present(n, 2) && !(g.values[n.inputs[2]].is_const && g.values[n.inputs[2]].f32.at(0) == 0.0f);
  dnnl::primitive_attr attr;
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  if (zp) attr.set_zero_points(DNNL_ARG_SRC, 0, {DNNL_RUNTIME_S32_VAL});
  const dt src_dt = dnnl_type(g.values[n.inputs[0]].dtype);
  dnnl::matmul::primitive_desc pd;
  try {
    dnnl::matmul::desc d(memory::desc({m, k}, src_dt, memory::format_tag::ab),
                         memory::desc({k, cols}, dt::s8, memory::format_tag::any),
                         memory::desc({m, cols}, dt::s32, memory::format_tag::ab));
    pd = dnnl::matmul::primitive_desc(d, attr, b.engine);
  } catch (const dnnl::error&) {
    return false;
  }
  const memory::desc w_user({k, cols}, dt::f32, memory::format_tag::ab);
  std::vector<std::pair<int, int>> args = {
      {DNNL_ARG_SRC, b.as_md(b.plain(n.inputs[0]), pd.src_desc())},
      {DNNL_ARG_WEIGHTS, b.constant(w_user, w.f32.data(), pd.weights_desc())}};
  const int zero_point = zp ? runtime_zero_point(b, n, 2) : -1;
  add_int8_step(b, n, dnnl::matmul(pd), pd.scratchpad_desc(), pd.dst_desc(), std::move(args),
                zero_point);
  return true;
}

bool add_quantized_conv(Builder& b, const Node& n) {
  const Graph& g = b.g;
  if (n.op != Op::QLinearConv || n.attrs.group != 1) return false;
  const auto& x = g.values[n.inputs[0]].shape;
  const Value& w = g.values[n.inputs[3]];
  const auto& y = g.values[n.outputs[0]].shape;
  dnnl::primitive_attr attr;
  bool src_zp = false;
  if (!quant_attr(b, n, {}, y[1], attr, src_zp)) return false;
  const auto pads = n.attrs.pads;
  const auto strides = n.attrs.strides;
  const auto dil = n.attrs.dilations;
  const bool has_bias = present(n, 8);
  const auto any = memory::format_tag::any;
  const memory::dims wdims = {w.shape[0], w.shape[1], w.shape[2], w.shape[3]};
  const memory::desc src_md({x[0], x[1], x[2], x[3]}, dnnl_type(g.values[n.inputs[0]].dtype), any);
  const memory::desc w_md(wdims, dt::s8, any);
  const memory::desc bias_md({y[1]}, dt::s32, memory::format_tag::x);
  const memory::desc dst_md({y[0], y[1], y[2], y[3]}, dnnl_type(g.values[n.outputs[0]].dtype), any);
  dnnl::convolution_forward::primitive_desc pd;
  try {
    dnnl::convolution_forward::desc d(
        dnnl::prop_kind::forward_inference, dnnl::algorithm::convolution_direct, src_md, w_md,
        has_bias ? bias_md : memory::desc(), dst_md, {strides[0], strides[1]},
        {dil[0] - 1, dil[1] - 1}, {pads[0], pads[1]}, {pads[2], pads[3]});
    pd = dnnl::convolution_forward::primitive_desc(d, attr, b.engine);
  } catch (const dnnl::error&) {
    return false;
  }
  // Type and layout changes in two reorders (oneDNN's f32 nchw -> u8 nhwc reorder is a slow
  // generic one; each alone is fast): uint8 pixels arriving as floats, for instance.
  int in = b.value_buffer(n.inputs[0]);
  if (b.buffers[in].md.data_type() != pd.src_desc().data_type() &&
      b.buffers[in].md != pd.src_desc())
    in = b.as_md(in, Builder::plain_md(x, pd.src_desc().data_type()));
  const int src = b.as_md(in, pd.src_desc());
  const memory::desc w_user(wdims, dt::f32, memory::format_tag::oihw);
  const int wb = b.constant(w_user, w.f32.data(), pd.weights_desc());
  std::vector<std::pair<int, int>> args = {{DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, wb}};
  if (has_bias) args.emplace_back(DNNL_ARG_BIAS, bias_buffer(b, g.values[n.inputs[8]]));
  const int zero_point = src_zp ? zero_point_buffer(b, static_cast<int>(*scalar(g, n, 2))) : -1;
  add_int8_step(b, n, dnnl::convolution_forward(pd), pd.scratchpad_desc(), pd.dst_desc(),
                std::move(args), zero_point);
  return true;
}

// QGemm at batch <= 4 on the zero-skipping int8 kernel (kernels/zero_skip_gemm/int8.h): reads plain
// (u)int8 inputs, writes the output type the node declares. Call after quant_attr() accepted the
// node (constant scales and zero points, int8 weights without zero points, Relu or nothing).
bool add_zero_skip_qgemm(Builder& b, const Node& n, int64_t m, int64_t cols, int64_t k) {
  const Graph& g = b.g;
  const DType x_type = g.values[n.inputs[0]].dtype, y_type = g.values[n.outputs[0]].dtype;
  if (!b.options.skip_zero_inputs || !kernels::zero_skip_gemm_pays(cols, k, m) ||
      (x_type != DType::u8 && x_type != DType::i8))
    return false;
  const bool requantize = present(n, 7);
  kernels::QuantizedGemmParams params{
      .x_scale = *scalar(g, n, 1),
      .x_zero = static_cast<int32_t>(scalar(g, n, 2).value_or(0.0f)),
      .x_signed = x_type == DType::i8,
      .w_scale = g.values[n.inputs[4]].f32,
      .alpha = n.attrs.alpha,
      .requantize = requantize,
      .y_scale = requantize ? *scalar(g, n, 7) : 1.0f,
      .y_zero = static_cast<int32_t>(present(n, 8) ? *scalar(g, n, 8) : 0.0f),
      .y_signed = y_type == DType::i8,
      .relu = n.activation.kind == Activation::relu};
  const float* bias = present(n, 6) ? g.values[n.inputs[6]].f32.data() : nullptr;
  auto gemm = std::make_shared<const kernels::ZeroSkipGemmInt8>(kernels::make_zero_skip_gemm_int8(
      g.values[n.inputs[3]].f32.data(), cols, k, bias, params, m, b.options.threads));
  // The input as plain bytes, [m, k] in ONNX order (a flattened 4-D input in nchw).
  const dt src_dt = dnnl_type(x_type);
  const int a = n.inputs[0], r = b.root[a];
  const auto& rs = g.values[r].shape;
  int src;
  if (r != a && rs.size() == 4 && b.native[r] >= 0)
    src = b.as_md(b.native[r], Builder::plain_md(rs, src_dt));
  else
    src = b.as_md(b.native[a] >= 0 ? b.native[a] : b.plain(a), Builder::plain_md({m, k}, src_dt));
  // "fc1 (QGemm+relu)" -> "fc1 (QGemm+relu, zero-skipping) [int8]"
  std::string name = b.step_name(n);
  name.pop_back();
  const size_t workspace = gemm->workspace_floats, bytes = gemm->storage_bytes();
  const int dst = b.add_own_kernel(
      name + ", zero-skipping) [int8]",
      [gemm](const float* x, float* y, float* ws) {
        kernels::run_zero_skip_gemm_int8(*gemm, x, y, ws);
      },
      workspace, bytes, src, {m, cols}, dnnl_type(y_type));
  b.native[n.outputs[0]] = dst;
  if (y_type == DType::f32) b.plain_of[n.outputs[0]] = dst;
  return true;
}

bool add_quantized_gemm(Builder& b, const Node& n) {
  const Graph& g = b.g;
  if (n.op != Op::QGemm || n.attrs.trans_a || !n.attrs.trans_b) return false;
  const Value& w = g.values[n.inputs[3]];
  const auto& y = g.values[n.outputs[0]].shape;
  if (y.size() != 2) return false;
  const int64_t m = y[0], cols = y[1], k = w.shape[1];
  const Operands o{.ws = 4, .wzp = 5, .ys = 7, .yzp = 8, .bias = 6};
  dnnl::primitive_attr attr;
  bool src_zp = false;
  const bool zero_skip_ok = quant_attr(b, n, o, cols, attr, src_zp, /*zero_points=*/true);
  const bool has_bias = present(n, 6);
  if (has_bias && g.values[n.inputs[6]].f32.size() != static_cast<size_t>(cols)) return false;
  if (zero_skip_ok && add_zero_skip_qgemm(b, n, m, cols, k)) return true;
  attr = dnnl::primitive_attr();
  if (!quant_attr(b, n, o, cols, attr, src_zp, /*zero_points=*/false)) return false;
  const dt src_dt = dnnl_type(g.values[n.inputs[0]].dtype);
  const memory::desc bias_md({cols}, dt::s32, memory::format_tag::x);
  const memory::desc dst_md({m, cols}, dnnl_type(g.values[n.outputs[0]].dtype),
                            memory::format_tag::nc);
  auto try_pd =
      [&](const memory::desc& src_md,
          const memory::dims& wdims) -> std::optional<dnnl::inner_product_forward::primitive_desc> {
    try {
      const memory::desc w_md(wdims, dt::s8, memory::format_tag::any);
      dnnl::inner_product_forward::desc d(dnnl::prop_kind::forward_inference, src_md, w_md,
                                          has_bias ? bias_md : memory::desc(), dst_md);
      return dnnl::inner_product_forward::primitive_desc(d, attr, b.engine);
    } catch (const dnnl::error&) {
      return std::nullopt;
    }
  };
  // As in add_gemm: read a flattened 4-D tensor in its producer's layout.
  const int a = n.inputs[0];
  const int r = b.root[a];
  const auto& rs = g.values[r].shape;
  int src = -1;
  memory::desc w_user;
  std::optional<dnnl::inner_product_forward::primitive_desc> pd;
  if (r != a && rs.size() == 4 && rs[0] == m && rs[1] * rs[2] * rs[3] == k && b.native[r] >= 0) {
    const memory::desc& have = b.buffers[b.native[r]].md;
    w_user = memory::desc({cols, rs[1], rs[2], rs[3]}, dt::f32, memory::format_tag::oihw);
    if (have.data_type() == src_dt) pd = try_pd(have, w_user.dims());
    if (!pd) pd = try_pd(memory::desc(have.dims(), src_dt, memory::format_tag::any), w_user.dims());
    if (pd) src = b.as_md(b.native[r], pd->src_desc());
  }
  if (!pd) {
    w_user = memory::desc({cols, k}, dt::f32, memory::format_tag::oi);
    pd = try_pd(memory::desc({m, k}, src_dt, memory::format_tag::nc), w_user.dims());
    if (!pd) return false;
    // A 2-D (u)int8 producer (the previous QGemm) is read as it is; anything else via plain.
    src = b.as_md(r == a && b.native[a] >= 0 ? b.native[a] : b.plain(a), pd->src_desc());
  }
  const int wb = b.constant(w_user, w.f32.data(), pd->weights_desc());
  std::vector<std::pair<int, int>> args = {{DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, wb}};
  if (has_bias) args.emplace_back(DNNL_ARG_BIAS, bias_buffer(b, g.values[n.inputs[6]]));
  const int zero_point = src_zp ? zero_point_buffer(b, static_cast<int>(*scalar(g, n, 2))) : -1;
  add_int8_step(b, n, dnnl::inner_product_forward(*pd), pd->scratchpad_desc(), pd->dst_desc(),
                std::move(args), zero_point);
  return true;
}

bool add_quantize(Builder& b, const Node& n) {
  const Graph& g = b.g;
  if (n.op != Op::QuantizeLinear) return false;
  const auto scale = scalar(g, n, 1);
  if (!scale || (present(n, 2) && !scalar(g, n, 2)) || *scale <= 0.0f) return false;
  const int zp = static_cast<int>(scalar(g, n, 2).value_or(0.0f));
  const auto& shape = g.values[n.outputs[0]].shape;
  const memory::desc dst_md = Builder::plain_md(shape, dnnl_type(g.values[n.outputs[0]].dtype));
  dnnl::primitive_attr attr;
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  attr.set_output_scales(0, {1.0f / *scale});
  if (zp != 0) attr.set_zero_points(DNNL_ARG_DST, 0, {zp});
  const int src = b.plain(n.inputs[0]);
  dnnl::reorder::primitive_desc pd;
  try {
    pd = dnnl::reorder::primitive_desc(b.engine, b.buffers[src].md, b.engine, dst_md, attr);
  } catch (const dnnl::error&) {
    return false;
  }
  const int dst = b.new_buffer(dst_md);
  b.add_primitive(b.step_name(n), dnnl::reorder(pd), pd.scratchpad_desc(),
                  {{DNNL_ARG_FROM, src}, {DNNL_ARG_TO, dst}});
  b.native[n.outputs[0]] = dst;
  return true;
}

}  // namespace pitlane::runtime::onednn
