#include "pitlane/runtime/onnx_import.h"

#include <onnx/onnx_pb.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <unordered_map>

#include "pitlane/core/error.h"

namespace pitlane::runtime {
namespace {

constexpr int64_t kMinOpset = 11;
constexpr int64_t kMaxOpset = 21;
constexpr int64_t kMaxDim = int64_t{1} << 31;
constexpr int64_t kMaxConstElements = int64_t{1} << 28;  // 1 GiB of floats
constexpr size_t kMaxNodes = 1 << 20;

// One entry per supported operator: the importer, the passes and the error messages read it.
struct OpSpec {
  const char* name;
  Op op;
  int min_inputs, max_inputs;
  int max_outputs;
  const char* domain = "";  // "" = the default ONNX domain
};
constexpr OpSpec kOps[] = {
    {"Conv", Op::Conv, 2, 3, 1},
    {"Gemm", Op::Gemm, 2, 3, 1},
    {"MatMul", Op::MatMul, 2, 2, 1},
    {"Add", Op::Add, 2, 2, 1},
    {"Sub", Op::Sub, 2, 2, 1},
    {"Mul", Op::Mul, 2, 2, 1},
    {"Div", Op::Div, 2, 2, 1},
    {"Relu", Op::Relu, 1, 1, 1},
    {"LeakyRelu", Op::LeakyRelu, 1, 1, 1},
    {"Elu", Op::Elu, 1, 1, 1},
    {"Sigmoid", Op::Sigmoid, 1, 1, 1},
    {"Tanh", Op::Tanh, 1, 1, 1},
    {"BatchNormalization", Op::BatchNormalization, 5, 5, 3},
    {"Flatten", Op::Flatten, 1, 1, 1},
    {"Reshape", Op::Reshape, 2, 2, 1},
    {"Transpose", Op::Transpose, 1, 1, 1},
    {"Concat", Op::Concat, 1, 64, 1},
    {"Identity", Op::Identity, 1, 1, 1},
    {"Dropout", Op::Dropout, 1, 3, 2},
    {"Cast", Op::Cast, 1, 1, 1},
    {"Shape", Op::Shape, 1, 1, 1},
    {"Gather", Op::Gather, 2, 2, 1},
    {"Unsqueeze", Op::Unsqueeze, 1, 2, 1},
    {"Squeeze", Op::Squeeze, 1, 2, 1},
    {"QuantizeLinear", Op::QuantizeLinear, 2, 3, 1},
    {"DequantizeLinear", Op::DequantizeLinear, 2, 3, 1},
    {"QLinearConv", Op::QLinearConv, 8, 9, 1},
    {"QLinearMatMul", Op::QLinearMatMul, 8, 8, 1},
    {"ConvInteger", Op::ConvInteger, 2, 4, 1},
    {"MatMulInteger", Op::MatMulInteger, 2, 4, 1},
    {"QGemm", Op::QGemm, 6, 9, 1, "com.microsoft"},
};

std::string supported_list() {
  std::string s;
  for (const auto& spec : kOps) s += (s.empty() ? "" : ", ") + std::string(spec.name);
  return s + ", Constant, DynamicQuantizeLinear";
}

// Printable, bounded version of a name taken from the file.
std::string clean(const std::string& s) {
  std::string out;
  for (char c : s.substr(0, 80)) out += (c >= 32 && c < 127) ? c : '?';
  return s.size() > 80 ? out + "..." : out;
}

float bf16_to_float(uint16_t b) {
  const uint32_t bits = static_cast<uint32_t>(b) << 16;
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

float half_to_float(uint16_t h) {
  const uint32_t sign = (h >> 15) & 1, exp = (h >> 10) & 0x1f, mant = h & 0x3ff;
  float f;
  if (exp == 0)
    f = std::ldexp(static_cast<float>(mant), -24);  // zero and subnormals
  else if (exp == 31)
    f = mant ? std::numeric_limits<float>::quiet_NaN() : std::numeric_limits<float>::infinity();
  else
    f = std::ldexp(static_cast<float>(mant | 0x400), static_cast<int>(exp) - 25);
  return sign ? -f : f;
}

class Importer {
 public:
  explicit Importer(const std::string& source) { g_.source = source; }

  [[noreturn]] void fail(const std::string& what) const {
    throw InputError(g_.source + ": " + what);
  }

  Graph run(std::string_view bytes) {
    if (bytes.size() > kMaxModelBytes)
      fail("file is larger than 1 GiB; pitlane loads models with all tensors inside the file");
    onnx::ModelProto model;
    if (bytes.empty() || !model.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())))
      fail("not a valid ONNX model (protobuf parse failed); the file is truncated or not ONNX");
    if (!model.has_graph()) fail("the ONNX model has no graph; the file is not a model");
    read_opset(model);
    for (const auto& prop : model.metadata_props()) g_.metadata[prop.key()] = prop.value();
    const onnx::GraphProto& graph = model.graph();
    if (static_cast<size_t>(graph.node_size()) > kMaxNodes) fail("too many nodes");

    for (const auto& init : graph.initializer()) add_constant(init.name(), init, "initializer");
    for (const auto& input : graph.input()) {
      if (ids_.count(input.name())) continue;  // an initializer listed as an input (old exporters)
      const int id = new_value(input.name(), "graph input");
      read_input_type(input, g_.values[id]);
      g_.inputs.push_back(id);
    }
    if (g_.inputs.empty()) fail("the graph has no runtime input (all inputs are initializers)");
    read_nodes(graph);
    for (const auto& output : graph.output()) {
      auto it = ids_.find(output.name());
      if (it == ids_.end())
        fail("graph output '" + clean(output.name()) + "' is produced by no node");
      g_.outputs.push_back(it->second);
    }
    if (g_.outputs.empty()) fail("the graph has no outputs");
    return std::move(g_);
  }

