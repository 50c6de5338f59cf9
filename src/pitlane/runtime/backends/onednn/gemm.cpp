// oneDNN inner product for canonical Gemm (constant B as [N,K], bias [N]). When the Gemm reads a
// flattened 4-D tensor, the primitive reads the 4-D tensor in its blocked layout directly and the
// weights are reordered to match at load: no reorder of activations before the first dense layer.
// Batch <= 4 goes to the zero-skipping kernel (kernels/zero_skip_gemm/f32.h; pruned weights in its
// compressed runs); weights with many exact zeros (pruned models) at larger batches go to the
// sparse kernel (kernels/sparse_gemm/f32.h) where it pays.
#include <cmath>
#include <optional>

#include "pitlane/runtime/backends/onednn/builder.h"
#include "pitlane/runtime/kernels/sparse_gemm/f32.h"
#include "pitlane/runtime/kernels/zero_skip_gemm/f32.h"
#include "pitlane/runtime/passes/passes.h"

namespace pitlane::runtime::onednn {

namespace {

// The sparse kernel for a canonical fp32 Gemm, where the weight's zeros make it faster than the
// dense primitive (or where the options ask for it). Reads and writes plain buffers.
bool add_sparse_gemm(Builder& b, const Node& n, int64_t m, int64_t cols, int64_t k) {
  const SparseGemmMode mode = b.options.sparse;
  if (mode == SparseGemmMode::never || b.compute_type != memory::data_type::f32) return false;
  const Value& w = b.g.values[n.inputs[1]];
  const double zeros = kernels::zero_fraction(w.f32.data(), w.f32.size());
  if (mode == SparseGemmMode::automatic && !kernels::sparse_gemm_pays(cols, k, zeros, m))
    return false;
  const bool has_bias = n.inputs.size() > 2 && n.inputs[2] >= 0;
  const float* bias = has_bias ? b.g.values[n.inputs[2]].f32.data() : nullptr;
  auto gemm = std::make_shared<const kernels::SparseGemm>(
      kernels::make_sparse_gemm(w.f32.data(), cols, k, bias, n.activation, m, b.options.threads));
  const int src = b.plain(n.inputs[0]);
  std::string name = b.step_name(n);  // "fc1 (Gemm+relu)" -> "fc1 (Gemm+relu, sparse 80%)"
  name.pop_back();
  name += ", sparse " + std::to_string(static_cast<int>(std::lround(zeros * 100))) + "%)";
  const size_t workspace = gemm->workspace_floats, bytes = gemm->storage_bytes();
  const int dst = b.add_own_kernel(
      name,
      [gemm](const float* x, float* y, float* ws) { kernels::run_sparse_gemm(*gemm, x, y, ws); },
      workspace, bytes, src, {m, cols});
  b.native[n.outputs[0]] = b.plain_of[n.outputs[0]] = dst;
  return true;
}

// The zero-skipping kernel for a canonical Gemm at batch <= 4: it reads only the weights of
// nonzero inputs (ReLU outputs are about half zeros). Pruned weights (40% zeros or more) go in
// its compressed runs, which skip both kinds of zeros; SparseGemmMode::always keeps them for the
// sparse kernel, never keeps them dense. bf16 plans store the weights in bf16.
bool add_zero_skip_gemm(Builder& b, const Node& n, int64_t m, int64_t cols, int64_t k) {
  const SparseGemmMode mode = b.options.sparse;
  if (!b.options.skip_zero_inputs || mode == SparseGemmMode::always ||
      !kernels::zero_skip_gemm_pays(cols, k, m))
    return false;
  const Value& w = b.g.values[n.inputs[1]];
  const double zeros = kernels::zero_fraction(w.f32.data(), w.f32.size());
  const bool bf16 = b.compute_type == memory::data_type::bf16;
  const bool sparse =
      !bf16 && mode == SparseGemmMode::automatic && zeros >= kernels::kZeroSkipSparseRunsMinZeros;
  using kernels::ZeroSkipWeights;
  const ZeroSkipWeights format = bf16     ? ZeroSkipWeights::bf16
                                 : sparse ? ZeroSkipWeights::sparse
                                          : ZeroSkipWeights::dense;
  const bool has_bias = n.inputs.size() > 2 && n.inputs[2] >= 0;
  const float* bias = has_bias ? b.g.values[n.inputs[2]].f32.data() : nullptr;
  auto gemm = std::make_shared<const kernels::ZeroSkipGemm>(kernels::make_zero_skip_gemm(
      w.f32.data(), cols, k, bias, n.activation, m, b.options.threads, format));
  // "fc1 (Gemm+relu)" -> "fc1 (Gemm+relu, zero-skipping)" or "(Gemm+relu, sparse 80%, ...)"
  std::string name = b.step_name(n);
  name.pop_back();
  if (sparse)
    name += ", sparse " + std::to_string(static_cast<int>(std::lround(zeros * 100))) + "%";
  name += ", zero-skipping)";
  const size_t workspace = gemm->workspace_floats, bytes = gemm->storage_bytes();
  const int dst = b.add_own_kernel(
      name,
      [gemm](const float* x, float* y, float* ws) { kernels::run_zero_skip_gemm(*gemm, x, y, ws); },
      workspace, bytes, b.plain(n.inputs[0]), {m, cols});
  b.native[n.outputs[0]] = b.plain_of[n.outputs[0]] = dst;
  return true;
}

}  // namespace

bool add_gemm(Builder& b, const Node& n) {
  const Graph& g = b.g;
  if (n.op != Op::Gemm || n.inputs.size() < 2 || !g.values[n.inputs[1]].is_const ||
      n.attrs.trans_a || !n.attrs.trans_b || n.attrs.alpha != 1.0f || n.attrs.beta != 1.0f)
    return false;
  const bool has_bias = n.inputs.size() > 2 && n.inputs[2] >= 0;
  if (has_bias && (!g.values[n.inputs[2]].is_const || g.values[n.inputs[2]].shape.size() != 1))
    return false;
  const Value& w = g.values[n.inputs[1]];
  const auto& y = g.values[n.outputs[0]].shape;
  const int64_t m = y[0], cols = y[1], k = w.shape[1];
  if (add_zero_skip_gemm(b, n, m, cols, k) || add_sparse_gemm(b, n, m, cols, k)) return true;
  const auto dt = b.compute_type;
  const memory::desc bias_md({cols}, memory::data_type::f32, memory::format_tag::x);
  const memory::desc dst_md({m, cols}, dt, memory::format_tag::nc);

  // Prefer reading the 4-D tensor under a flatten as the producer laid it out.
  const int a = n.inputs[0];
  const int r = b.root[a];
  const auto& rs = g.values[r].shape;
  auto try_pd = [&](const memory::desc& src_md, const memory::desc& w_user)
      -> std::optional<dnnl::inner_product_forward::primitive_desc> {
    try {
      const memory::desc w_md(w_user.dims(), dt, memory::format_tag::any);
      dnnl::inner_product_forward::desc d(dnnl::prop_kind::forward_inference, src_md, w_md,
                                          has_bias ? bias_md : memory::desc(), dst_md);
      return dnnl::inner_product_forward::primitive_desc(d, b.attr(n.activation), b.engine);
    } catch (const dnnl::error&) {
      return std::nullopt;
    }
  };
  int src = -1;
  memory::desc w_user;
  std::optional<dnnl::inner_product_forward::primitive_desc> pd;
  if (r != a && rs.size() == 4 && rs[0] == m && rs[1] * rs[2] * rs[3] == k && b.native[r] >= 0) {
    const memory::desc& have = b.buffers[b.native[r]].md;
    w_user =
        memory::desc({cols, rs[1], rs[2], rs[3]}, memory::data_type::f32, memory::format_tag::oihw);
    // The producer's own layout first (weights follow it), else whatever the primitive prefers.
    if (have.data_type() == dt) pd = try_pd(have, w_user);
    if (!pd) pd = try_pd(memory::desc(have.dims(), dt, memory::format_tag::any), w_user);
    if (pd) src = b.as_md(b.native[r], pd->src_desc());
  }
  if (!pd) {
    w_user = memory::desc({cols, k}, memory::data_type::f32, memory::format_tag::oi);
    pd = try_pd(memory::desc({m, k}, dt, memory::format_tag::nc), w_user);
    if (!pd) return false;
    src = b.as_md(b.plain(a), pd->src_desc());
  }
  const int wb = b.constant(w_user, w.f32.data(), pd->weights_desc());
  std::vector<std::pair<int, int>> args = {{DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, wb}};
  if (has_bias)
    args.emplace_back(DNNL_ARG_BIAS,
                      b.constant(bias_md, g.values[n.inputs[2]].f32.data(), pd->bias_desc()));
  const int dst = b.new_buffer(pd->dst_desc());
  args.emplace_back(DNNL_ARG_DST, dst);
  b.add_primitive(b.step_name(n), dnnl::inner_product_forward(*pd), pd->scratchpad_desc(),
                  std::move(args));
  b.native[n.outputs[0]] = dst;
  return true;
}

}  // namespace pitlane::runtime::onednn
