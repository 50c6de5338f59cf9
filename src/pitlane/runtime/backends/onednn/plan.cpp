// The oneDNN backend's plan: primitives created and weights reordered at load, one arena for
// activations and the shared scratchpad, run() = bind the caller's pointers + execute.
#include <omp.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <deque>

#include "pitlane/core/error.h"
#include "pitlane/runtime/backends/onednn/builder.h"
#include "pitlane/runtime/cpu_features.h"
#include "pitlane/runtime/passes/passes.h"
#include "pitlane/runtime/planner.h"

namespace pitlane::runtime::onednn {

Builder::Builder(const Graph& graph, const PlanOptions& opts) : g(graph), options(opts) {
  if (options.bf16) {
    if (!cpu_features().onednn_bf16)
      throw InputError(
          "bf16 needs a CPU with AVX-512 (avx512_core or newer); this CPU has none, use fp32");
    compute_type = memory::data_type::bf16;
  }
  native.assign(g.values.size(), -1);
  plain_of.assign(g.values.size(), -1);
  root.resize(g.values.size());
  for (size_t i = 0; i < root.size(); ++i) root[i] = static_cast<int>(i);
  for (const Node& n : g.nodes)
    if (is_view(n.op)) root[n.outputs[0]] = root[n.inputs[0]];
}

dnnl::primitive_attr Builder::attr(const FusedActivation& act) const {
  dnnl::primitive_attr a;
  a.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  if (act.kind != Activation::none) {
    dnnl::post_ops ops;
    ops.append_eltwise(1.0f, eltwise_algorithm(act.kind), act.alpha, 0.0f);
    a.set_post_ops(ops);
  }
  return a;
}

memory::desc Builder::plain_md(const std::vector<int64_t>& shape, memory::data_type dt) {
  memory::dims dims(shape.begin(), shape.end());
  if (dims.empty()) dims = {1};
  memory::dims strides(dims.size(), 1);
  for (size_t i = dims.size() - 1; i-- > 0;)
    strides[i] = strides[i + 1] * std::max<int64_t>(dims[i + 1], 1);
  return memory::desc(dims, dt, strides);
}

int Builder::new_buffer(const memory::desc& md) {
  buffers.push_back(Buffer{.md = md});
  return static_cast<int>(buffers.size()) - 1;
}

int Builder::storage(int buffer) const {
  return buffers[buffer].alias_of >= 0 ? buffers[buffer].alias_of : buffer;
}

void Builder::use(int buffer, int step) {
  Buffer& s = buffers[storage(buffer)];
  s.last = std::max(s.last, step);
}

int Builder::value_buffer(int value) {
  if (native[value] >= 0) return native[value];
  const Value& v = g.values[value];
  if (root[value] != value) return plain(value);
  if (v.is_const) {
    const int b = new_buffer(plain_md(v.shape));
    buffers[b].kind = Buffer::constant;
    buffers[b].constant_memory = memory(buffers[b].md, engine, const_cast<float*>(v.f32.data()));
    native[value] = plain_of[value] = b;
    return b;
  }
  for (size_t i = 0; i < g.inputs.size(); ++i)
    if (g.inputs[i] == value) {
      const int b = new_buffer(plain_md(v.shape));
      buffers[b].kind = Buffer::input;
      buffers[b].io_index = i;
      native[value] = plain_of[value] = b;
      return b;
    }
  throw RunError(g.source + ": internal error: value '" + v.name +
                 "' is read before it is computed");
}

int Builder::plain(int value) {
  if (plain_of[value] >= 0) return plain_of[value];
  const memory::desc want = plain_md(g.values[value].shape);
  if (root[value] != value) {
    const int base = plain(root[value]);
    const int b = new_buffer(want);
    buffers[b].alias_of = storage(base);
    return plain_of[value] = b;
  }
  return plain_of[value] = as_md(value_buffer(value), want);
}

int Builder::as_md(int buffer, const memory::desc& want) {
  if (buffers[buffer].md == want) return buffer;
  // Reuse an earlier reorder of the same buffer into the same layout.
  for (const Step& s : steps)
    if (!s.is_reference && s.args.size() == 2 && s.args[0].second == buffer &&
        buffers[s.args[1].second].md == want && s.name.ends_with("(reorder)"))
      return s.args[1].second;
  dnnl::primitive_attr a;
  a.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  // f32 -> u8/s8 (integer-valued floats, see DType): without scaling attributes oneDNN 2.6 picks
  // its slow RNN data reorder, and a scale of exactly 1 counts as none. The next float above 1
  // moves a value below 2^16 by less than 0.01, so rounding still gives it back exactly.
  const auto to = want.data_type();
  if (buffers[buffer].md.data_type() == memory::data_type::f32 &&
      (to == memory::data_type::u8 || to == memory::data_type::s8))
    a.set_output_scales(0, {std::nextafter(1.0f, 2.0f)});
  dnnl::reorder::primitive_desc pd(engine, buffers[buffer].md, engine, want, a);
  const int dst = new_buffer(want);
  add_primitive("layout (reorder)", dnnl::reorder(pd), pd.scratchpad_desc(),
                {{DNNL_ARG_FROM, buffer}, {DNNL_ARG_TO, dst}});
  return dst;
}

int Builder::constant(const memory::desc& from, const float* data, const memory::desc& want) {
  memory user(from, engine, const_cast<float*>(data));
  auto storage = std::make_shared<const LargeBuffer>(want.get_size());
  memory owned(want, engine, storage->data());
  dnnl::reorder(user, owned).execute(stream, user, owned);
  stream.wait();
  const int b = new_buffer(want);
  buffers[b].kind = Buffer::constant;
  buffers[b].constant_memory = owned;
  buffers[b].constant_storage = std::move(storage);
  return b;
}

void Builder::add_primitive(const std::string& name, dnnl::primitive p,
                            const memory::desc& scratchpad, std::vector<std::pair<int, int>> args) {
  const int s = static_cast<int>(steps.size());
  for (size_t i = 0; i + 1 < args.size(); ++i) use(args[i].second, s);
  Buffer& dst = buffers[storage(args.back().second)];
  if (dst.first < 0) dst.first = s;
  dst.last = std::max(dst.last, s);
  max_scratchpad = std::max(max_scratchpad, scratchpad.get_size());
  Step step{.name = name,
            .primitive = std::move(p),
            .args = std::move(args),
            .scratchpad_md = scratchpad};
  steps.push_back(std::move(step));
}

void Builder::add_reference(const Node& n) {
  Step step{.name = step_name(n) + " [reference]",
            .is_reference = true,
            .kernel = reference::prepare_kernel(g, n)};
  for (int id : n.inputs) step.ref_inputs.push_back(id >= 0 ? plain(id) : -1);
  const int s = static_cast<int>(steps.size());
  for (int b : step.ref_inputs)
    if (b >= 0) use(b, s);
  const int out = new_buffer(plain_md(g.values[n.outputs[0]].shape));
  buffers[out].first = buffers[out].last = s;
  step.ref_output = out;
  step.ref_ptrs.assign(std::max<size_t>(n.inputs.size(), 1), nullptr);
  steps.push_back(std::move(step));
  native[n.outputs[0]] = plain_of[n.outputs[0]] = out;
}

int Builder::add_own_kernel(const std::string& name,
                            std::function<void(const float*, float*, float*)> run,
                            size_t workspace_floats, size_t weight_bytes, int input,
                            const std::vector<int64_t>& out_shape, memory::data_type out_type) {
  const int s = static_cast<int>(steps.size());
  use(input, s);
  const int out = new_buffer(plain_md(out_shape, out_type));
  buffers[out].first = buffers[out].last = s;
  max_scratchpad = std::max(max_scratchpad, workspace_floats * sizeof(float));
  steps.push_back(Step{.name = name,
                       .own_kernel = std::move(run),
                       .own_kernel_bytes = weight_bytes,
                       .kernel_input = input,
                       .kernel_output = out});
  return out;
}

std::string Builder::step_name(const Node& n) const {
  std::string act;
  switch (n.activation.kind) {
    case Activation::none:
      break;
    case Activation::relu:
      act = "+relu";
      break;
    case Activation::leaky_relu:
      act = "+leaky_relu";
      break;
    case Activation::elu:
      act = "+elu";
      break;
    case Activation::sigmoid:
      act = "+sigmoid";
      break;
    case Activation::tanh:
      act = "+tanh";
      break;
  }
  return n.name + " (" + op_name(n.op) + act + ")";
}

namespace {

// Restores the caller's OpenMP thread count when a plan is done with its own.
class ThreadScope {
 public:
  explicit ThreadScope(int threads) : saved_(omp_get_max_threads()) {
    omp_set_num_threads(threads);
  }
  ~ThreadScope() { omp_set_num_threads(saved_); }
  ThreadScope(const ThreadScope&) = delete;
  ThreadScope& operator=(const ThreadScope&) = delete;

