// Internal to the oneDNN backend: the state shared by plan.cpp (buffers, steps, memory plan) and
// the per-operator files (conv.cpp, gemm.cpp, eltwise.cpp) that turn nodes into primitives.
//
// Tensors live in Buffers. A buffer has a oneDNN memory descriptor (its layout: plain nchw, or a
// blocked layout a primitive chose, like nChw8c) and a storage: the arena, a caller's input or
// output, or a constant. Views (reshapes) are alias buffers over the same storage. Everything is
// decided at load; run() binds the caller's pointers and executes the steps.
#pragma once

#include <oneapi/dnnl/dnnl.hpp>

#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "pitlane/runtime/backends/backend.h"
#include "pitlane/runtime/backends/reference/kernels.h"
#include "pitlane/runtime/large_buffer.h"

namespace pitlane::runtime::onednn {

using dnnl::memory;

struct Buffer {
  memory::desc md;
  enum Kind : uint8_t { arena, input, output, constant } kind = arena;
  size_t io_index = 0;        // input/output number
  int alias_of = -1;          // storage owner for views (-1: owns its storage)
  int first = -1, last = -1;  // steps that write it first and read it last (storage owners)
  memory constant_memory;     // kind constant: holds the data (possibly reordered weights)
  std::shared_ptr<const LargeBuffer> constant_storage;  // constant_memory's storage, when ours
  memory mem;                                           // created at finalize()
  float* ptr = nullptr;                                 // data pointer during run()
};

struct Step {
  std::string name;
  // A oneDNN primitive with its arguments (dnnl arg id -> buffer id) ...
  dnnl::primitive primitive;
  std::vector<std::pair<int, int>> args;
  memory::desc scratchpad_md;
  std::vector<dnnl_exec_arg_t> exec_args;  // built at finalize(), passed to the C API as is
  // ... or a reference kernel on plain buffers (for the small operators oneDNN does not own).
  bool is_reference = false;
  reference::RefKernel kernel;
  std::vector<int> ref_inputs;  // buffer ids (-1: optional input left out)
  int ref_output = -1;
  std::vector<const float*> ref_ptrs;  // scratch for run()
  // ... or one of pitlane's own Gemm kernels (kernels/sparse_gemm/f32.h,
  // kernels/zero_skip_gemm/f32.h and int8.h) on plain buffers: own_kernel(x, y, workspace), the
  // callable holding the kernel's packed weights. The pointers are the buffers' (float* whatever
  // their type: the int8 kernel reads and writes bytes through them).
  std::function<void(const float*, float*, float*)> own_kernel;
  size_t own_kernel_bytes = 0;                // its packed weights, as held
  int kernel_input = -1, kernel_output = -1;  // buffer ids
  float* workspace = nullptr;                 // the arena's scratchpad region (finalize())
};

class Builder {
 public:
  Builder(const Graph& g, const PlanOptions& options);

  const Graph& g;
  PlanOptions options;
  dnnl::engine engine{dnnl::engine::kind::cpu, 0};
  dnnl::stream stream{engine};
  memory::data_type compute_type = memory::data_type::f32;  // bf16 when options.bf16

  std::vector<Buffer> buffers;
  std::vector<Step> steps;
  std::vector<int> native;  // value id -> buffer holding it as its producer wrote it (-1: none yet)
  std::vector<int> plain_of;  // value id -> buffer holding it in plain f32 layout (-1: none yet)
  std::vector<int> root;      // value id -> value owning its data (through views)
  size_t max_scratchpad = 0;

  // Attributes every primitive is created with (user scratchpad, post-op activation).
  dnnl::primitive_attr attr(const FusedActivation& act) const;
  static memory::desc plain_md(const std::vector<int64_t>& shape,
                               memory::data_type dt = memory::data_type::f32);
  int new_buffer(const memory::desc& md);
  int storage(int buffer) const;
  void use(int buffer, int step);
  // The value as laid out by its producer (views: the plain buffer of their shape).
  int value_buffer(int value);
  // The value in plain f32 layout, reordering (one step, cached) if needed.
  int plain(int value);
  // `buffer` in layout `want`, reordering if needed.
  int as_md(int buffer, const memory::desc& want);
  // A constant in layout `want`, reordered at load from plain `data` with descriptor `from`.
  int constant(const memory::desc& from, const float* data, const memory::desc& want);
  // Adds a primitive step; args are (dnnl arg, buffer); the last arg pair is the destination.
  void add_primitive(const std::string& name, dnnl::primitive p, const memory::desc& scratchpad,
                     std::vector<std::pair<int, int>> args);
  void add_reference(const Node& n);
  // Adds a step of the backend's own kernels from plain buffer `input` to a new plain buffer of
  // `out_shape` and `out_type`; the kernel gets workspace_floats of the arena's scratchpad.
  int add_own_kernel(const std::string& name, std::function<void(const float*, float*, float*)> run,
                     size_t workspace_floats, size_t weight_bytes, int input,
                     const std::vector<int64_t>& out_shape,
                     memory::data_type out_type = memory::data_type::f32);
  std::string step_name(const Node& n) const;
};

// Per-operator builders (conv.cpp, gemm.cpp, eltwise.cpp). They return false when the node is
// not in the form their primitive handles; the plan then runs the reference kernel.
bool add_conv(Builder& b, const Node& n);
bool add_gemm(Builder& b, const Node& n);
bool add_eltwise(Builder& b, const Node& n);
// quant.cpp: int8 primitives for QLinearConv, QGemm, QuantizeLinear, ConvInteger, MatMulInteger.
bool add_quantized_conv(Builder& b, const Node& n);
bool add_quantized_gemm(Builder& b, const Node& n);
bool add_quantize(Builder& b, const Node& n);
bool add_integer_conv(Builder& b, const Node& n);    // ConvInteger (s32 output)
bool add_integer_matmul(Builder& b, const Node& n);  // MatMulInteger (s32 output)

dnnl::algorithm eltwise_algorithm(Activation a);

}  // namespace pitlane::runtime::onednn
