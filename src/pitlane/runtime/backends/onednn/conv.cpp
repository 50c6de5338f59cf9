// oneDNN 2-D convolution: layouts chosen by the primitive (format_tag::any), weights reordered
// once at load, bias and activation fused.
#include "pitlane/runtime/backends/onednn/builder.h"

namespace pitlane::runtime::onednn {

bool add_conv(Builder& b, const Node& n) {
  const Graph& g = b.g;
  const auto& x = g.values[n.inputs[0]].shape;
  const Value& w = g.values[n.inputs[1]];
  const auto& y = g.values[n.outputs[0]].shape;
  const int64_t group = n.attrs.group;
  const auto pads = n.attrs.pads;
  const auto strides = n.attrs.strides;
  const auto dil = n.attrs.dilations;
  const bool has_bias = n.inputs.size() > 2 && n.inputs[2] >= 0;
  const auto any = memory::format_tag::any;
  const auto dt = b.compute_type;

  memory::dims wdims = {w.shape[0], w.shape[1], w.shape[2], w.shape[3]};
  memory::desc w_user(wdims, memory::data_type::f32, memory::format_tag::oihw);
  if (group > 1) {
    wdims = {group, w.shape[0] / group, w.shape[1], w.shape[2], w.shape[3]};
    w_user = memory::desc(wdims, memory::data_type::f32, memory::format_tag::goihw);
  }
  const memory::desc src_md({x[0], x[1], x[2], x[3]}, dt, any);
  const memory::desc w_md(wdims, dt, any);
  const memory::desc bias_md({y[1]}, memory::data_type::f32, memory::format_tag::x);
  const memory::desc dst_md({y[0], y[1], y[2], y[3]}, dt, any);
  dnnl::convolution_forward::primitive_desc pd;
  try {
    dnnl::convolution_forward::desc d(
        dnnl::prop_kind::forward_inference, dnnl::algorithm::convolution_direct, src_md, w_md,
        has_bias ? bias_md : memory::desc(), dst_md, {strides[0], strides[1]},
        {dil[0] - 1, dil[1] - 1}, {pads[0], pads[1]}, {pads[2], pads[3]});
    pd = dnnl::convolution_forward::primitive_desc(d, b.attr(n.activation), b.engine);
  } catch (const dnnl::error&) {
    return false;
  }
  const int src = b.as_md(b.value_buffer(n.inputs[0]), pd.src_desc());
  const int wb = b.constant(w_user, w.f32.data(), pd.weights_desc());
  std::vector<std::pair<int, int>> args = {{DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, wb}};
  if (has_bias)
    args.emplace_back(DNNL_ARG_BIAS,
                      b.constant(bias_md, g.values[n.inputs[2]].f32.data(), pd.bias_desc()));
  const int dst = b.new_buffer(pd.dst_desc());
  args.emplace_back(DNNL_ARG_DST, dst);
  b.add_primitive(b.step_name(n), dnnl::convolution_forward(pd), pd.scratchpad_desc(),
                  std::move(args));
  b.native[n.outputs[0]] = dst;
  return true;
}

}  // namespace pitlane::runtime::onednn