 private:
  void read_opset(const onnx::ModelProto& model) {
    for (const auto& op : model.opset_import()) {
      if (op.domain().empty() || op.domain() == "ai.onnx") g_.opset = op.version();
    }
    if (g_.opset == 0)
      fail("the model imports no default-domain opset; re-export it with opset 11..21");
    if (g_.opset < kMinOpset || g_.opset > kMaxOpset)
      fail("opset " + std::to_string(g_.opset) + " is not supported; re-export with opset 11..21");
  }

  int new_value(const std::string& name, const char* what) {
    if (name.empty()) fail(std::string("a ") + what + " has an empty name");
    if (ids_.count(name)) fail(std::string(what) + " '" + clean(name) + "' is defined twice");
    const int id = static_cast<int>(g_.values.size());
    g_.values.push_back(Value{.name = name});
    ids_[name] = id;
    return id;
  }

  // Converts a TensorProto (initializer or Constant value) into constant data, bounds first.
  void fill_constant(const onnx::TensorProto& t, Value& v, const std::string& where) {
    if (t.data_location() == onnx::TensorProto::EXTERNAL || t.external_data_size() > 0)
      fail(where + " uses external data; save the model with all tensors inside the file");
    if (t.dims_size() > 8) fail(where + " has more than 8 dimensions");
    int64_t count = 1;
    v.shape.clear();
    for (int64_t d : t.dims()) {
      if (d < 0 || d > kMaxDim) fail(where + " has an invalid dimension " + std::to_string(d));
      count *= d;
      if (count > kMaxConstElements) fail(where + " is too large");
      v.shape.push_back(d);
    }
    v.has_shape = true;
    v.is_const = true;
    const std::string& raw = t.raw_data();
    auto check_count = [&](size_t have, const char* field) {
      if (have != static_cast<size_t>(count))
        fail(where + " holds " + std::to_string(have) + " " + field +
             " values but its shape needs " + std::to_string(count) + "; the file is corrupt");
    };
    switch (t.data_type()) {
      case onnx::TensorProto::FLOAT:
        v.dtype = DType::f32;
        if (!raw.empty() || t.float_data_size() == 0) {
          check_count(raw.size() / 4, "raw float");
          if (raw.size() % 4) fail(where + " raw data is not a whole number of floats");
          v.f32.resize(count);
          if (count) std::memcpy(v.f32.data(), raw.data(), count * 4);
        } else {
          check_count(t.float_data_size(), "float");
          v.f32.assign(t.float_data().begin(), t.float_data().end());
        }
        break;
      case onnx::TensorProto::DOUBLE:
        v.dtype = DType::f32;
        if (!raw.empty() || t.double_data_size() == 0) {
          check_count(raw.size() / 8, "raw double");
          if (raw.size() % 8) fail(where + " raw data is not a whole number of doubles");
          v.f32.resize(count);
          for (int64_t i = 0; i < count; ++i) {
            double d;
            std::memcpy(&d, raw.data() + 8 * i, 8);
            v.f32[i] = static_cast<float>(d);
          }
        } else {
          check_count(t.double_data_size(), "double");
          for (double d : t.double_data()) v.f32.push_back(static_cast<float>(d));
        }
        break;
      case onnx::TensorProto::INT64:
        v.dtype = DType::i64;
        if (!raw.empty() || t.int64_data_size() == 0) {
          check_count(raw.size() / 8, "raw int64");
          if (raw.size() % 8) fail(where + " raw data is not a whole number of int64s");
          v.i64.resize(count);
          if (count) std::memcpy(v.i64.data(), raw.data(), count * 8);
        } else {
          check_count(t.int64_data_size(), "int64");
          v.i64.assign(t.int64_data().begin(), t.int64_data().end());
        }
        break;
      case onnx::TensorProto::INT32:
        v.dtype = DType::i32;
        if (!raw.empty() || t.int32_data_size() == 0) {
          check_count(raw.size() / 4, "raw int32");
          if (raw.size() % 4) fail(where + " raw data is not a whole number of int32s");
          v.i64.resize(count);
          for (int64_t i = 0; i < count; ++i) {
            int32_t x;
            std::memcpy(&x, raw.data() + 4 * i, 4);
            v.i64[i] = x;
          }
        } else {
          check_count(t.int32_data_size(), "int32");
          v.i64.assign(t.int32_data().begin(), t.int32_data().end());
        }
        v.f32.assign(v.i64.begin(), v.i64.end());  // quantized kernels read the float storage
        break;
      case onnx::TensorProto::UINT8:
      case onnx::TensorProto::INT8: {
        const bool is_u8 = t.data_type() == onnx::TensorProto::UINT8;
        v.dtype = is_u8 ? DType::u8 : DType::i8;
        if (!raw.empty() || t.int32_data_size() == 0) {
          check_count(raw.size(), is_u8 ? "raw uint8" : "raw int8");
          v.f32.resize(count);
          for (int64_t i = 0; i < count; ++i)
            v.f32[i] = is_u8 ? static_cast<float>(static_cast<uint8_t>(raw[i]))
                             : static_cast<float>(static_cast<int8_t>(raw[i]));
        } else {
          check_count(t.int32_data_size(), is_u8 ? "uint8" : "int8");
          for (int32_t x : t.int32_data()) {
            if (x < (is_u8 ? 0 : -128) || x > (is_u8 ? 255 : 127))
              fail(where + " holds " + std::to_string(x) + ", out of its 8-bit range");
            v.f32.push_back(static_cast<float>(x));
          }
        }
        break;
      }
      case onnx::TensorProto::FLOAT16:
      case onnx::TensorProto::BFLOAT16: {
        // Half-precision weights (pitlane's float16 / bf16 recipes): widened to float32 here.
        const bool half = t.data_type() == onnx::TensorProto::FLOAT16;
        v.dtype = DType::f32;
        std::vector<uint16_t> bits;
        if (!raw.empty() || t.int32_data_size() == 0) {
          check_count(raw.size() / 2, "raw 16-bit float");
          if (raw.size() % 2) fail(where + " raw data is not a whole number of 16-bit floats");
          bits.resize(count);
          if (count) std::memcpy(bits.data(), raw.data(), count * 2);
        } else {
          check_count(t.int32_data_size(), "16-bit float");
          for (int32_t x : t.int32_data()) bits.push_back(static_cast<uint16_t>(x));
        }
        v.f32.resize(count);
        for (int64_t i = 0; i < count; ++i)
          v.f32[i] = half ? half_to_float(bits[i]) : bf16_to_float(bits[i]);
        break;
      }
      default:
        fail(where + " has data type " + std::to_string(t.data_type()) +
             ", not supported; pitlane's runtime reads float32/16, bfloat16, (u)int8, int32 "
             "and int64 tensors");
    }
  }

