// A libtorch interpreter for ONNX graphs of driving models: evaluates node by node with torch
// operators. Slow-path reference for offline evaluation until pitlane's runtime lands.
#include <torch/torch.h>

#include <map>

#include "pitlane/core/error.h"
#include "pitlane/eval/model_runner.h"

namespace pitlane::eval {
namespace {

torch::Tensor to_torch(const OnnxTensor& t) {
  std::vector<int64_t> dims(t.dims.begin(), t.dims.end());
  if (t.is_float()) {
    return torch::from_blob(const_cast<float*>(t.floats.data()), dims, torch::kFloat32).clone();
  }
  return torch::from_blob(const_cast<int64_t*>(t.ints.data()), dims, torch::kInt64).clone();
}

std::vector<int64_t> int_values(const torch::Tensor& t) {
  const torch::Tensor c = t.to(torch::kInt64).contiguous();
  return std::vector<int64_t>(c.data_ptr<int64_t>(), c.data_ptr<int64_t>() + c.numel());
}

int64_t norm_axis(int64_t axis, int64_t rank) {
  return axis < 0 ? axis + rank : axis;
}

class TorchRunner : public ModelRunner {
 public:
  TorchRunner(const OnnxGraph& graph, int threads)
      : nodes_(graph.nodes), source_(graph.source.string()), threads_(threads) {
    for (const auto& t : graph.initializers) constants_[t.name] = to_torch(t);
    input_name_ = graph.inputs.at(0).name;
    output_name_ = graph.outputs.at(0).name;
    static const char* supported[] = {"Conv",      "BatchNormalization",
                                      "Relu",      "LeakyRelu",
                                      "Elu",       "Sigmoid",
                                      "Tanh",      "Flatten",
                                      "Reshape",   "Gemm",
                                      "MatMul",    "Add",
                                      "Sub",       "Mul",
                                      "Div",       "Transpose",
                                      "Identity",  "Dropout",
                                      "Constant",  "Clip",
                                      "Shape",     "Gather",
                                      "Unsqueeze", "Squeeze",
                                      "Concat",    "Cast",
                                      "MaxPool",   "AveragePool"};
    for (const auto& n : nodes_) {
      bool ok = n.domain.empty() || n.domain == "ai.onnx";
      bool known = false;
      for (const char* s : supported) known |= n.op_type == s;
      if (!ok || !known) {
        throw InputError(source_ + ": node '" + n.name + "' uses operator " +
                         (n.domain.empty() ? "" : n.domain + ".") + n.op_type +
                         ", which pitlane eval's executor does not support; export the model " +
                         "with plain operators (Conv, BatchNormalization, Relu, Gemm, ...)");
      }
    }
  }

  void run(std::span<const float> input, int64_t batch, std::span<float> output) override {
    torch::NoGradGuard no_grad;
    at::set_num_threads(threads_);
    std::map<std::string, torch::Tensor> env = constants_;
    const int64_t per = static_cast<int64_t>(input.size()) / std::max<int64_t>(batch, 1);
    (void)per;
    env[input_name_] = torch::from_blob(const_cast<float*>(input.data()),
                                        {static_cast<int64_t>(input.size())}, torch::kFloat32);
    input_shape_fixup(env[input_name_], batch);
    for (const auto& n : nodes_) execute(n, env);
    const torch::Tensor out = env.at(output_name_).to(torch::kFloat32).contiguous();
    if (static_cast<size_t>(out.numel()) != output.size()) {
      throw InputError(source_ + ": output '" + output_name_ + "' has " +
                       std::to_string(out.numel()) + " values for a batch of " +
                       std::to_string(batch) + ", expected " + std::to_string(output.size()));
    }
    std::copy(out.data_ptr<float>(), out.data_ptr<float>() + out.numel(), output.begin());
  }

  void set_input_shape(std::vector<int64_t> chw) { chw_ = std::move(chw); }

 private:
  void input_shape_fixup(torch::Tensor& t, int64_t batch) {
    std::vector<int64_t> dims = {batch};
    dims.insert(dims.end(), chw_.begin(), chw_.end());
    t = t.view(dims);
  }

  [[noreturn]] void fail(const OnnxNode& n, const std::string& why) const {
    throw InputError(source_ + ": node '" + n.name + "' (" + n.op_type + "): " + why +
                     "; export the model with supported attributes");
  }

  const torch::Tensor& in(const OnnxNode& n, std::map<std::string, torch::Tensor>& env,
                          size_t i) const {
    if (i >= n.inputs.size() || n.inputs[i].empty()) fail(n, "missing input " + std::to_string(i));
    auto it = env.find(n.inputs[i]);
    if (it == env.end()) fail(n, "input '" + n.inputs[i] + "' is not computed before its use");
    return it->second;
  }
  bool has(const OnnxNode& n, size_t i) const {
    return i < n.inputs.size() && !n.inputs[i].empty();
  }

