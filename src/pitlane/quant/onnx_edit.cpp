#include "pitlane/quant/onnx_edit.h"

#include <onnx/checker.h>
#include <onnx/shape_inference/implementation.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <set>

#include "pitlane/core/error.h"
#include "pitlane/core/files.h"

namespace pitlane::quant {

onnx::ModelProto load_model(const std::filesystem::path& path) {
  const std::string bytes = read_file(path);
  onnx::ModelProto m;
  if (bytes.empty() || !m.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())) ||
      !m.has_graph())
    throw InputError(path.string() + ": not a valid ONNX model (protobuf parse failed)");
  return m;
}

void check_model(const onnx::ModelProto& model, const std::string& source) {
  try {
    onnx::checker::check_model(model);
    // The full check: strict shape and type inference over a copy (ONNX's full_check).
    onnx::ModelProto copy = model;
    onnx::shape_inference::InferShapes(copy, onnx::OpSchemaRegistry::Instance(),
                                       onnx::ShapeInferenceOptions(true, 1, false));
  } catch (const std::exception& e) {
    std::string what = e.what();
    std::replace(what.begin(), what.end(), '\n', ' ');
    throw InputError(source + ": the ONNX checker rejects the model: " + what);
  }
}

void save_model(const onnx::ModelProto& model, const std::filesystem::path& path) {
  check_model(model, path.string());
  write_file_atomic(path, model.SerializeAsString());
}

const onnx::TensorProto* find_initializer(const onnx::GraphProto& g, const std::string& name) {
  for (const auto& t : g.initializer())
    if (t.name() == name) return &t;
  return nullptr;
}

void remove_initializer(onnx::GraphProto& g, const std::string& name) {
  auto* inits = g.mutable_initializer();
  for (int i = 0; i < inits->size(); ++i)
    if (inits->Get(i).name() == name) {
      inits->DeleteSubrange(i, 1);
      break;
    }
  auto* inputs = g.mutable_input();  // old exporters list initializers as inputs too
  for (int i = 0; i < inputs->size(); ++i)
    if (inputs->Get(i).name() == name) {
      inputs->DeleteSubrange(i, 1);
      break;
    }
}

int64_t element_count(const onnx::TensorProto& t) {
  int64_t n = 1;
  for (int64_t d : t.dims()) n *= d;
  return n;
}

std::vector<float> tensor_floats(const onnx::TensorProto& t) {
  const int64_t n = element_count(t);
  const std::string& raw = t.raw_data();
  std::vector<float> out;
  out.reserve(n);
  auto need = [&](size_t bytes) {
    if (!raw.empty() && raw.size() != bytes * n)
      throw InputError("tensor '" + t.name() + "' has " + std::to_string(raw.size()) +
                       " bytes of data for " + std::to_string(n) + " values; the file is corrupt");
  };
  switch (t.data_type()) {
    case onnx::TensorProto::FLOAT:
      need(4);
      if (!raw.empty()) {
        out.resize(n);
        std::memcpy(out.data(), raw.data(), 4 * n);
      } else {
        out.assign(t.float_data().begin(), t.float_data().end());
      }
      break;
    case onnx::TensorProto::DOUBLE:
      need(8);
      for (int64_t i = 0; i < n; ++i) {
        double d;
        if (!raw.empty())
          std::memcpy(&d, raw.data() + 8 * i, 8);
        else
          d = t.double_data(static_cast<int>(i));
        out.push_back(static_cast<float>(d));
      }
      break;
    case onnx::TensorProto::INT64:
      need(8);
      for (int64_t i = 0; i < n; ++i) {
        int64_t v;
        if (!raw.empty())
          std::memcpy(&v, raw.data() + 8 * i, 8);
        else
          v = t.int64_data(static_cast<int>(i));
        out.push_back(static_cast<float>(v));
      }
      break;
    case onnx::TensorProto::INT32:
      need(4);
      for (int64_t i = 0; i < n; ++i) {
        int32_t v;
        if (!raw.empty())
          std::memcpy(&v, raw.data() + 4 * i, 4);
        else
          v = t.int32_data(static_cast<int>(i));
        out.push_back(static_cast<float>(v));
      }
      break;
    case onnx::TensorProto::UINT8:
    case onnx::TensorProto::INT8:
      need(1);
      for (int64_t i = 0; i < n; ++i) {
        int32_t v = !raw.empty() ? (t.data_type() == onnx::TensorProto::UINT8
                                        ? static_cast<int32_t>(static_cast<uint8_t>(raw[i]))
                                        : static_cast<int32_t>(static_cast<int8_t>(raw[i])))
                                 : t.int32_data(static_cast<int>(i));
        out.push_back(static_cast<float>(v));
      }
      break;
    default:
      throw InputError("tensor '" + t.name() + "' has data type " + std::to_string(t.data_type()) +
                       ", which the recipes do not read");
  }
  if (static_cast<int64_t>(out.size()) != n)
    throw InputError("tensor '" + t.name() + "' holds the wrong number of values");
  return out;
}

