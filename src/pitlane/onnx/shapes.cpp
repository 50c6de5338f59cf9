#include "pitlane/onnx/shapes.h"

#include <algorithm>
#include <array>
#include <numeric>

#include "pitlane/core/error.h"
#include "pitlane/onnx/operators.h"
#include "pitlane/onnx/shape_rules.h"

namespace pitlane::onnx {
namespace {

std::string dims_text(const std::vector<int64_t>& s) {
  std::string out = "[";
  for (size_t i = 0; i < s.size(); ++i) out += (i ? "," : "") + std::to_string(s[i]);
  return out + "]";
}

struct Ctx {
  Graph& g;
  Node& n;
  [[noreturn]] void fail(const std::string& what) const {
    throw InputError(g.where(n) + ": " + what);
  }
  Value& in(size_t i) const {
    if (i >= n.inputs.size() || n.inputs[i] < 0) fail("input " + std::to_string(i) + " is missing");
    return g.values[n.inputs[i]];
  }
  bool has_in(size_t i) const { return i < n.inputs.size() && n.inputs[i] >= 0; }
  const std::vector<int64_t>& shape(size_t i) const { return in(i).shape; }
  void set_out(size_t i, std::vector<int64_t> shape, DType dtype = DType::f32) const {
    if (i >= n.outputs.size() || n.outputs[i] < 0) return;
    int64_t count = 1;
    for (int64_t d : shape) {
      if (d < 0) fail("output dimension " + dims_text(shape) + " is negative");
      count *= d;
      if (count > kMaxInferredElements) fail("output " + dims_text(shape) + " is too large");
    }
    Value& v = g.values[n.outputs[i]];
    v.shape = std::move(shape);
    v.dtype = dtype;
    v.has_shape = true;
  }
  const Value& const_in(size_t i, const char* what) const {
    const Value& v = in(i);
    if (!v.is_const) fail(std::string(what) + " must be a constant (an initializer)");
    return v;
  }
  int64_t axis(int64_t a, int64_t rank, const char* what) const {
    if (a < -rank || a >= rank)
      fail(std::string(what) + " " + std::to_string(a) + " is out of range for rank " +
           std::to_string(rank));
    return a < 0 ? a + rank : a;
  }
  std::vector<int64_t> const_ints(size_t i, const char* what) const {
    const Value& v = const_in(i, what);
    if (v.dtype != DType::i64 && v.dtype != DType::i32) fail(std::string(what) + " must be int64");
    return v.i64;
  }
};

std::vector<int64_t> broadcast(const Ctx& c, const std::vector<int64_t>& a,
                               const std::vector<int64_t>& b) {
  std::vector<int64_t> out(std::max(a.size(), b.size()));
  for (size_t i = 0; i < out.size(); ++i) {
    const int64_t da = i < out.size() - a.size() ? 1 : a[i - (out.size() - a.size())];
    const int64_t db = i < out.size() - b.size() ? 1 : b[i - (out.size() - b.size())];
    if (da != db && da != 1 && db != 1)
      c.fail("shapes " + dims_text(a) + " and " + dims_text(b) + " do not broadcast");
    out[i] = da == 1 ? db : da;
  }
  return out;
}

// Input positions of a convolution's operands (Conv, QLinearConv and ConvInteger differ).
struct ConvOperands {
  size_t x = 0, w = 1;
  int bias = 2;  // -1: none
  bool quantized = false;
  DType out = DType::f32;
};

void infer_conv(const Ctx& c, const ConvOperands& o = {}) {
  const auto& x = c.shape(o.x);
  const Value& w = c.const_in(o.w, "Conv weights");
  if (x.size() != 4)
    c.fail("input " + dims_text(x) + " is not 4-D; only 2-D convolution (NCHW) is supported");
  if (w.shape.size() != 4 ||
      (o.quantized ? !(w.dtype == DType::u8 || w.dtype == DType::i8) : w.dtype != DType::f32))
    c.fail("weights " + dims_text(w.shape) + " are not 4-D " + (o.quantized ? "(u)int8" : "float"));
  const int64_t group = c.n.attrs.group;
  const int64_t oc = w.shape[0], kh = w.shape[2], kw = w.shape[3];
  if (group < 1 || x[1] % group || oc % group || w.shape[1] * group != x[1])
    c.fail("weights " + dims_text(w.shape) + " do not match input " + dims_text(x) +
           " with group " + std::to_string(group));
  if (o.bias >= 0 && c.has_in(o.bias)) {
    const Value& b = c.const_in(o.bias, "Conv bias");
    const DType bt = o.quantized ? DType::i32 : DType::f32;
    if (b.shape != std::vector<int64_t>{oc} || b.dtype != bt)
      c.fail("bias must be " + std::string(dtype_name(bt)) + " [" + std::to_string(oc) + "]");
  }
  auto ks = c.n.attrs.kernel_shape.empty() ? std::vector<int64_t>{kh, kw} : c.n.attrs.kernel_shape;
  if (ks != std::vector<int64_t>{kh, kw})
    c.fail("kernel_shape " + dims_text(ks) + " does not match the weights");
  auto strides = c.n.attrs.strides;
  auto dil = c.n.attrs.dilations;
  if (strides.size() != 2 || dil.size() != 2) c.fail("strides and dilations need 2 values");
  for (int64_t s : strides)
    if (s < 1 || s > 1024) c.fail("stride " + std::to_string(s) + " is invalid");
  for (int64_t d : dil)
    if (d < 1 || d > 1024) c.fail("dilation " + std::to_string(d) + " is invalid");
  const int64_t ekh = (kh - 1) * dil[0] + 1, ekw = (kw - 1) * dil[1] + 1;
  std::vector<int64_t> pads = c.n.attrs.pads;
  const AutoPad auto_pad = c.n.attrs.auto_pad;
  if (auto_pad == AutoPad::valid) {
    pads = {0, 0, 0, 0};
  } else if (auto_pad == AutoPad::same_upper || auto_pad == AutoPad::same_lower) {
    // Output = ceil(in / stride); the odd pixel of padding goes at the end (UPPER) or start.
    for (int d = 0; d < 2; ++d) {
      const int64_t in = x[2 + d], s = strides[d], ek = d ? ekw : ekh;
      const int64_t out = (in + s - 1) / s;
      const int64_t total = std::max<int64_t>(0, (out - 1) * s + ek - in);
      const int64_t small = total / 2, big = total - small;
      pads[d] = auto_pad == AutoPad::same_upper ? small : big;
      pads[d + 2] = auto_pad == AutoPad::same_upper ? big : small;
    }
  }
  if (pads.size() != 4) c.fail("pads needs 4 values [top, left, bottom, right]");
  for (int64_t p : pads)
    if (p < 0 || p > 4096) c.fail("pad " + std::to_string(p) + " is invalid");
  const int64_t hp = x[2] + pads[0] + pads[2], wp = x[3] + pads[1] + pads[3];
  if (hp < ekh || wp < ekw)
    c.fail("kernel " + std::to_string(kh) + "x" + std::to_string(kw) +
           " is larger than the padded input " + dims_text(x));
  // Explicit form for the backends.
  c.n.attrs.pads = pads;
  c.n.attrs.kernel_shape = {kh, kw};
  c.n.attrs.auto_pad = AutoPad::notset;
  c.set_out(0, {x[0], oc, (hp - ekh) / strides[0] + 1, (wp - ekw) / strides[1] + 1}, o.out);
}

void infer_gemm(const Ctx& c) {
  const auto& a = c.shape(0);
  const auto& b = c.shape(1);
  if (a.size() != 2 || b.size() != 2)
    c.fail("Gemm needs 2-D inputs, got " + dims_text(a) + " and " + dims_text(b));
  const bool ta = c.n.attrs.trans_a, tb = c.n.attrs.trans_b;
  const int64_t m = ta ? a[1] : a[0], k = ta ? a[0] : a[1];
  const int64_t kb = tb ? b[1] : b[0], n = tb ? b[0] : b[1];
  if (k != kb)
    c.fail("inner dimensions differ: A " + dims_text(a) + ", B " + dims_text(b) +
           (tb ? " (transB=1)" : ""));
  if (c.has_in(2)) {
    auto out = broadcast(c, c.shape(2), {m, n});
    if (out != std::vector<int64_t>{m, n})
      c.fail("C " + dims_text(c.shape(2)) + " does not broadcast to [M,N]");
  }
  c.set_out(0, {m, n});
}

void infer_matmul(const Ctx& c) {
  const auto& a = c.shape(0);
  const auto& b = c.shape(1);
  if (a.size() < 2 || b.size() != 2)
    c.fail("MatMul is supported for A of rank >= 2 and a 2-D B; got " + dims_text(a) + " x " +
           dims_text(b));
  if (a.back() != b[0]) c.fail("inner dimensions differ: " + dims_text(a) + " x " + dims_text(b));
  auto out = a;
  out.back() = b[1];
  c.set_out(0, out);
}

void infer_batchnorm(const Ctx& c) {
  const auto& x = c.shape(0);
  if (x.size() < 2) c.fail("input " + dims_text(x) + " needs a channel dimension");
  if (c.n.attrs.training_mode) c.fail("training_mode=1 is not supported; export in eval mode");
  for (size_t i = 1; i < 5; ++i) {
    const Value& p = c.const_in(i, "BatchNormalization parameters");
    if (p.shape != std::vector<int64_t>{x[1]} || p.dtype != DType::f32)
      c.fail("parameter " + std::to_string(i) + " must be float [" + std::to_string(x[1]) + "]");
  }
  c.set_out(0, x);
  for (size_t i = 1; i < c.n.outputs.size(); ++i)
    if (c.n.outputs[i] >= 0) c.fail("training outputs (running mean/var) are not supported");
}

void infer_reshape(const Ctx& c) {
  const auto& x = c.shape(0);
  const auto target = c.const_ints(1, "Reshape's shape");
  if (target.size() > 8) c.fail("target shape has more than 8 dimensions");
  const bool allowzero = c.n.attrs.allowzero;
  std::vector<int64_t> out;
  int minus = -1;
  int64_t known = 1;
  for (size_t i = 0; i < target.size(); ++i) {
    int64_t d = target[i];
    if (d == 0 && !allowzero) {
      if (i >= x.size())
        c.fail("shape " + dims_text(target) + " copies dimension " + std::to_string(i) +
               " that the input lacks");
      d = x[i];
    }
    if (d == -1) {
      if (minus >= 0) c.fail("shape " + dims_text(target) + " has two -1");
      minus = static_cast<int>(i);
    } else if (d < 0) {
      c.fail("shape " + dims_text(target) + " has a negative dimension");
    } else {
      known *= d;
      if (known > kMaxInferredElements) c.fail("shape " + dims_text(target) + " is too large");
    }
    out.push_back(d);
  }
  const int64_t count = element_count(x);
  if (minus >= 0) {
    if (known == 0 || count % known)
      c.fail("cannot reshape " + dims_text(x) + " to " + dims_text(target));
    out[minus] = count / known;
  } else if (known != count) {
    c.fail("cannot reshape " + dims_text(x) + " (" + std::to_string(count) + " values) to " +
           dims_text(target));
  }
  c.set_out(0, out);
}

void infer_transpose(const Ctx& c) {
  const auto& x = c.shape(0);
  std::vector<int64_t> rev(x.size());
  std::iota(rev.rbegin(), rev.rend(), 0);
  auto perm = c.n.attrs.perm.empty() ? rev : c.n.attrs.perm;
  if (perm.size() != x.size())
    c.fail("perm " + dims_text(perm) + " does not match rank " + std::to_string(x.size()));
  std::vector<bool> seen(x.size(), false);
  std::vector<int64_t> out;
  for (int64_t p : perm) {
    if (p < 0 || p >= static_cast<int64_t>(x.size()) || seen[p])
      c.fail("perm " + dims_text(perm) + " is not a permutation");
    seen[p] = true;
    out.push_back(x[p]);
  }
  c.n.attrs.perm = perm;
  c.set_out(0, out);
}

void infer_concat(const Ctx& c) {
  const auto first = c.shape(0);
  if (first.empty()) c.fail("cannot concatenate scalars");
  const int64_t axis = c.axis(c.n.attrs.axis, first.size(), "axis");
  c.n.attrs.axis = axis;
  auto out = first;
  out[axis] = 0;
  const DType dtype = c.in(0).dtype;
  for (size_t i = 0; i < c.n.inputs.size(); ++i) {
    const auto& s = c.shape(i);
    if (s.size() != first.size() || c.in(i).dtype != dtype) c.fail("inputs differ in rank or type");
    for (size_t d = 0; d < s.size(); ++d)
      if (d != static_cast<size_t>(axis) && s[d] != first[d])
        c.fail("input shapes " + dims_text(first) + " and " + dims_text(s) +
               " differ off the axis");
    out[axis] += s[axis];
  }
  c.set_out(0, out, dtype);
}

std::vector<int64_t> axes_of(const Ctx& c) {
  if (c.g.opset >= 13) return c.has_in(1) ? c.const_ints(1, "axes") : std::vector<int64_t>{};
  return c.n.attrs.axes;
}

void infer_unsqueeze(const Ctx& c) {
  const auto& x = c.shape(0);
  auto axes = axes_of(c);
  if (axes.empty()) c.fail("axes are required");
  const int64_t rank = x.size() + axes.size();
  if (rank > 8) c.fail("result has more than 8 dimensions");
  std::vector<int64_t> out(rank, -2);
  for (int64_t a : axes) {
    a = c.axis(a, rank, "axis");
    if (out[a] == 1) c.fail("axis repeated");
    out[a] = 1;
  }
  size_t j = 0;
  for (auto& d : out)
    if (d == -2) d = x[j++];
  c.set_out(0, out, c.in(0).dtype);
}

void infer_squeeze(const Ctx& c) {
  const auto& x = c.shape(0);
  auto axes = axes_of(c);
  std::vector<bool> drop(x.size(), false);
  if (axes.empty()) {
    for (size_t i = 0; i < x.size(); ++i) drop[i] = x[i] == 1;
  } else {
    for (int64_t a : axes) {
      a = c.axis(a, x.size(), "axis");
      if (x[a] != 1)
        c.fail("cannot squeeze dimension " + std::to_string(a) + " of " + dims_text(x));
      drop[a] = true;
    }
  }
  std::vector<int64_t> out;
  for (size_t i = 0; i < x.size(); ++i)
    if (!drop[i]) out.push_back(x[i]);
  c.set_out(0, out, c.in(0).dtype);
}

void infer_gather(const Ctx& c) {
  const Value& data = c.in(0);
  const Value& idx = c.in(1);
  if (!data.is_const || !idx.is_const)
    c.fail(
        "Gather is supported on constant data only (shape computations); this one reads runtime "
        "data");
  if (idx.dtype != DType::i64 && idx.dtype != DType::i32) c.fail("indices must be integers");
  if (data.shape.empty()) c.fail("cannot gather from a scalar");
  const int64_t axis = c.axis(c.n.attrs.axis, data.shape.size(), "axis");
  c.n.attrs.axis = axis;
  for (int64_t i : idx.i64)
    if (i < -data.shape[axis] || i >= data.shape[axis])
      c.fail("index " + std::to_string(i) + " out of range");
  std::vector<int64_t> out(data.shape.begin(), data.shape.begin() + axis);
  out.insert(out.end(), idx.shape.begin(), idx.shape.end());
  out.insert(out.end(), data.shape.begin() + axis + 1, data.shape.end());
  if (out.size() > 8) c.fail("result has more than 8 dimensions");
  c.set_out(0, out, data.dtype);
}

void infer_shape_op(const Ctx& c) {
  const int64_t rank = c.shape(0).size();
  int64_t start = c.n.attrs.start, end = c.n.attrs.end;
  if (start < 0) start += rank;
  if (end < 0) end += rank;
  start = std::clamp<int64_t>(start, 0, rank);
  end = std::clamp<int64_t>(end, 0, rank);
  c.n.attrs.start = start;
  c.n.attrs.end = std::max(start, end);
  c.set_out(0, {std::max<int64_t>(0, end - start)}, DType::i64);
}

bool is_8bit(DType t) {
  return t == DType::u8 || t == DType::i8;
}

// A scale or zero point: a scalar (per tensor) or a 1-D tensor of `channels` values (per axis).
void check_quant_param(const Ctx& c, size_t i, int64_t channels, const char* what, bool scale) {
  if (!c.has_in(i)) return;
  const Value& v = c.in(i);
  if (scale ? v.dtype != DType::f32 : !(is_8bit(v.dtype) || v.dtype == DType::i32))
    c.fail(std::string(what) + " has type " + dtype_name(v.dtype) + "; expected " +
           (scale ? "float32" : "(u)int8"));
  const int64_t count = element_count(v.shape);
  if (v.shape.size() > 1 || (count != 1 && count != channels))
    c.fail(std::string(what) + " " + dims_text(v.shape) + " must be a scalar or hold " +
           std::to_string(channels) + " values (one per channel)");
}

// QLinearConv / QLinearMatMul: inputs 1, 2 are the input's scale and zero point, 4, 5 the
// weights' (one per output channel or one), 6, 7 the output's. `names`: those of 1, 2, 4, 5.
void check_qlinear_params(const Ctx& c, const std::array<const char*, 4>& names, int64_t channels) {
  check_quant_param(c, 1, 1, names[0], true);
  check_quant_param(c, 2, 1, names[1], false);
  check_quant_param(c, 4, channels, names[2], true);
  check_quant_param(c, 5, channels, names[3], false);
  check_quant_param(c, 6, 1, "y_scale", true);
  check_quant_param(c, 7, 1, "y_zero_point", false);
}

// The element type a zero point input fixes for a quantized output (uint8 when absent).
DType zero_point_type(const Ctx& c, size_t i) {
  if (!c.has_in(i)) return DType::u8;
  return c.in(i).dtype;
}

void infer_quantize(const Ctx& c, bool quantize) {
  const auto& x = c.shape(0);
  const int64_t rank = static_cast<int64_t>(x.size());
  if (c.n.attrs.block_size != 0) c.fail("blocked quantization is not supported");
  int64_t channels = 1;
  const int64_t scale_count = element_count(c.shape(1));
  // One scale is per tensor whatever its rank, as ONNX Runtime reads it: its quantizer writes a
  // bias's per-tensor scale as a 1-element 1-D tensor with no axis.
  if (scale_count != 1) {
    const int64_t axis = c.axis(c.n.attrs.axis, std::max<int64_t>(rank, 1), "axis");
    c.n.attrs.axis = axis;
    channels = rank ? x[axis] : 1;
  }
  check_quant_param(c, 1, channels, "scale", true);
  check_quant_param(c, 2, channels, "zero point", false);
  if (quantize) {
    if (c.in(0).dtype != DType::f32) c.fail("input must be float32");
    DType out = zero_point_type(c, 2);
    const int64_t to = c.n.attrs.output_dtype;
    if (to == 3) out = DType::i8;
    if (to == 2) out = DType::u8;
    if (!is_8bit(out)) c.fail("only uint8 and int8 outputs are supported");
    c.set_out(0, x, out);
  } else {
    if (!is_quantized(c.in(0).dtype)) c.fail("input must be (u)int8 or int32");
    if (c.has_in(2) && c.in(2).dtype != c.in(0).dtype)
      c.fail("zero point type differs from the input's");
    c.set_out(0, x);
  }
}

// QLinearMatMul, MatMulInteger (A of any rank >= 2 times a 2-D B) and QGemm (2-D, transposes).
void infer_quantized_matmul(const Ctx& c, size_t a_i, size_t b_i, DType out) {
  const auto& a = c.shape(a_i);
  const auto& b = c.shape(b_i);
  if (!is_8bit(c.in(a_i).dtype) || !is_8bit(c.in(b_i).dtype)) c.fail("A and B must be (u)int8");
  const bool gemm = c.n.op == Op::QGemm;
  const bool ta = gemm && c.n.attrs.trans_a, tb = gemm && c.n.attrs.trans_b;
  if (a.size() < 2 || b.size() != 2 || (ta && a.size() != 2))
    c.fail("expects a 2-D B and " + std::string(ta ? "a 2-D A" : "A of rank >= 2") + "; got " +
           dims_text(a) + " x " + dims_text(b));
  const int64_t k = ta ? a[0] : a.back(), kb = tb ? b[1] : b[0], n = tb ? b[0] : b[1];
  if (k != kb) c.fail("inner dimensions differ: " + dims_text(a) + " x " + dims_text(b));
  auto shape = a;
  if (ta) shape[0] = a[1];
  shape.back() = n;
  c.set_out(0, shape, out);
}

void infer_quantized(const Ctx& c) {
  switch (c.n.op) {
    case Op::QLinearConv: {
      if (!is_8bit(c.in(0).dtype)) c.fail("x must be (u)int8");
      const DType out = zero_point_type(c, 7);
      if (!is_8bit(out)) c.fail("y_zero_point must be (u)int8");
      infer_conv(c, {.x = 0, .w = 3, .bias = 8, .quantized = true, .out = out});
      check_qlinear_params(c, {"x_scale", "x_zero_point", "w_scale", "w_zero_point"},
                           c.g.values[c.n.outputs[0]].shape[1]);
      return;
    }
    case Op::ConvInteger: {
      if (!is_8bit(c.in(0).dtype)) c.fail("x must be (u)int8");
      infer_conv(c, {.x = 0, .w = 1, .bias = -1, .quantized = true, .out = DType::i32});
      check_quant_param(c, 2, 1, "x_zero_point", false);
      check_quant_param(c, 3, c.g.values[c.n.outputs[0]].shape[1], "w_zero_point", false);
      return;
    }
    case Op::QLinearMatMul: {
      const DType out = zero_point_type(c, 7);
      if (!is_8bit(out)) c.fail("y_zero_point must be (u)int8");
      infer_quantized_matmul(c, 0, 3, out);
      check_qlinear_params(c, {"a_scale", "a_zero_point", "b_scale", "b_zero_point"},
                           c.g.values[c.n.outputs[0]].shape.back());
      return;
    }
    case Op::MatMulInteger: {
      infer_quantized_matmul(c, 0, 1, DType::i32);
      check_quant_param(c, 2, 1, "a_zero_point", false);
      check_quant_param(c, 3, c.g.values[c.n.outputs[0]].shape.back(), "b_zero_point", false);
      return;
    }
    case Op::QGemm: {
      const bool quantized_out = c.has_in(7);
      const DType out = quantized_out ? zero_point_type(c, 8) : DType::f32;
      if (quantized_out && !is_8bit(out)) c.fail("y_zero_point must be (u)int8");
      infer_quantized_matmul(c, 0, 3, out);
      const int64_t n = c.g.values[c.n.outputs[0]].shape.back();
      check_quant_param(c, 1, 1, "a_scale", true);
      check_quant_param(c, 2, 1, "a_zero_point", false);
      check_quant_param(c, 4, n, "b_scale", true);
      check_quant_param(c, 5, n, "b_zero_point", false);
      if (c.has_in(6)) {
        const Value& bias = c.in(6);
        const int64_t count = element_count(bias.shape);
        if (bias.dtype != DType::i32 || (count != 1 && count != n))
          c.fail("C must be int32 with 1 or " + std::to_string(n) + " values");
      }
      check_quant_param(c, 7, 1, "y_scale", true);
      check_quant_param(c, 8, 1, "y_zero_point", false);
      return;
    }
    case Op::DynamicQuantizeScale:
      if (c.in(0).dtype != DType::f32) c.fail("input must be float32");
      c.set_out(0, {}, DType::f32);
      return;
    case Op::DynamicQuantizeZeroPoint:
      if (c.in(0).dtype != DType::f32) c.fail("input must be float32");
      c.set_out(0, {}, DType::u8);
      return;
    default:
      return;
  }
}

// Every input of a float operator (Conv, Gemm, MatMul, BatchNormalization, Affine) is float32.
void require_float_inputs(const Ctx& c) {
  for (size_t i = 0; i < c.n.inputs.size(); ++i)
    if (c.n.inputs[i] >= 0 && c.g.values[c.n.inputs[i]].dtype != DType::f32)
      c.fail("input " + std::to_string(i) + " must be float32");
}

// A runtime input of an element-wise float operator is float32 (constants may be anything).
void require_float_input(const Ctx& c, size_t i) {
  if (c.in(i).dtype != DType::f32 && !c.in(i).is_const)
    c.fail("input " + std::to_string(i) + " must be float32");
}

}  // namespace

namespace shape_rules {

void conv(Graph& g, Node& n) {
  const Ctx c{g, n};
  require_float_inputs(c);
  infer_conv(c);
}

void gemm(Graph& g, Node& n) {
  const Ctx c{g, n};
  require_float_inputs(c);
  infer_gemm(c);
}

void matmul(Graph& g, Node& n) {
  const Ctx c{g, n};
  require_float_inputs(c);
  infer_matmul(c);
}

void binary(Graph& g, Node& n) {
  const Ctx c{g, n};
  const DType dt = c.in(0).dtype;
  if (c.in(1).dtype != dt) c.fail("inputs have different element types");
  if (dt == DType::i64 && !(c.in(0).is_const && c.in(1).is_const))
    c.fail("integer arithmetic on runtime data is not supported");
  auto out = broadcast(c, c.shape(0), c.shape(1));
  if (out.size() > 8) c.fail("more than 8 dimensions");
  c.set_out(0, out, dt);
}

void activation(Graph& g, Node& n) {
  const Ctx c{g, n};
  require_float_input(c, 0);
  c.set_out(0, c.shape(0));
}

void batchnorm(Graph& g, Node& n) {
  const Ctx c{g, n};
  require_float_inputs(c);
  infer_batchnorm(c);
}

void flatten(Graph& g, Node& n) {
  const Ctx c{g, n};
  const auto& x = c.shape(0);
  const int64_t rank = x.size();
  int64_t axis = n.attrs.axis;
  if (axis < -rank || axis > rank) c.fail("axis " + std::to_string(axis) + " out of range");
  if (axis < 0) axis += rank;
  n.attrs.axis = axis;
  int64_t a = 1, b = 1;
  for (int64_t i = 0; i < rank; ++i) (i < axis ? a : b) *= x[i];
  c.set_out(0, {a, b}, c.in(0).dtype);
}

void reshape(Graph& g, Node& n) {
  infer_reshape(Ctx{g, n});
}

void transpose(Graph& g, Node& n) {
  const Ctx c{g, n};
  require_float_input(c, 0);
  infer_transpose(c);
}

void concat(Graph& g, Node& n) {
  infer_concat(Ctx{g, n});
}

void identity(Graph& g, Node& n) {
  const Ctx c{g, n};
  c.set_out(0, c.shape(0), c.in(0).dtype);
}

void dropout(Graph& g, Node& n) {
  const Ctx c{g, n};
  if (n.outputs.size() > 1 && n.outputs[1] >= 0) {
    // The mask output: all true in inference; only constant folding could need it.
    c.fail("the mask output is not supported; export the model in eval mode");
  }
  if (c.has_in(2)) {
    const Value& t = c.in(2);
    if (!t.is_const || (t.dtype == DType::i64 && !t.i64.empty() && t.i64[0] != 0))
      c.fail("training_mode must be a constant false");
  }
  c.set_out(0, c.shape(0), c.in(0).dtype);
}

void cast(Graph& g, Node& n) {
  const Ctx c{g, n};
  const int64_t to = n.attrs.to;
  DType dt;
  switch (to) {
    // Every float type is held as float32 (see DType): float16 / bfloat16 models, as ONNX
    // Runtime's float16 converter writes them (Cast to float16 after the input, to float before
    // the output), compute in float32.
    case 1:   // FLOAT
    case 10:  // FLOAT16
    case 11:  // DOUBLE
    case 16:  // BFLOAT16
      dt = DType::f32;
      break;
    case 2:  // UINT8
      dt = DType::u8;
      break;
    case 3:  // INT8
      dt = DType::i8;
      break;
    case 6:  // INT32 (shape arithmetic: held as int64)
    case 7:  // INT64
      dt = DType::i64;
      break;
    default:
      c.fail("cast to type " + std::to_string(to) +
             " is not supported; pitlane casts between float32, float16, bfloat16, float64, "
             "(u)int8, int32 and int64");
  }
  // Quantized values are integer-valued floats already (see DType): casting them, or any float,
  // to a float type is a view. Casts to integers are folded on constants only.
  if (!c.in(0).is_const &&
      (dt != DType::f32 || !(c.in(0).dtype == DType::f32 || is_quantized(c.in(0).dtype))))
    c.fail("casts of runtime data to type " + std::to_string(to) +
           " are not supported; runtime data casts to float types only");
  c.set_out(0, c.shape(0), dt);
}

void shape(Graph& g, Node& n) {
  infer_shape_op(Ctx{g, n});
}

void gather(Graph& g, Node& n) {
  infer_gather(Ctx{g, n});
}

void unsqueeze(Graph& g, Node& n) {
  infer_unsqueeze(Ctx{g, n});
}

void squeeze(Graph& g, Node& n) {
  infer_squeeze(Ctx{g, n});
}

void affine(Graph& g, Node& n) {
  const Ctx c{g, n};
  require_float_inputs(c);
  c.set_out(0, c.shape(0));
}

void quantize(Graph& g, Node& n) {
  infer_quantize(Ctx{g, n}, true);
}

void dequantize(Graph& g, Node& n) {
  infer_quantize(Ctx{g, n}, false);
}

void quantized(Graph& g, Node& n) {
  infer_quantized(Ctx{g, n});
}

}  // namespace shape_rules

void infer_node(Graph& g, Node& n) {
  for (int id : n.inputs)
    if (id >= 0 && !g.values[id].has_shape)
      throw InputError(g.where(n) + ": input '" + g.values[id].name + "' has no known shape");
  spec_of(n.op).infer(g, n);
}

}  // namespace pitlane::onnx