 private:
  int saved_;
};

struct FreeDeleter {
  void operator()(char* p) const { std::free(p); }
};

class OnednnPlan final : public Plan {
 public:
  OnednnPlan(const Graph& g, const PlanOptions& options) : graph_(g), threads_(options.threads) {
    ThreadScope threads(threads_);
    builder_ = std::make_unique<Builder>(graph_, options);
    Builder& b = *builder_;
    for (const Node& n : graph_.nodes) {
      if (is_view(n.op)) continue;
      bool done = false;
      if (n.op == Op::Conv)
        done = add_conv(b, n);
      else if (n.op == Op::Gemm)
        done = add_gemm(b, n);
      else if (n.op == Op::QLinearConv)
        done = add_quantized_conv(b, n);
      else if (n.op == Op::QGemm)
        done = add_quantized_gemm(b, n);
      else if (n.op == Op::QuantizeLinear)
        done = add_quantize(b, n);
      else if (n.op == Op::ConvInteger)
        done = add_integer_conv(b, n);
      else if (n.op == Op::MatMulInteger)
        done = add_integer_matmul(b, n);
      else if (n.op == Op::Relu || n.op == Op::LeakyRelu || n.op == Op::Elu ||
               n.op == Op::Sigmoid || n.op == Op::Tanh)
        done = add_eltwise(b, n);
      if (!done) b.add_reference(n);
    }
    bind_outputs();
    finalize();
  }

