// instantiate(): concrete shapes and constant folding, node by node in topological order.
#include <cmath>
#include <cstring>

#include "pitlane/core/error.h"
#include "pitlane/onnx/shapes.h"
#include "pitlane/runtime/backends/reference/kernels.h"
#include "pitlane/runtime/passes/passes.h"

namespace pitlane::runtime {
namespace {

constexpr int64_t kMaxFoldElements = int64_t{1} << 26;
constexpr double kMaxFoldMacs = 2e8;

template <typename T>
void gather(const std::vector<T>& data, const std::vector<int64_t>& shape, int64_t axis,
            const std::vector<int64_t>& indices, std::vector<T>& out) {
  int64_t outer = 1, inner = 1;
  for (int64_t i = 0; i < axis; ++i) outer *= shape[i];
  for (size_t i = axis + 1; i < shape.size(); ++i) inner *= shape[i];
  const int64_t dim = shape[axis];
  out.clear();
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t idx : indices) {
      const int64_t k = idx < 0 ? idx + dim : idx;
      const auto* src = data.data() + (o * dim + k) * inner;
      out.insert(out.end(), src, src + inner);
    }
}

template <typename T>
void concat(const Graph& g, const Node& n, std::vector<T> Value::*field, std::vector<T>& out) {
  const Value& first = g.values[n.inputs[0]];
  const int64_t axis = n.attrs.axis;
  int64_t outer = 1;
  for (int64_t i = 0; i < axis; ++i) outer *= first.shape[i];
  out.clear();
  for (int64_t o = 0; o < outer; ++o)
    for (int id : n.inputs) {
      const Value& v = g.values[id];
      int64_t chunk = 1;
      for (size_t i = axis; i < v.shape.size(); ++i) chunk *= v.shape[i];
      const auto& data = v.*field;
      out.insert(out.end(), data.begin() + o * chunk, data.begin() + (o + 1) * chunk);
    }
}

double fold_cost(const Graph& g, const Node& n) {
  const Value& out = g.values[n.outputs[0]];
  const double count = static_cast<double>(element_count(out.shape));
  if (n.op == Op::Conv) {
    const auto& w = g.values[n.inputs[1]].shape;
    return count * static_cast<double>(w[1] * w[2] * w[3]);
  }
  if (n.op == Op::Gemm || n.op == Op::MatMul) {
    const auto& a = g.values[n.inputs[0]].shape;
    return count * static_cast<double>(a.back() > a.front() ? a.back() : a.front());
  }
  return count;
}

// Refuses a constant too large to hold or too expensive to compute at load.
void check_fold_size(const Graph& g, const Node& n) {
  if (element_count(g.values[n.outputs[0]].shape) > kMaxFoldElements)
    throw InputError(g.where(n) + ": constant result is too large to fold");
  if (fold_cost(g, n) > kMaxFoldMacs)
    throw InputError(g.where(n) + ": constant subgraph is too expensive to fold");
}

// f32 and the quantized types keep their values in the float storage (see DType).
bool float_storage(DType t) {
  return t != DType::i64;
}

// src's values into result (Reshape, Cast and the other copies), converted between the float
// and the integer storage as result's type needs (i32 keeps both).
void copy_values(const Value& src, Value& result) {
  if (float_storage(result.dtype)) {
    if (float_storage(src.dtype))
      result.f32 = src.f32;
    else
      result.f32.assign(src.i64.begin(), src.i64.end());
    // A float cast to an 8-bit type drops its fraction (toward zero) and wraps like C++ does.
    if (result.dtype == DType::u8 || result.dtype == DType::i8) {
      for (float& f : result.f32) {
        const auto whole = static_cast<int64_t>(std::trunc(f));
        f = result.dtype == DType::u8 ? static_cast<float>(static_cast<uint8_t>(whole))
                                      : static_cast<float>(static_cast<int8_t>(whole));
      }
    }
  }
  if (!float_storage(result.dtype) || result.dtype == DType::i32) {
    if (!src.i64.empty())
      result.i64 = src.i64;
    else
      for (float f : src.f32) result.i64.push_back(static_cast<int64_t>(f));
  }
}

// a op b for Add, Sub, Mul and Div (C++ division, which truncates toward zero).
int64_t integer_binary(const Graph& g, const Node& n, int64_t a, int64_t b) {
  switch (n.op) {
    case Op::Add:
      return a + b;
    case Op::Sub:
      return a - b;
    case Op::Mul:
      return a * b;
    default:
      if (b == 0) throw InputError(g.where(n) + ": integer division by zero");
      return a / b;
  }
}

// Integer arithmetic on shapes: Add/Sub/Mul/Div of int64 tensors with broadcasting.
void fold_integer_binary(const Graph& g, const Node& n, Value& result) {
  const Value& a = g.values[n.inputs[0]];
  const Value& b = g.values[n.inputs[1]];
  const auto sa = reference::broadcast_strides(a.shape, result.shape);
  const auto sb = reference::broadcast_strides(b.shape, result.shape);
  const int64_t count = element_count(result.shape);
  result.i64.resize(count);
  for (int64_t o = 0; o < count; ++o) {
    int64_t rem = o, ia = 0, ib = 0;
    for (size_t d = result.shape.size(); d-- > 0;) {
      const int64_t k = rem % result.shape[d];
      rem /= result.shape[d];
      ia += k * sa[d];
      ib += k * sb[d];
    }
    result.i64[o] = integer_binary(g, n, a.i64[ia], b.i64[ib]);
  }
}

// Any other operator on float storage: the reference kernel computes it from the constants.
void fold_with_reference(const Graph& g, const Node& n, Value& result) {
  const reference::RefKernel k = reference::prepare_kernel(g, n);
  std::vector<const float*> ptrs;
  for (int id : n.inputs) ptrs.push_back(id >= 0 ? g.values[id].f32.data() : nullptr);
  result.f32.resize(element_count(result.shape));
  reference::run_kernel(k, ptrs, result.f32.data());
  if (result.dtype == DType::i32) result.i64.assign(result.f32.begin(), result.f32.end());
}

}  // namespace