  void execute(const OnnxNode& n, std::map<std::string, torch::Tensor>& env) const {
    const std::string& op = n.op_type;
    torch::Tensor y;
    if (op == "Conv") {
      const torch::Tensor& x = in(n, env, 0);
      const torch::Tensor& w = in(n, env, 1);
      torch::Tensor b = has(n, 2) ? in(n, env, 2) : torch::Tensor();
      if (x.dim() != 4) fail(n, "only 2-D convolutions are supported");
      auto strides = n.attr_ints("strides", {1, 1});
      auto dil = n.attr_ints("dilations", {1, 1});
      auto pads = n.attr_ints("pads", {0, 0, 0, 0});
      const int64_t group = n.attr_int("group", 1);
      const std::string auto_pad = n.attr_string("auto_pad", "NOTSET");
      if (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") {
        for (int d = 0; d < 2; ++d) {
          const int64_t in_size = x.size(2 + d), k = (w.size(2 + d) - 1) * dil[d] + 1;
          const int64_t out = (in_size + strides[d] - 1) / strides[d];
          const int64_t total = std::max<int64_t>((out - 1) * strides[d] + k - in_size, 0);
          const int64_t small = total / 2, big = total - small;
          pads[d] = auto_pad == "SAME_UPPER" ? small : big;
          pads[d + 2] = auto_pad == "SAME_UPPER" ? big : small;
        }
      } else if (auto_pad != "NOTSET" && auto_pad != "VALID" && !auto_pad.empty()) {
        fail(n, "auto_pad " + auto_pad + " is not supported");
      } else if (auto_pad == "VALID") {
        pads = {0, 0, 0, 0};
      }
      if (strides.size() != 2 || dil.size() != 2 || pads.size() != 4) fail(n, "bad attributes");
      torch::Tensor xp = x;
      std::vector<int64_t> sym = {0, 0};
      if (pads[0] == pads[2] && pads[1] == pads[3]) {
        sym = {pads[0], pads[1]};
      } else {
        xp = torch::constant_pad_nd(x, {pads[1], pads[3], pads[0], pads[2]}, 0.0);
      }
      y = torch::conv2d(xp, w, b, strides, sym, dil, group);
    } else if (op == "BatchNormalization") {
      y = torch::batch_norm(in(n, env, 0), in(n, env, 1), in(n, env, 2), in(n, env, 3),
                            in(n, env, 4), false, 0.0, n.attr_float("epsilon", 1e-5f), false);
    } else if (op == "Relu") {
      y = torch::relu(in(n, env, 0));
    } else if (op == "LeakyRelu") {
      y = torch::leaky_relu(in(n, env, 0), n.attr_float("alpha", 0.01f));
    } else if (op == "Elu") {
      y = torch::elu(in(n, env, 0), n.attr_float("alpha", 1.0f));
    } else if (op == "Sigmoid") {
      y = torch::sigmoid(in(n, env, 0));
    } else if (op == "Tanh") {
      y = torch::tanh(in(n, env, 0));
    } else if (op == "Flatten") {
      const torch::Tensor& x = in(n, env, 0);
      const int64_t axis = norm_axis(n.attr_int("axis", 1), x.dim());
      int64_t outer = 1;
      for (int64_t d = 0; d < axis; ++d) outer *= x.size(d);
      y = x.reshape({outer, outer == 0 ? 0 : x.numel() / std::max<int64_t>(outer, 1)});
    } else if (op == "Reshape") {
      const torch::Tensor& x = in(n, env, 0);
      auto shape = int_values(in(n, env, 1));
      for (size_t d = 0; d < shape.size(); ++d) {
        if (shape[d] == 0 && n.attr_int("allowzero", 0) == 0) shape[d] = x.size(d);
      }
      y = x.reshape(shape);
    } else if (op == "Gemm") {
      torch::Tensor a = in(n, env, 0), b = in(n, env, 1);
      if (n.attr_int("transA", 0)) a = a.t();
      if (n.attr_int("transB", 0)) b = b.t();
      y = torch::matmul(a, b) * n.attr_float("alpha", 1.0f);
      if (has(n, 2)) y = y + in(n, env, 2) * n.attr_float("beta", 1.0f);
    } else if (op == "MatMul") {
      y = torch::matmul(in(n, env, 0), in(n, env, 1));
    } else if (op == "Add") {
      y = in(n, env, 0) + in(n, env, 1);
    } else if (op == "Sub") {
      y = in(n, env, 0) - in(n, env, 1);
    } else if (op == "Mul") {
      y = in(n, env, 0) * in(n, env, 1);
    } else if (op == "Div") {
      const torch::Tensor& a = in(n, env, 0);
      y = a.is_floating_point() ? a / in(n, env, 1) : torch::div(a, in(n, env, 1), "trunc");
    } else if (op == "Transpose") {
      const torch::Tensor& x = in(n, env, 0);
      std::vector<int64_t> perm;
      for (int64_t d = x.dim() - 1; d >= 0; --d) perm.push_back(d);
      y = x.permute(n.attr_ints("perm", perm));
    } else if (op == "Identity" || op == "Dropout") {
      y = in(n, env, 0);
    } else if (op == "Constant") {
      const auto* a = n.attribute("value");
      if (a && !a->tensors.empty()) {
        y = to_torch(a->tensors[0]);
      } else if (const auto* f = n.attribute("value_float")) {
        y = torch::tensor(f->f);
      } else if (const auto* i = n.attribute("value_int")) {
        y = torch::tensor(i->i, torch::kInt64);
      } else if (const auto* is = n.attribute("value_ints")) {
        y = torch::tensor(is->ints, torch::kInt64);
      } else if (const auto* fs = n.attribute("value_floats")) {
        y = torch::tensor(fs->floats);
      } else {
        fail(n, "no supported value attribute");
      }
    } else if (op == "Clip") {
      torch::Tensor x = in(n, env, 0);
      c10::optional<at::Scalar> lo, hi;
      if (has(n, 1)) lo = in(n, env, 1).item<double>();
      if (has(n, 2)) hi = in(n, env, 2).item<double>();
      if (const auto* a = n.attribute("min")) lo = a->f;
      if (const auto* a = n.attribute("max")) hi = a->f;
      y = torch::clamp(x, lo, hi);
    } else if (op == "Shape") {
      y = torch::tensor(in(n, env, 0).sizes().vec(), torch::kInt64);
    } else if (op == "Gather") {
      const torch::Tensor& x = in(n, env, 0);
      const torch::Tensor idx = in(n, env, 1).to(torch::kInt64);
      const int64_t axis = norm_axis(n.attr_int("axis", 0), x.dim());
      const torch::Tensor fixed = torch::where(idx < 0, idx + x.size(axis), idx);
      y = torch::index_select(x, axis, fixed.reshape({-1}));
      std::vector<int64_t> shape(x.sizes().begin(), x.sizes().begin() + axis);
      for (int64_t s : idx.sizes()) shape.push_back(s);
      for (int64_t d = axis + 1; d < x.dim(); ++d) shape.push_back(x.size(d));
      y = y.reshape(shape);
    } else if (op == "Unsqueeze" || op == "Squeeze") {
      torch::Tensor x = in(n, env, 0);
      std::vector<int64_t> axes = has(n, 1) ? int_values(in(n, env, 1)) : n.attr_ints("axes", {});
      if (op == "Unsqueeze") {
        const int64_t rank = x.dim() + static_cast<int64_t>(axes.size());
        for (auto& a : axes) a = norm_axis(a, rank);
        std::sort(axes.begin(), axes.end());
        for (int64_t a : axes) x = x.unsqueeze(a);
      } else if (axes.empty()) {
        x = x.squeeze();
      } else {
        for (auto& a : axes) a = norm_axis(a, x.dim());
        std::sort(axes.rbegin(), axes.rend());
        for (int64_t a : axes) x = x.squeeze(a);
      }
      y = x;
    } else if (op == "Concat") {
      std::vector<torch::Tensor> parts;
      for (size_t i = 0; i < n.inputs.size(); ++i) parts.push_back(in(n, env, i));
      y = torch::cat(parts, norm_axis(n.attr_int("axis", 0), parts.at(0).dim()));
    } else if (op == "Cast") {
      const int64_t to = n.attr_int("to", 1);
      if (to == 1 || to == 10 || to == 11) {
        y = in(n, env, 0).to(torch::kFloat32);
      } else if (to == 6 || to == 7) {
        y = in(n, env, 0).to(torch::kInt64);
      } else {
        fail(n, "cast to type " + std::to_string(to) + " is not supported");
      }
    } else if (op == "MaxPool" || op == "AveragePool") {
      const auto k = n.attr_ints("kernel_shape", {});
      const auto s = n.attr_ints("strides", {1, 1});
      auto pads = n.attr_ints("pads", {0, 0, 0, 0});
      if (k.size() != 2 || pads[0] != pads[2] || pads[1] != pads[3]) fail(n, "unsupported pads");
      y = op == "MaxPool" ? torch::max_pool2d(in(n, env, 0), k, s, {pads[0], pads[1]})
                          : torch::avg_pool2d(in(n, env, 0), k, s, {pads[0], pads[1]});
    } else {
      fail(n, "unsupported operator");
    }
    env[n.outputs.at(0)] = y;
  }

  std::vector<OnnxNode> nodes_;
  std::string source_;
  int threads_;
  std::map<std::string, torch::Tensor> constants_;
  std::string input_name_, output_name_;
  std::vector<int64_t> chw_;
};

}  // namespace

std::unique_ptr<ModelRunner> make_torch_runner(const OnnxGraph& graph, int threads) {
  auto runner = std::make_unique<TorchRunner>(graph, threads);
  std::vector<int64_t> chw(graph.inputs.at(0).dims.begin() + 1, graph.inputs.at(0).dims.end());
  runner->set_input_shape(chw);
  return runner;
}

}  // namespace pitlane::eval
