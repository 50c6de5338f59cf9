#include "pitlane/onnx/import.h"

#include <onnx/onnx_pb.h>

#include <algorithm>
#include <unordered_map>

#include "pitlane/core/error.h"
#include "pitlane/core/files.h"
#include "pitlane/onnx/model_file.h"
#include "pitlane/onnx/operators.h"
#include "pitlane/onnx/tensor.h"

namespace pitlane::onnx {
namespace {

constexpr int64_t kMaxDim = int64_t{1} << 31;

class Importer {
 public:
  explicit Importer(const std::string& source) { g_.source = source; }

  [[noreturn]] void fail(const std::string& what) const {
    throw InputError(g_.source + ": " + what);
  }

  Graph run(const ::onnx::ModelProto& model) {
    if (!model.has_graph()) fail("the ONNX model has no graph; the file is not a model");
    read_opset(model);
    g_.metadata = metadata(model);
    const ::onnx::GraphProto& graph = model.graph();
    if (graph.node_size() > kMaxNodes) fail("too many nodes");

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
        fail("graph output '" + printable(output.name()) + "' is produced by no node");
      g_.outputs.push_back(it->second);
    }
    if (g_.outputs.empty()) fail("the graph has no outputs");
    return std::move(g_);
  }

 private:
  void read_opset(const ::onnx::ModelProto& model) {
    g_.opset = default_opset(model);
    if (g_.opset == 0)
      fail("the model imports no default-domain opset; re-export it with opset 11..21");
    if (g_.opset < kMinOpset || g_.opset > kMaxOpset)
      fail("opset " + std::to_string(g_.opset) + " is not supported; re-export with opset 11..21");
  }

  int new_value(const std::string& name, const char* what) {
    if (name.empty()) fail(std::string("a ") + what + " has an empty name");
    if (ids_.count(name)) fail(std::string(what) + " '" + printable(name) + "' is defined twice");
    const int id = static_cast<int>(g_.values.size());
    g_.values.push_back(Value{.name = name});
    ids_[name] = id;
    return id;
  }

  // A TensorProto (initializer or Constant value) as constant data, bounds first.
  void fill_constant(const ::onnx::TensorProto& t, Value& v, const std::string& where) {
    const std::string name = v.name;
    v = decode_tensor(t, g_.source + ": " + where);
    v.name = name;
  }

  int add_constant(const std::string& name, const ::onnx::TensorProto& t, const char* what) {
    const int id = new_value(name, what);
    fill_constant(t, g_.values[id], std::string(what) + " '" + printable(name) + "'");
    return id;
  }