  void run(std::span<const float* const> inputs, std::span<float* const> outputs,
           std::span<double> step_us) override {
    ThreadScope threads(threads_);
    Builder& b = *builder_;
    for (const auto& [id, is_output, index] : io_) {
      float* p = is_output ? outputs[index] : const_cast<float*>(inputs[index]);
      b.buffers[id].ptr = p;
      b.buffers[id].mem.set_data_handle(p);
    }
    for (size_t s = 0; s < b.steps.size(); ++s) {
      const auto t0 = step_us.empty() ? std::chrono::steady_clock::time_point{}
                                      : std::chrono::steady_clock::now();
      Step& step = b.steps[s];
      if (step.own_kernel) {
        step.own_kernel(b.buffers[step.kernel_input].ptr, b.buffers[step.kernel_output].ptr,
                        step.workspace);
      } else if (step.is_reference) {
        for (size_t i = 0; i < step.ref_inputs.size(); ++i)
          step.ref_ptrs[i] = step.ref_inputs[i] >= 0 ? b.buffers[step.ref_inputs[i]].ptr : nullptr;
        reference::run_kernel(step.kernel, {step.ref_ptrs.data(), step.ref_inputs.size()},
                              b.buffers[step.ref_output].ptr);
      } else {
        // The C entry point with arguments prepared at load (the C++ wrapper builds a vector).
        const dnnl_status_t status =
            dnnl_primitive_execute(step.primitive.get(), b.stream.get(),
                                   static_cast<int>(step.exec_args.size()), step.exec_args.data());
        if (status != dnnl_success) throw RunError("oneDNN failed in step '" + step.name + "'");
      }
      if (!step_us.empty()) {
        b.stream.wait();
        step_us[s] =
            std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0)
                .count();
      }
    }
    b.stream.wait();
  }
  size_t num_steps() const override { return builder_->steps.size(); }
  const std::string& step_name(size_t i) const override { return builder_->steps[i].name; }
  size_t arena_bytes() const override { return arena_bytes_; }
  size_t constant_bytes() const override {
    size_t bytes = 0;
    for (const Buffer& buf : builder_->buffers)
      if (buf.kind == Buffer::constant && buf.alias_of < 0) bytes += buf.md.get_size();
    for (const Step& s : builder_->steps) bytes += s.own_kernel_bytes;
    return bytes;
  }