  int add_constant(const std::string& name, const onnx::TensorProto& t, const char* what) {
    const int id = new_value(name, what);
    fill_constant(t, g_.values[id], std::string(what) + " '" + clean(name) + "'");
    return id;
  }

  void read_input_type(const onnx::ValueInfoProto& info, Value& v) {
    const std::string where = "graph input '" + clean(info.name()) + "'";
    if (!info.has_type() || !info.type().has_tensor_type())
      fail(where + " is not a tensor; pitlane models take float32 tensors");
    const auto& tt = info.type().tensor_type();
    // (u)int8 inputs (int8-only models take uint8 pixels) arrive as integer-valued floats.
    if (tt.elem_type() == onnx::TensorProto::UINT8)
      v.dtype = DType::u8;
    else if (tt.elem_type() == onnx::TensorProto::INT8)
      v.dtype = DType::i8;
    else if (tt.elem_type() != onnx::TensorProto::FLOAT)
      fail(where + " has element type " + std::to_string(tt.elem_type()) +
           "; pitlane models take float32 or (u)int8 inputs");
    if (!tt.has_shape()) fail(where + " has no shape; export the model with input shapes");
    const auto& dims = tt.shape().dim();
    if (dims.size() < 1 || dims.size() > 6) fail(where + " must have 1 to 6 dimensions");
    for (int i = 0; i < dims.size(); ++i) {
      const auto& d = dims[i];
      const bool known = d.has_dim_value() && d.dim_value() > 0;
      if (known && d.dim_value() > kMaxDim) fail(where + " has an invalid dimension");
      if (!known && i != 0)
        fail(where + " has a dynamic dimension " + std::to_string(i) +
             "; only the batch (first) dimension may be dynamic");
      v.shape.push_back(known ? d.dim_value() : -1);
    }
    v.has_shape = true;
  }