bool is_view(Op op) {
  return op == Op::Reshape;
}

Links::Links(const Graph& g) {
  grow(g);
  for (int id : g.outputs) ++graph_outputs_[id];
  for (size_t i = 0; i < g.nodes.size(); ++i) attach(g, static_cast<int>(i));
}

void Links::grow(const Graph& g) {
  producer_.resize(g.values.size(), -1);
  readers_.resize(g.values.size(), 0);
  sum_.resize(g.values.size(), 0);
  graph_outputs_.resize(g.values.size(), 0);
}

void Links::detach(const Graph& g, int node) {
  const Node& n = g.nodes[node];
  for (int id : n.inputs)
    if (id >= 0) --readers_[id], sum_[id] -= node;
  for (int id : n.outputs)
    if (id >= 0 && producer_[id] == node) producer_[id] = -1;
}

void Links::attach(const Graph& g, int node) {
  const Node& n = g.nodes[node];
  for (int id : n.inputs)
    if (id >= 0) ++readers_[id], sum_[id] += node;
  for (int id : n.outputs)
    if (id >= 0) producer_[id] = node;
}

std::vector<int> use_counts(const Graph& g) {
  std::vector<int> uses(g.values.size(), 0);
  for (const Node& n : g.nodes)
    for (int id : n.inputs)
      if (id >= 0) ++uses[id];
  for (int id : g.outputs) ++uses[id];
  return uses;
}

void fold_node(Graph& g, const Node& n) {
  check_fold_size(g, n);
  auto in = [&](size_t i) -> const Value& { return g.values[n.inputs[i]]; };
  Value result = g.values[n.outputs[0]];
  result.is_const = true;
  switch (n.op) {
    case Op::Shape: {
      const auto& s = in(0).shape;
      result.i64.assign(s.begin() + n.attrs.start, s.begin() + n.attrs.end);
      break;
    }
    case Op::Gather:
      if (in(0).dtype == DType::i64)
        gather(in(0).i64, in(0).shape, n.attrs.axis, in(1).i64, result.i64);
      else
        gather(in(0).f32, in(0).shape, n.attrs.axis, in(1).i64, result.f32);
      break;
    case Op::Unsqueeze:
    case Op::Squeeze:
    case Op::Reshape:
    case Op::Flatten:
    case Op::Identity:
    case Op::Dropout:
    case Op::Cast:
      copy_values(in(0), result);
      break;
    case Op::Concat:
      if (result.dtype == DType::i64)
        concat(g, n, &Value::i64, result.i64);
      else
        concat(g, n, &Value::f32, result.f32);
      break;
    default:
      if (result.dtype == DType::i64)
        fold_integer_binary(g, n, result);
      else
        fold_with_reference(g, n, result);
  }
  g.values[n.outputs[0]] = std::move(result);
}

Graph instantiate(const Graph& symbolic, int64_t batch) {
  if (batch < 1 || batch > (1 << 20))
    throw InputError("batch size " + std::to_string(batch) + " is out of range");
  Graph g = symbolic;
  fuse_quantized(g);
  for (int id : g.inputs) {
    Value& v = g.values[id];
    if (v.shape[0] == -1) {
      v.shape[0] = batch;
    } else if (v.shape[0] != batch) {
      throw InputError(g.source + ": input '" + v.name + "' has a fixed batch of " +
                       std::to_string(v.shape[0]) + "; run it with batch " +
                       std::to_string(v.shape[0]) + " or re-export with a dynamic batch");
    }
    if (element_count(v.shape) > (int64_t{1} << 28))
      throw InputError(g.source + ": input '" + v.name + "' is too large");
  }
  for (Node& n : g.nodes) {
    onnx::infer_node(g, n);
    bool all_const = true;
    for (int id : n.inputs)
      if (id >= 0 && !g.values[id].is_const) all_const = false;
    if (all_const || n.op == Op::Shape) fold_node(g, n);
  }
  for (int id : g.outputs)
    if (!g.values[id].has_shape)
      throw InputError(g.source + ": output '" + g.values[id].name + "' has no shape");
  return g;
}

}  // namespace pitlane::runtime
