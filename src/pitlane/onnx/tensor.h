// ONNX tensors: the one decoder from a TensorProto into a graph Value (every data type pitlane
// reads: float, double, float16, bfloat16, (u)int8, int32, int64; bounded: the element count is
// checked against the data before anything is copied), the encoders the recipes and the writer
// use, and the half-precision conversions.
//
//   Value w = decode_tensor(proto, "model.onnx: initializer 'conv1.weight'");
//   ::onnx::TensorProto t = float_tensor("conv1.weight", {24, 3, 5, 5}, w.f32);
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "pitlane/onnx/graph.h"

namespace onnx {
class TensorProto;
}

namespace pitlane::onnx {

// Largest constant accepted: 2^28 elements (1 GiB of floats).
inline constexpr int64_t kMaxTensorElements = int64_t{1} << 28;

// The tensor as constant data (name, dtype, shape, f32 / i64 as Value documents them, and
// file_type). InputError "<where> ..." for external data, bad dimensions, a count that does not
// match the shape, out-of-range 8-bit values and unsupported data types.
Value decode_tensor(const ::onnx::TensorProto& t, const std::string& where);

// A constant's values as floats, whatever its dtype (int64 converted).
std::vector<float> values_as_floats(const Value& v);

// Encoders: raw little-endian data, as every exporter writes it.
::onnx::TensorProto float_tensor(const std::string& name, const std::vector<int64_t>& dims,
                                 const std::vector<float>& data);
// data_type: UINT8, INT8 or INT32 (TensorProto::DataType), values already in range.
::onnx::TensorProto int_tensor(const std::string& name, const std::vector<int64_t>& dims,
                               int data_type, const std::vector<int32_t>& data);
// FLOAT16 (IEEE half) or BFLOAT16, both rounded to nearest even.
::onnx::TensorProto half_tensor(const std::string& name, const std::vector<int64_t>& dims,
                                const std::vector<float>& data, bool bfloat16);

// IEEE half and bfloat16 conversions (to 16 bits: round to nearest even; NaN stays NaN).
uint16_t float_to_half(float f);
uint16_t float_to_bf16(float f);
float half_to_float(uint16_t h);
float bf16_to_float(uint16_t b);

}  // namespace pitlane::onnx
