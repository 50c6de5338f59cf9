#include "pitlane/onnx/tensor.h"

#include <onnx/onnx_pb.h>

#include <cmath>
#include <cstring>
#include <limits>

#include "pitlane/core/error.h"

namespace pitlane::onnx {
namespace {

constexpr int64_t kMaxDim = int64_t{1} << 31;

// Reads `count` little-endian values of type T from raw_data, or the typed repeated field.
template <typename T, typename Field>
std::vector<T> read_values(const ::onnx::TensorProto& t, const Field& field, int64_t count,
                           const char* what, const std::string& where) {
  const std::string& raw = t.raw_data();
  std::vector<T> out;
  if (!raw.empty() || field.empty()) {
    if (raw.size() % sizeof(T))
      throw InputError(where + " raw data is not a whole number of " + what + "s");
    if (raw.size() / sizeof(T) != static_cast<size_t>(count))
      throw InputError(where + " holds " + std::to_string(raw.size() / sizeof(T)) + " raw " + what +
                       " values but its shape needs " + std::to_string(count) +
                       "; the file is corrupt");
    out.resize(count);
    if (count) std::memcpy(out.data(), raw.data(), count * sizeof(T));
    return out;
  }
  if (field.size() != count)
    throw InputError(where + " holds " + std::to_string(field.size()) + " " + what +
                     " values but its shape needs " + std::to_string(count) +
                     "; the file is corrupt");
  out.reserve(count);
  for (const auto& x : field) out.push_back(static_cast<T>(x));
  return out;
}

}  // namespace

Value decode_tensor(const ::onnx::TensorProto& t, const std::string& where) {
  if (t.data_location() == ::onnx::TensorProto::EXTERNAL || t.external_data_size() > 0)
    throw InputError(where +
                     " uses external data; save the model with all tensors inside the file");
  if (t.dims_size() > 8) throw InputError(where + " has more than 8 dimensions");
  Value v{.name = t.name(), .has_shape = true, .is_const = true, .file_type = t.data_type()};
  int64_t count = 1;
  for (int64_t d : t.dims()) {
    if (d < 0 || d > kMaxDim)
      throw InputError(where + " has an invalid dimension " + std::to_string(d));
    count *= d;
    if (count > kMaxTensorElements) throw InputError(where + " is too large");
    v.shape.push_back(d);
  }
  switch (t.data_type()) {
    case ::onnx::TensorProto::FLOAT:
      v.f32 = read_values<float>(t, t.float_data(), count, "float", where);
      break;
    case ::onnx::TensorProto::DOUBLE:
      for (double d : read_values<double>(t, t.double_data(), count, "double", where))
        v.f32.push_back(static_cast<float>(d));
      break;
    case ::onnx::TensorProto::INT64:
      v.dtype = DType::i64;
      v.i64 = read_values<int64_t>(t, t.int64_data(), count, "int64", where);
      break;
    case ::onnx::TensorProto::INT32:
      v.dtype = DType::i32;
      for (int32_t x : read_values<int32_t>(t, t.int32_data(), count, "int32", where))
        v.i64.push_back(x);
      v.f32.assign(v.i64.begin(), v.i64.end());  // quantized kernels read the float storage
      break;
    case ::onnx::TensorProto::UINT8:
    case ::onnx::TensorProto::INT8: {
      const bool is_u8 = t.data_type() == ::onnx::TensorProto::UINT8;
      v.dtype = is_u8 ? DType::u8 : DType::i8;
      const char* what = is_u8 ? "uint8" : "int8";
      if (!t.raw_data().empty() || t.int32_data_size() == 0) {
        for (uint8_t x : read_values<uint8_t>(t, t.int32_data(), count, what, where))
          v.f32.push_back(is_u8 ? static_cast<float>(x)
                                : static_cast<float>(static_cast<int8_t>(x)));
      } else {
        for (int32_t x : read_values<int32_t>(t, t.int32_data(), count, what, where)) {
          if (x < (is_u8 ? 0 : -128) || x > (is_u8 ? 255 : 127))
            throw InputError(where + " holds " + std::to_string(x) + ", out of its 8-bit range");
          v.f32.push_back(static_cast<float>(x));
        }
      }
      break;
    }
    case ::onnx::TensorProto::FLOAT16:
    case ::onnx::TensorProto::BFLOAT16: {
      // Half-precision weights (pitlane's float16 / bf16 recipes, fp16 exports): widened here.
      const bool half = t.data_type() == ::onnx::TensorProto::FLOAT16;
      for (uint16_t b : read_values<uint16_t>(t, t.int32_data(), count, "16-bit float", where))
        v.f32.push_back(half ? half_to_float(b) : bf16_to_float(b));
      break;
    }
    default:
      throw InputError(where + " has data type " + std::to_string(t.data_type()) +
                       ", not supported; pitlane reads float32/64/16, bfloat16, (u)int8, int32 "
                       "and int64 tensors");
  }
  return v;
}

std::vector<float> values_as_floats(const Value& v) {
  if (v.dtype != DType::i64) return v.f32;
  return {v.i64.begin(), v.i64.end()};
}

::onnx::TensorProto float_tensor(const std::string& name, const std::vector<int64_t>& dims,
                                 const std::vector<float>& data) {
  ::onnx::TensorProto t;
  t.set_name(name);
  t.set_data_type(::onnx::TensorProto::FLOAT);
  for (int64_t d : dims) t.add_dims(d);
  t.set_raw_data(std::string(reinterpret_cast<const char*>(data.data()), data.size() * 4));
  return t;
}

::onnx::TensorProto int_tensor(const std::string& name, const std::vector<int64_t>& dims,
                               int data_type, const std::vector<int32_t>& data) {
  ::onnx::TensorProto t;
  t.set_name(name);
  t.set_data_type(data_type);
  for (int64_t d : dims) t.add_dims(d);
  std::string raw;
  raw.reserve(data.size() * (data_type == ::onnx::TensorProto::INT32 ? 4 : 1));
  for (int32_t v : data) {
    if (data_type == ::onnx::TensorProto::INT32)
      raw.append(reinterpret_cast<const char*>(&v), 4);
    else
      raw.push_back(static_cast<char>(v));
  }
  t.set_raw_data(raw);
  return t;
}

::onnx::TensorProto half_tensor(const std::string& name, const std::vector<int64_t>& dims,
                                const std::vector<float>& data, bool bfloat16) {
  ::onnx::TensorProto t;
  t.set_name(name);
  t.set_data_type(bfloat16 ? ::onnx::TensorProto::BFLOAT16 : ::onnx::TensorProto::FLOAT16);
  for (int64_t d : dims) t.add_dims(d);
  std::string raw(data.size() * 2, '\0');
  for (size_t i = 0; i < data.size(); ++i) {
    const uint16_t h = bfloat16 ? float_to_bf16(data[i]) : float_to_half(data[i]);
    std::memcpy(raw.data() + 2 * i, &h, 2);
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

}  // namespace pitlane::onnx