onnx::TensorProto float_tensor(const std::string& name, const std::vector<int64_t>& dims,
                               const std::vector<float>& data) {
  onnx::TensorProto t;
  t.set_name(name);
  t.set_data_type(onnx::TensorProto::FLOAT);
  for (int64_t d : dims) t.add_dims(d);
  t.set_raw_data(std::string(reinterpret_cast<const char*>(data.data()), data.size() * 4));
  return t;
}

onnx::TensorProto int_tensor(const std::string& name, const std::vector<int64_t>& dims,
                             int data_type, const std::vector<int32_t>& data) {
  onnx::TensorProto t;
  t.set_name(name);
  t.set_data_type(data_type);
  for (int64_t d : dims) t.add_dims(d);
  std::string raw;
  raw.reserve(data.size() * (data_type == onnx::TensorProto::INT32 ? 4 : 1));
  for (int32_t v : data) {
    if (data_type == onnx::TensorProto::INT32)
      raw.append(reinterpret_cast<const char*>(&v), 4);
    else
      raw.push_back(static_cast<char>(v));
  }
  t.set_raw_data(raw);
  return t;
}

uint16_t float_to_bf16(float f) {
  uint32_t bits;
  std::memcpy(&bits, &f, 4);
  if (std::isnan(f)) return 0x7fc0;
  bits += 0x7fff + ((bits >> 16) & 1);  // round to nearest even
  return static_cast<uint16_t>(bits >> 16);
}

uint16_t float_to_half(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  const uint32_t sign = (x >> 16) & 0x8000;
  x &= 0x7fffffff;
  if (x >= 0x7f800000) return static_cast<uint16_t>(sign | (x > 0x7f800000 ? 0x7e00 : 0x7c00));
  if (x >= 0x477ff000) return static_cast<uint16_t>(sign | 0x7c00);  // overflow to infinity
  if (x < 0x38800000) {  // subnormal half (or zero): round |f| * 2^24 to an integer
    float a;
    std::memcpy(&a, &x, 4);
    return static_cast<uint16_t>(sign | static_cast<uint32_t>(std::nearbyint(a * 16777216.0f)));
  }
  const uint32_t mant = x & 0x7fffff;
  uint32_t h = ((x >> 23) - 112) << 10 | (mant >> 13);
  const uint32_t rest = mant & 0x1fff;
  if (rest > 0x1000 || (rest == 0x1000 && (h & 1))) ++h;  // round to nearest even
  return static_cast<uint16_t>(sign | h);
}

onnx::TensorProto half_tensor(const std::string& name, const std::vector<int64_t>& dims,
                              const std::vector<float>& data, bool bfloat16) {
  onnx::TensorProto t;
  t.set_name(name);
  t.set_data_type(bfloat16 ? onnx::TensorProto::BFLOAT16 : onnx::TensorProto::FLOAT16);
  for (int64_t d : dims) t.add_dims(d);
  std::string raw(data.size() * 2, '\0');
  for (size_t i = 0; i < data.size(); ++i) {
    const uint16_t h = bfloat16 ? float_to_bf16(data[i]) : float_to_half(data[i]);
    std::memcpy(raw.data() + 2 * i, &h, 2);
  }
  t.set_raw_data(raw);
  return t;
}