  Attribute read_attribute(const onnx::AttributeProto& a, const std::string& where) {
    Attribute out;
    switch (a.type()) {
      case onnx::AttributeProto::INT:
        out.kind = Attribute::Kind::i;
        out.i = a.i();
        break;
      case onnx::AttributeProto::FLOAT:
        out.kind = Attribute::Kind::f;
        out.f = a.f();
        break;
      case onnx::AttributeProto::STRING:
        out.kind = Attribute::Kind::s;
        out.s = a.s();
        break;
      case onnx::AttributeProto::INTS:
        out.kind = Attribute::Kind::ints;
        if (a.ints_size() > 64) fail(where + ": attribute '" + clean(a.name()) + "' is too long");
        out.ints.assign(a.ints().begin(), a.ints().end());
        break;
      case onnx::AttributeProto::FLOATS:
        out.kind = Attribute::Kind::floats;
        if (a.floats_size() > 4096)
          fail(where + ": attribute '" + clean(a.name()) + "' is too long");
        out.floats.assign(a.floats().begin(), a.floats().end());
        break;
      default:
        fail(where + ": attribute '" + clean(a.name()) + "' has an unsupported type");
    }
    return out;
  }

  // Constant nodes become constant values directly.
  void read_constant_node(const onnx::NodeProto& n, const std::string& where) {
    if (n.output_size() != 1) fail(where + ": Constant must have exactly one output");
    const int id = new_value(n.output(0), "value");
    Value& v = g_.values[id];
    for (const auto& a : n.attribute()) {
      if (a.name() == "value" && a.type() == onnx::AttributeProto::TENSOR) {
        fill_constant(a.t(), v, where);
        return;
      }
      if (a.name() == "value_float") {
        v = Value{.name = v.name,
                  .dtype = DType::f32,
                  .has_shape = true,
                  .is_const = true,
                  .f32 = {a.f()}};
        return;
      }
      if (a.name() == "value_int") {
        v = Value{.name = v.name,
                  .dtype = DType::i64,
                  .has_shape = true,
                  .is_const = true,
                  .i64 = {a.i()}};
        return;
      }
      if (a.name() == "value_ints") {
        if (a.ints_size() > 4096) fail(where + ": value_ints too long");
        v = Value{.name = v.name,
                  .dtype = DType::i64,
                  .has_shape = true,
                  .shape = {a.ints_size()},
                  .is_const = true,
                  .i64 = {a.ints().begin(), a.ints().end()}};
        return;
      }
      if (a.name() == "value_floats") {
        if (a.floats_size() > 1 << 20) fail(where + ": value_floats too long");
        v = Value{.name = v.name,
                  .dtype = DType::f32,
                  .has_shape = true,
                  .shape = {a.floats_size()},
                  .is_const = true,
                  .f32 = {a.floats().begin(), a.floats().end()}};
        return;
      }
    }
    fail(where +
         ": Constant has no supported value attribute (value, value_float(s), value_int(s))");
  }

