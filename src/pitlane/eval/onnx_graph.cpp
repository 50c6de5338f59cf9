#include "pitlane/eval/onnx_graph.h"

#include <onnx/onnx_pb.h>

#include <cstring>

#include "pitlane/core/error.h"
#include "pitlane/core/files.h"

namespace fs = std::filesystem;

namespace pitlane::eval {
namespace {

constexpr int64_t kMaxElements = int64_t{1} << 31;  // 8 GiB of floats: more is not a model of ours

float half_to_float(uint16_t h) {
  const uint32_t sign = (h & 0x8000u) << 16, exp = (h >> 10) & 0x1f, mant = h & 0x3ff;
  uint32_t bits;
  if (exp == 0) {
    if (mant == 0) {
      bits = sign;
    } else {  // subnormal
      int e = -1;
      uint32_t m = mant;
      do {
        ++e;
        m <<= 1;
      } while ((m & 0x400) == 0);
      bits = sign | ((127 - 15 - e) << 23) | ((m & 0x3ff) << 13);
    }
  } else if (exp == 31) {
    bits = sign | 0x7f800000u | (mant << 13);
  } else {
    bits = sign | ((exp + 112) << 23) | (mant << 13);
  }
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

OnnxTensor convert_tensor(const onnx::TensorProto& t, const std::string& where) {
  OnnxTensor out;
  out.name = t.name();
  out.data_type = t.data_type();
  int64_t count = 1;
  for (int64_t d : t.dims()) {
    if (d < 0 || d > kMaxElements || count * std::max<int64_t>(d, 1) > kMaxElements) {
      throw InputError(where + ": tensor '" + t.name() + "' has an invalid shape; the file is " +
                       "corrupt");
    }
    out.dims.push_back(d);
    count *= d;
  }
  if (t.data_location() == onnx::TensorProto::EXTERNAL) {
    throw InputError(where + ": tensor '" + t.name() + "' stores its data in an external file; " +
                     "save the model with its weights inside");
  }
  const std::string& raw = t.raw_data();
  auto need_raw = [&](size_t element_bytes) {
    if (raw.size() != static_cast<size_t>(count) * element_bytes) {
      throw InputError(where + ": tensor '" + t.name() + "' holds " + std::to_string(raw.size()) +
                       " bytes for " + std::to_string(count) + " elements; the file is corrupt");
    }
  };
  auto check_count = [&](int n) {
    if (n != count) {
      throw InputError(where + ": tensor '" + t.name() + "' holds " + std::to_string(n) +
                       " values for " + std::to_string(count) + " elements; the file is corrupt");
    }
  };
  switch (t.data_type()) {
    case onnx::TensorProto::FLOAT:
      if (!raw.empty() || count == 0) {
        need_raw(4);
        out.floats.resize(count);
        std::memcpy(out.floats.data(), raw.data(), raw.size());
      } else {
        check_count(t.float_data_size());
        out.floats.assign(t.float_data().begin(), t.float_data().end());
      }
      break;
    case onnx::TensorProto::DOUBLE:
      if (!raw.empty()) {
        need_raw(8);
        out.floats.resize(count);
        for (int64_t i = 0; i < count; ++i) {
          double d;
          std::memcpy(&d, raw.data() + 8 * i, 8);
          out.floats[i] = static_cast<float>(d);
        }
      } else {
        check_count(t.double_data_size());
        for (double d : t.double_data()) out.floats.push_back(static_cast<float>(d));
      }
      break;
    case onnx::TensorProto::FLOAT16:
    case onnx::TensorProto::BFLOAT16: {
      // bfloat16 is the top half of a float32.
      const bool bf16 = t.data_type() == onnx::TensorProto::BFLOAT16;
      auto widen = [bf16](uint16_t h) {
        if (!bf16) return half_to_float(h);
        const uint32_t bits = static_cast<uint32_t>(h) << 16;
        float f;
        std::memcpy(&f, &bits, 4);
        return f;
      };
      if (!raw.empty()) {
        need_raw(2);
        out.floats.resize(count);
        for (int64_t i = 0; i < count; ++i) {
          uint16_t h;
          std::memcpy(&h, raw.data() + 2 * i, 2);
          out.floats[i] = widen(h);
        }
      } else {
        check_count(t.int32_data_size());
        for (int32_t h : t.int32_data()) out.floats.push_back(widen(static_cast<uint16_t>(h)));
      }
      break;
    }
    case onnx::TensorProto::INT64:
      if (!raw.empty()) {
        need_raw(8);
        out.ints.resize(count);
        std::memcpy(out.ints.data(), raw.data(), raw.size());
      } else {
        check_count(t.int64_data_size());
        out.ints.assign(t.int64_data().begin(), t.int64_data().end());
      }
      break;
    case onnx::TensorProto::INT32:
    case onnx::TensorProto::INT8:
    case onnx::TensorProto::UINT8:
    case onnx::TensorProto::BOOL: {
      const int type = t.data_type();
      const size_t bytes = type == onnx::TensorProto::INT32 ? 4 : 1;
      if (!raw.empty()) {
        need_raw(bytes);
        out.ints.resize(count);
        for (int64_t i = 0; i < count; ++i) {
          if (type == onnx::TensorProto::INT32) {
            int32_t v;
            std::memcpy(&v, raw.data() + 4 * i, 4);
            out.ints[i] = v;
          } else if (type == onnx::TensorProto::INT8) {
            out.ints[i] = static_cast<int8_t>(raw[i]);
          } else {
            out.ints[i] = static_cast<uint8_t>(raw[i]);
          }
        }
      } else {
        check_count(t.int32_data_size());
        out.ints.assign(t.int32_data().begin(), t.int32_data().end());
      }
      break;
    }
    default:
      throw InputError(where + ": tensor '" + t.name() + "' has data type " +
                       std::to_string(t.data_type()) + ", which pitlane eval does not read; " +
                       "use float32, float16 or integer tensors");
  }
  return out;
}

OnnxValue convert_value(const onnx::ValueInfoProto& v) {
  OnnxValue out;
  out.name = v.name();
  if (v.type().has_tensor_type()) {
    out.elem_type = v.type().tensor_type().elem_type();
    if (v.type().tensor_type().has_shape()) {
      for (const auto& d : v.type().tensor_type().shape().dim()) {
        out.dims.push_back(d.has_dim_value() ? d.dim_value() : -1);
      }
    }
  }
  return out;
}

}  // namespace

const OnnxAttribute* OnnxNode::attribute(const std::string& attr) const {
  for (const auto& a : attributes) {
    if (a.name == attr) return &a;
  }
  return nullptr;
}

int64_t OnnxNode::attr_int(const std::string& attr, int64_t fallback) const {
  const auto* a = attribute(attr);
  return a ? a->i : fallback;
}

float OnnxNode::attr_float(const std::string& attr, float fallback) const {
  const auto* a = attribute(attr);
  return a ? a->f : fallback;
}

std::vector<int64_t> OnnxNode::attr_ints(const std::string& attr,
                                         std::vector<int64_t> fallback) const {
  const auto* a = attribute(attr);
  return a ? a->ints : fallback;
}

std::string OnnxNode::attr_string(const std::string& attr, std::string fallback) const {
  const auto* a = attribute(attr);
  return a ? a->s : fallback;
}

OnnxGraph read_onnx(const fs::path& path) {
  const std::string where = path.string();
  if (!fs::is_regular_file(path)) {
    throw InputError(where + ": no such model file; give the path of an .onnx model");
  }
  const std::string bytes = read_file(path);
  onnx::ModelProto model;
  if (bytes.empty() || !model.ParseFromString(bytes)) {
    throw InputError(where + ": not a valid ONNX model (protobuf parse failed); re-export it");
  }
  if (!model.has_graph()) throw InputError(where + ": ONNX model has no graph; re-export it");
  OnnxGraph g;
  g.source = path;
  for (const auto& op : model.opset_import()) {
    if (op.domain().empty() || op.domain() == "ai.onnx") g.opset = op.version();
  }
  for (const auto& p : model.metadata_props()) g.metadata[p.key()] = p.value();
  const onnx::GraphProto& graph = model.graph();
  for (const auto& t : graph.initializer()) g.initializers.push_back(convert_tensor(t, where));
  for (const auto& v : graph.input()) {
    bool is_init = false;
    for (const auto& t : g.initializers) is_init |= t.name == v.name();
    if (!is_init) g.inputs.push_back(convert_value(v));
  }
  for (const auto& v : graph.output()) g.outputs.push_back(convert_value(v));
  for (const auto& n : graph.node()) {
    OnnxNode node;
    node.name = n.name();
    node.op_type = n.op_type();
    node.domain = n.domain();
    node.inputs.assign(n.input().begin(), n.input().end());
    node.outputs.assign(n.output().begin(), n.output().end());
    for (const auto& a : n.attribute()) {
      OnnxAttribute attr;
      attr.name = a.name();
      attr.type = a.type();
      attr.i = a.i();
      attr.f = a.f();
      attr.s = a.s();
      attr.ints.assign(a.ints().begin(), a.ints().end());
      attr.floats.assign(a.floats().begin(), a.floats().end());
      if (a.has_t()) attr.tensors.push_back(convert_tensor(a.t(), where));
      node.attributes.push_back(std::move(attr));
    }
    g.nodes.push_back(std::move(node));
  }
  if (g.inputs.empty() || g.outputs.empty()) {
    throw InputError(where + ": ONNX graph has no inputs or no outputs; re-export it");
  }
  return g;
}

}  // namespace pitlane::eval