  void read_input_type(const ::onnx::ValueInfoProto& info, Value& v) {
    const std::string where = "graph input '" + printable(info.name()) + "'";
    if (!info.has_type() || !info.type().has_tensor_type())
      fail(where + " is not a tensor; pitlane models take float32 tensors");
    const auto& tt = info.type().tensor_type();
    // (u)int8 inputs (int8-only models take uint8 pixels) arrive as integer-valued floats.
    if (tt.elem_type() == ::onnx::TensorProto::UINT8)
      v.dtype = DType::u8;
    else if (tt.elem_type() == ::onnx::TensorProto::INT8)
      v.dtype = DType::i8;
    else if (tt.elem_type() != ::onnx::TensorProto::FLOAT)
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

  // Every attribute has a name and a kind the table's readers know, within bounds; the typed
  // values are read by the operator's own reader.
  void check_attribute(const ::onnx::AttributeProto& a, const std::string& where) {
    if (a.name().empty()) fail(where + ": an attribute has no name");
    switch (a.type()) {
      case ::onnx::AttributeProto::INT:
      case ::onnx::AttributeProto::FLOAT:
      case ::onnx::AttributeProto::STRING:
        return;
      case ::onnx::AttributeProto::INTS:
        if (a.ints_size() > 64)
          fail(where + ": attribute '" + printable(a.name()) + "' is too long");
        return;
      case ::onnx::AttributeProto::FLOATS:
        if (a.floats_size() > 4096)
          fail(where + ": attribute '" + printable(a.name()) + "' is too long");
        return;
      default:
        fail(where + ": attribute '" + printable(a.name()) + "' has an unsupported type");
    }
  }

  // Constant nodes become constant values directly.
  void read_constant_node(const ::onnx::NodeProto& n, const std::string& where) {
    if (n.output_size() != 1) fail(where + ": Constant must have exactly one output");
    const int id = new_value(n.output(0), "value");
    Value& v = g_.values[id];
    for (const auto& a : n.attribute()) {
      if (a.name() == "value" && a.type() == ::onnx::AttributeProto::TENSOR) {
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

  void read_nodes(const ::onnx::GraphProto& graph) {
    // Nodes may come in any order in a hostile file: sort topologically (Kahn), reject cycles.
    const int n_nodes = graph.node_size();
    std::unordered_map<std::string, int> producer;
    for (int i = 0; i < n_nodes; ++i) {
      for (const auto& out : graph.node(i).output()) {
        if (out.empty()) continue;
        if (!producer.emplace(out, i).second || ids_.count(out))
          fail("value '" + printable(out) + "' is produced twice (node " + std::to_string(i) + ")");
      }
    }
    std::vector<int> pending(n_nodes, 0);
    std::vector<std::vector<int>> users(n_nodes);
    for (int i = 0; i < n_nodes; ++i) {
      for (const auto& in : graph.node(i).input()) {
        if (in.empty() || ids_.count(in)) continue;
        auto it = producer.find(in);
        if (it == producer.end())
          fail("node '" + printable(graph.node(i).name()) + "' (" +
               printable(graph.node(i).op_type()) + ") reads '" + printable(in) +
               "', which no node, input or initializer defines");
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
          fail("the graph has a cycle through node '" + printable(graph.node(i).name()) + "' (" +
               printable(graph.node(i).op_type()) + "); ONNX graphs must be acyclic");
    }
    for (int index : sorted) read_node(graph.node(index), index);
  }

  void read_node(const ::onnx::NodeProto& n, int index) {
    const std::string name =
        n.name().empty() ? n.op_type() + "_" + std::to_string(index) : n.name();
    const std::string where = "node '" + printable(name) + "' (" + printable(n.op_type()) + ")";
    const std::string domain = n.domain() == "ai.onnx" ? "" : n.domain();
    if (!domain.empty() && domain != "com.microsoft")
      fail(where + ": operator domain '" + printable(n.domain()) +
           "' is not supported; pitlane runs default-domain operators and com.microsoft QGemm");
    if (domain.empty() && n.op_type() == "Constant") return read_constant_node(n, where);
    if (domain.empty() && n.op_type() == "DynamicQuantizeLinear")
      return read_dynamic_quantize(n, name, where);
    const OpSpec* spec = find_operator(n.op_type(), domain);
    if (!spec)
      fail(where + ": operator '" + printable(n.op_type()) +
           "' is not supported; supported: " + supported_operators());
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
    for (const auto& a : n.attribute()) check_attribute(a, where);
    spec->read_attributes(AttributeReader(n, g_.source + ": " + where), node.attrs);
    g_.nodes.push_back(std::move(node));
  }

  // DynamicQuantizeLinear(x) -> (y, scale, zero_point) becomes three single-output nodes:
  // DynamicQuantizeScale(x), DynamicQuantizeZeroPoint(x), QuantizeLinear(x, scale, zero_point).
  void read_dynamic_quantize(const ::onnx::NodeProto& n, const std::string& name,
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

Graph import_model(const ::onnx::ModelProto& model, const std::string& source) {
  return Importer(source).run(model);
}

Graph import_model(std::string_view bytes, const std::string& source) {
  return import_model(parse_model(bytes, source), source);
}

Graph read_graph(const std::filesystem::path& path) {
  return import_model(read_file(path), path.string());
}

}  // namespace pitlane::onnx