  void read_nodes(const onnx::GraphProto& graph) {
    // Nodes may come in any order in a hostile file: sort topologically (Kahn), reject cycles.
    const int n_nodes = graph.node_size();
    std::unordered_map<std::string, int> producer;
    for (int i = 0; i < n_nodes; ++i) {
      for (const auto& out : graph.node(i).output()) {
        if (out.empty()) continue;
        if (!producer.emplace(out, i).second || ids_.count(out))
          fail("value '" + clean(out) + "' is produced twice (node " + std::to_string(i) + ")");
      }
    }
    std::vector<int> pending(n_nodes, 0);
    std::vector<std::vector<int>> users(n_nodes);
    for (int i = 0; i < n_nodes; ++i) {
      for (const auto& in : graph.node(i).input()) {
        if (in.empty() || ids_.count(in)) continue;
        auto it = producer.find(in);
        if (it == producer.end())
          fail("node '" + clean(graph.node(i).name()) + "' (" + clean(graph.node(i).op_type()) +
               ") reads '" + clean(in) + "', which no node, input or initializer defines");
        ++pending[i];
        users[it->second].push_back(i);
      }
    }
    // Kahn's algorithm, always taking the lowest-numbered ready node: a file that is already
    // topologically sorted keeps its order; a cycle leaves nodes behind.
    std::vector<int> queue, sorted;
    sorted.reserve(n_nodes);
    for (int i = 0; i < n_nodes; ++i)
      if (pending[i] == 0) queue.push_back(i);
    std::make_heap(queue.begin(), queue.end(), std::greater<>());
    while (!queue.empty()) {
      std::pop_heap(queue.begin(), queue.end(), std::greater<>());
      const int i = queue.back();
      queue.pop_back();
      sorted.push_back(i);
      for (int u : users[i])
        if (--pending[u] == 0) {
          queue.push_back(u);
          std::push_heap(queue.begin(), queue.end(), std::greater<>());
        }
    }
    if (static_cast<int>(sorted.size()) != n_nodes) {
      for (int i = 0; i < n_nodes; ++i)
        if (pending[i] > 0)
          fail("the graph has a cycle through node '" + clean(graph.node(i).name()) + "' (" +
               clean(graph.node(i).op_type()) + "); ONNX graphs must be acyclic");
    }
    for (int index : sorted) read_node(graph.node(index), index);
  }