void add_initializer(onnx::GraphProto& g, onnx::TensorProto t) {
  *g.add_initializer() = std::move(t);
}

onnx::NodeProto make_node(const std::string& op, const std::vector<std::string>& inputs,
                          const std::vector<std::string>& outputs, const std::string& name) {
  onnx::NodeProto n;
  n.set_op_type(op);
  n.set_name(name);
  for (const auto& i : inputs) n.add_input(i);
  for (const auto& o : outputs) n.add_output(o);
  return n;
}

void set_attr_int(onnx::NodeProto& n, const std::string& name, int64_t value) {
  for (auto& a : *n.mutable_attribute())
    if (a.name() == name) {
      a.set_i(value);
      return;
    }
  auto* a = n.add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::INT);
  a->set_i(value);
}

int64_t attr_int(const onnx::NodeProto& n, const std::string& name, int64_t fallback) {
  for (const auto& a : n.attribute())
    if (a.name() == name) return a.i();
  return fallback;
}

float attr_float(const onnx::NodeProto& n, const std::string& name, float fallback) {
  for (const auto& a : n.attribute())
    if (a.name() == name) return a.f();
  return fallback;
}

std::vector<int64_t> attr_ints(const onnx::NodeProto& n, const std::string& name) {
  for (const auto& a : n.attribute())
    if (a.name() == name) return {a.ints().begin(), a.ints().end()};
  return {};
}

void insert_node(onnx::GraphProto& g, int index, onnx::NodeProto n) {
  auto* nodes = g.mutable_node();
  *nodes->Add() = std::move(n);
  for (int i = nodes->size() - 1; i > index; --i) nodes->SwapElements(i, i - 1);
}

void redirect_readers(onnx::GraphProto& g, const std::string& from, const std::string& to,
                      const std::vector<const onnx::NodeProto*>& except) {
  for (auto& n : *g.mutable_node()) {
    if (std::find(except.begin(), except.end(), &n) != except.end()) continue;
    for (auto& in : *n.mutable_input())
      if (in == from) in = to;
  }
}

int producer_of(const onnx::GraphProto& g, const std::string& value) {
  for (int i = 0; i < g.node_size(); ++i)
    for (const auto& o : g.node(i).output())
      if (o == value) return i;
  return -1;
}

std::vector<int> readers_of(const onnx::GraphProto& g, const std::string& value) {
  std::vector<int> r;
  for (int i = 0; i < g.node_size(); ++i)
    for (const auto& in : g.node(i).input())
      if (in == value) {
        r.push_back(i);
        break;
      }
  return r;
}

bool is_graph_output(const onnx::GraphProto& g, const std::string& value) {
  for (const auto& o : g.output())
    if (o.name() == value) return true;
  return false;
}

std::string unique_name(const onnx::GraphProto& g, const std::string& base) {
  std::set<std::string> used;
  for (const auto& t : g.initializer()) used.insert(t.name());
  for (const auto& i : g.input()) used.insert(i.name());
  for (const auto& n : g.node()) {
    used.insert(n.name());
    for (const auto& o : n.output()) used.insert(o);
  }
  if (!used.count(base)) return base;
  for (int i = 1;; ++i)
    if (!used.count(base + "_" + std::to_string(i))) return base + "_" + std::to_string(i);
}

std::map<std::string, std::string> metadata(const onnx::ModelProto& m) {
  std::map<std::string, std::string> out;
  for (const auto& p : m.metadata_props()) out[p.key()] = p.value();
  return out;
}

void set_metadata(onnx::ModelProto& m, const std::string& key, const std::string& value) {
  for (auto& p : *m.mutable_metadata_props())
    if (p.key() == key) {
      p.set_value(value);
      return;
    }
  auto* p = m.add_metadata_props();
  p->set_key(key);
  p->set_value(value);
}

int64_t opset(const onnx::ModelProto& m) {
  for (const auto& op : m.opset_import())
    if (op.domain().empty() || op.domain() == "ai.onnx") return op.version();
  return 0;
}

}  // namespace pitlane::quant
