// oneDNN element-wise activations (those not fused into a Conv or Gemm), in the input's layout.
#include "pitlane/runtime/backends/onednn/builder.h"

namespace pitlane::runtime::onednn {

dnnl::algorithm eltwise_algorithm(Activation a) {
  switch (a) {
    case Activation::relu:
    case Activation::leaky_relu:
      return dnnl::algorithm::eltwise_relu;
    case Activation::elu:
      return dnnl::algorithm::eltwise_elu;
    case Activation::sigmoid:
      return dnnl::algorithm::eltwise_logistic;
    case Activation::tanh:
      return dnnl::algorithm::eltwise_tanh;
    case Activation::none:
      break;
  }
  return dnnl::algorithm::eltwise_linear;
}

bool add_eltwise(Builder& b, const Node& n) {
  FusedActivation act;
  switch (n.op) {
    case Op::Relu:
      act = {Activation::relu, 0.0f};
      break;
    case Op::LeakyRelu:
      act = {Activation::leaky_relu, n.attrs.alpha};
      break;
    case Op::Elu:
      act = {Activation::elu, n.attrs.alpha};
      break;
    case Op::Sigmoid:
      act = {Activation::sigmoid, 0.0f};
      break;
    case Op::Tanh:
      act = {Activation::tanh, 0.0f};
      break;
    default:
      return false;
  }
  const int src = b.value_buffer(n.inputs[0]);
  const memory::desc md = b.buffers[src].md;
  dnnl::eltwise_forward::primitive_desc pd;
  try {
    dnnl::eltwise_forward::desc d(dnnl::prop_kind::forward_inference, eltwise_algorithm(act.kind),
                                  md, act.alpha, 0.0f);
    pd = dnnl::eltwise_forward::primitive_desc(d, b.attr({}), b.engine);
  } catch (const dnnl::error&) {
    return false;
  }
  const int dst = b.new_buffer(pd.dst_desc());
  b.add_primitive(b.step_name(n), dnnl::eltwise_forward(pd), pd.scratchpad_desc(),
                  {{DNNL_ARG_SRC, src}, {DNNL_ARG_DST, dst}});
  b.native[n.outputs[0]] = dst;
  return true;
}

}  // namespace pitlane::runtime::onednn