  void read_node(const onnx::NodeProto& n, int index) {
    const std::string name =
        n.name().empty() ? n.op_type() + "_" + std::to_string(index) : n.name();
    const std::string where = "node '" + clean(name) + "' (" + clean(n.op_type()) + ")";
    const std::string domain = n.domain() == "ai.onnx" ? "" : n.domain();
    if (!domain.empty() && domain != "com.microsoft")
      fail(where + ": operator domain '" + clean(n.domain()) +
           "' is not supported; pitlane runs default-domain operators and com.microsoft QGemm");
    if (domain.empty() && n.op_type() == "Constant") return read_constant_node(n, where);
    if (domain.empty() && n.op_type() == "DynamicQuantizeLinear")
      return read_dynamic_quantize(n, name, where);
    const OpSpec* spec = nullptr;
    for (const auto& s : kOps)
      if (n.op_type() == s.name && domain == s.domain) spec = &s;
    if (!spec)
      fail(where + ": operator '" + clean(n.op_type()) +
           "' is not supported; supported: " + supported_list());
    if (n.input_size() < spec->min_inputs || n.input_size() > spec->max_inputs)
      fail(where + ": has " + std::to_string(n.input_size()) + " inputs, expected " +
           std::to_string(spec->min_inputs) + ".." + std::to_string(spec->max_inputs));
    if (n.output_size() < 1 || n.output_size() > spec->max_outputs)
      fail(where + ": has " + std::to_string(n.output_size()) + " outputs, expected 1.." +
           std::to_string(spec->max_outputs));
    Node node{.op = spec->op, .name = name};
    for (int i = 0; i < n.input_size(); ++i) {
      const std::string& in = n.input(i);
      if (in.empty()) {
        if (i < spec->min_inputs)
          fail(where + ": required input " + std::to_string(i) + " is empty");
        node.inputs.push_back(-1);
        continue;
      }
      node.inputs.push_back(ids_.at(in));  // present: the topological sort checked it
    }
    for (const auto& out : n.output())
      node.outputs.push_back(out.empty() ? -1 : new_value(out, "value"));
    if (node.outputs[0] < 0) fail(where + ": the first output has no name");
    for (const auto& a : n.attribute()) {
      if (a.name().empty()) fail(where + ": an attribute has no name");
      node.attrs[a.name()] = read_attribute(a, where);
    }
    g_.nodes.push_back(std::move(node));
  }

  // DynamicQuantizeLinear(x) -> (y, scale, zero_point) becomes three single-output nodes:
  // DynamicQuantizeScale(x), DynamicQuantizeZeroPoint(x), QuantizeLinear(x, scale, zero_point).
  void read_dynamic_quantize(const onnx::NodeProto& n, const std::string& name,
                             const std::string& where) {
    if (n.input_size() != 1 || n.input(0).empty()) fail(where + ": needs exactly one input");
    if (n.output_size() != 3) fail(where + ": needs three outputs (y, y_scale, y_zero_point)");
    const int x = ids_.at(n.input(0));
    auto out = [&](int i) {
      return new_value(n.output(i).empty() ? name + "/output" + std::to_string(i) : n.output(i),
                       "value");
    };
    const int y = out(0), scale = out(1), zp = out(2);
    g_.nodes.push_back(Node{.op = Op::DynamicQuantizeScale,
                            .name = name + "/scale",
                            .inputs = {x},
                            .outputs = {scale}});
    g_.nodes.push_back(Node{.op = Op::DynamicQuantizeZeroPoint,
                            .name = name + "/zero_point",
                            .inputs = {x},
                            .outputs = {zp}});
    g_.nodes.push_back(
        Node{.op = Op::QuantizeLinear, .name = name, .inputs = {x, scale, zp}, .outputs = {y}});
  }

  Graph g_;
  std::unordered_map<std::string, int> ids_;
};

}  // namespace

Graph import_onnx(std::string_view bytes, const std::string& source) {
  return Importer(source).run(bytes);
}

}  // namespace pitlane::runtime