 private:
  // Graph outputs are written straight into the caller's buffers where their producer allows.
  void bind_outputs() {
    Builder& b = *builder_;
    std::vector<bool> claimed(b.buffers.size(), false);
    for (size_t o = 0; o < graph_.outputs.size(); ++o) {
      const int pb = b.plain(graph_.outputs[o]);
      const int s = b.storage(pb);
      Buffer& st = b.buffers[s];
      if (st.kind == Buffer::arena && st.first >= 0 && !claimed[s]) {
        st.kind = Buffer::output;
        st.io_index = o;
        claimed.resize(b.buffers.size(), false);
        claimed[s] = true;
        continue;
      }
      dnnl::primitive_attr a;
      a.set_scratchpad_mode(dnnl::scratchpad_mode::user);
      dnnl::reorder::primitive_desc pd(b.engine, b.buffers[pb].md, b.engine, b.buffers[pb].md, a);
      const int dst = b.new_buffer(b.buffers[pb].md);
      b.buffers[dst].kind = Buffer::output;
      b.buffers[dst].io_index = o;
      claimed.resize(b.buffers.size(), false);
      claimed[dst] = true;
      b.add_primitive(graph_.values[graph_.outputs[o]].name + " (copy)", dnnl::reorder(pd),
                      pd.scratchpad_desc(), {{DNNL_ARG_FROM, pb}, {DNNL_ARG_TO, dst}});
    }
  }

  void finalize() {
    Builder& b = *builder_;
    std::vector<BufferLifetime> lifetimes;
    std::vector<int> owners;
    for (size_t i = 0; i < b.buffers.size(); ++i) {
      const Buffer& buf = b.buffers[i];
      if (buf.kind != Buffer::arena || buf.alias_of >= 0 || buf.first < 0) continue;
      lifetimes.push_back({buf.md.get_size(), buf.first, std::max(buf.first, buf.last)});
      owners.push_back(static_cast<int>(i));
    }
    const ArenaPlan plan = plan_arena(lifetimes);
    arena_bytes_ = plan.total_bytes + b.max_scratchpad;
    arena_.reset(static_cast<char*>(std::aligned_alloc(
        kArenaAlignment, (arena_bytes_ + kArenaAlignment) / kArenaAlignment * kArenaAlignment)));
    if (!arena_)
      throw RunError("out of memory for a " + std::to_string(arena_bytes_) + "-byte arena");
    std::memset(arena_.get(), 0, arena_bytes_);
    for (size_t k = 0; k < owners.size(); ++k)
      b.buffers[owners[k]].ptr = reinterpret_cast<float*>(arena_.get() + plan.offsets[k]);
    char* scratch = arena_.get() + plan.total_bytes;
    for (size_t i = 0; i < b.buffers.size(); ++i) {
      Buffer& buf = b.buffers[i];
      const Buffer& owner = b.buffers[b.storage(static_cast<int>(i))];
      if (buf.kind == Buffer::constant) {
        buf.mem = buf.constant_memory;
        buf.ptr = static_cast<float*>(buf.mem.get_data_handle());
        continue;
      }
      if (buf.alias_of >= 0) buf.ptr = owner.ptr;
      if (owner.kind == Buffer::input || owner.kind == Buffer::output) {
        io_.push_back({static_cast<int>(i), owner.kind == Buffer::output, owner.io_index});
        buf.ptr = nullptr;
      }
      if (owner.kind == Buffer::constant) buf.ptr = owner.ptr;
      buf.mem = memory(buf.md, b.engine, buf.ptr ? static_cast<void*>(buf.ptr) : DNNL_MEMORY_NONE);
    }
    for (Step& s : b.steps) {
      if (s.own_kernel) s.workspace = reinterpret_cast<float*>(scratch);
      if (s.is_reference || s.own_kernel) continue;
      for (const auto& [arg, id] : s.args) s.exec_args.push_back({arg, b.buffers[id].mem.get()});
      if (s.scratchpad_md.get_size() > 0) {
        scratch_memories_.emplace_back(s.scratchpad_md, b.engine, scratch);
        s.exec_args.push_back({DNNL_ARG_SCRATCHPAD, scratch_memories_.back().get()});
      }
    }
  }

  struct IoBinding {
    int buffer;
    bool is_output;
    size_t index;
  };
  const Graph& graph_;
  int threads_;
  std::unique_ptr<Builder> builder_;
  std::unique_ptr<char, FreeDeleter> arena_;
  size_t arena_bytes_ = 0;
  std::vector<IoBinding> io_;
  std::deque<memory> scratch_memories_;  // views of the arena's scratchpad, one per step
};

}  // namespace
}  // namespace pitlane::runtime::onednn

namespace pitlane::runtime {

std::unique_ptr<Plan> make_onednn_plan(const Graph& g, const PlanOptions& options) {
  try {
    return std::make_unique<onednn::OnednnPlan>(g, options);
  } catch (const dnnl::error& e) {
    throw RunError(g.source + ": oneDNN could not build the plan: " + e.what());
  }
}

}  // namespace pitlane::runtime
