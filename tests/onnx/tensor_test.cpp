// The one tensor decoder against hand-built TensorProtos of every data type, its bounds, and the
// half-precision conversions against IEEE 754 values computed by hand.
#include "pitlane/onnx/tensor.h"

#include <gtest/gtest.h>
#include <onnx/onnx_pb.h>

#include <cmath>
#include <cstring>
#include <limits>

#include "pitlane/core/error.h"

namespace pitlane::onnx {
namespace {

using ::onnx::TensorProto;

TensorProto proto(int type, std::vector<int64_t> dims) {
  TensorProto t;
  t.set_name("t");
  t.set_data_type(type);
  for (int64_t d : dims) t.add_dims(d);
  return t;
}

template <typename T>
void set_raw(TensorProto& t, const std::vector<T>& v) {
  t.set_raw_data(std::string(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(T)));
}

TEST(DecodeTensor, FloatFromRawAndFromTypedField) {
  TensorProto raw = proto(TensorProto::FLOAT, {2, 2});
  set_raw<float>(raw, {1.0f, -2.5f, 3.25f, 0.0f});
  const Value a = decode_tensor(raw, "raw");
  EXPECT_EQ(a.dtype, DType::f32);
  EXPECT_EQ(a.shape, (std::vector<int64_t>{2, 2}));
  EXPECT_EQ(a.f32, (std::vector<float>{1.0f, -2.5f, 3.25f, 0.0f}));
  EXPECT_TRUE(a.is_const);
  EXPECT_EQ(a.file_type, TensorProto::FLOAT);

  TensorProto typed = proto(TensorProto::FLOAT, {3});
  for (float f : {4.0f, 5.0f, 6.0f}) typed.add_float_data(f);
  EXPECT_EQ(decode_tensor(typed, "typed").f32, (std::vector<float>{4.0f, 5.0f, 6.0f}));
}

TEST(DecodeTensor, IntegerTypes) {
  TensorProto i64 = proto(TensorProto::INT64, {3});
  set_raw<int64_t>(i64, {-1, 0, int64_t{1} << 40});
  const Value a = decode_tensor(i64, "i64");
  EXPECT_EQ(a.dtype, DType::i64);
  EXPECT_EQ(a.i64, (std::vector<int64_t>{-1, 0, int64_t{1} << 40}));
  EXPECT_EQ(values_as_floats(a), (std::vector<float>{-1.0f, 0.0f, 1099511627776.0f}));

  TensorProto i32 = proto(TensorProto::INT32, {2});
  for (int32_t x : {-70000, 123}) i32.add_int32_data(x);
  const Value b = decode_tensor(i32, "i32");
  EXPECT_EQ(b.dtype, DType::i32);
  EXPECT_EQ(b.i64, (std::vector<int64_t>{-70000, 123}));
  EXPECT_EQ(b.f32, (std::vector<float>{-70000.0f, 123.0f}));  // quantized kernels read floats

  TensorProto u8 = proto(TensorProto::UINT8, {3});
  u8.set_raw_data(std::string("\x00\x80\xff", 3));
  EXPECT_EQ(decode_tensor(u8, "u8").f32, (std::vector<float>{0.0f, 128.0f, 255.0f}));
  EXPECT_EQ(decode_tensor(u8, "u8").dtype, DType::u8);

  TensorProto i8 = proto(TensorProto::INT8, {3});
  i8.set_raw_data(std::string("\x00\x80\xff", 3));
  EXPECT_EQ(decode_tensor(i8, "i8").f32, (std::vector<float>{0.0f, -128.0f, -1.0f}));
  TensorProto i8typed = proto(TensorProto::INT8, {2});
  for (int32_t x : {-128, 127}) i8typed.add_int32_data(x);
  EXPECT_EQ(decode_tensor(i8typed, "i8").f32, (std::vector<float>{-128.0f, 127.0f}));
}

TEST(DecodeTensor, HalfPrecisionWidensToFloat) {
  TensorProto h = proto(TensorProto::FLOAT16, {4});
  // 1.0, -2.0, 65504 (largest half), 2^-24 (smallest subnormal)
  set_raw<uint16_t>(h, {0x3c00, 0xc000, 0x7bff, 0x0001});
  const Value a = decode_tensor(h, "fp16");
  EXPECT_EQ(a.dtype, DType::f32);
  EXPECT_EQ(a.file_type, TensorProto::FLOAT16);
  EXPECT_EQ(a.f32, (std::vector<float>{1.0f, -2.0f, 65504.0f, std::ldexp(1.0f, -24)}));

  TensorProto b = proto(TensorProto::BFLOAT16, {2});
  for (int32_t x : {0x3f80, 0xc0a0}) b.add_int32_data(x);  // typed field: one value per int32
  EXPECT_EQ(decode_tensor(b, "bf16").f32, (std::vector<float>{1.0f, -5.0f}));

  TensorProto d = proto(TensorProto::DOUBLE, {2});
  d.add_double_data(0.5);
  d.add_double_data(-1e10);
  EXPECT_EQ(decode_tensor(d, "double").f32, (std::vector<float>{0.5f, -1e10f}));
}

TEST(DecodeTensor, RefusesMalformedTensorsNamingThePlace) {
  auto message = [](const TensorProto& t) {
    try {
      decode_tensor(t, "model.onnx: initializer 'w'");
    } catch (const InputError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  TensorProto short_raw = proto(TensorProto::FLOAT, {4});
  set_raw<float>(short_raw, {1.0f, 2.0f});
  EXPECT_NE(message(short_raw).find("model.onnx: initializer 'w' holds 2 raw float values but its "
                                    "shape needs 4"),
            std::string::npos)
      << message(short_raw);

  TensorProto ragged = proto(TensorProto::FLOAT, {1});
  ragged.set_raw_data("abcde");
  EXPECT_NE(message(ragged).find("not a whole number"), std::string::npos);

  TensorProto negative = proto(TensorProto::FLOAT, {-3});
  EXPECT_NE(message(negative).find("invalid dimension -3"), std::string::npos);

  TensorProto huge = proto(TensorProto::FLOAT, {1 << 20, 1 << 20});
  EXPECT_NE(message(huge).find("too large"), std::string::npos);

  TensorProto external = proto(TensorProto::FLOAT, {1});
  external.set_data_location(TensorProto::EXTERNAL);
  EXPECT_NE(message(external).find("external data"), std::string::npos);

  TensorProto out_of_range = proto(TensorProto::UINT8, {1});
  out_of_range.add_int32_data(300);
  EXPECT_NE(message(out_of_range).find("holds 300, out of its 8-bit range"), std::string::npos);

  TensorProto strings = proto(TensorProto::STRING, {1});
  EXPECT_NE(message(strings).find("data type 8, not supported"), std::string::npos);
}

TEST(Encoders, RoundTripThroughTheDecoder) {
  const std::vector<float> f = {0.25f, -7.0f, 1e-3f};
  EXPECT_EQ(decode_tensor(float_tensor("a", {3}, f), "a").f32, f);
  const Value q = decode_tensor(int_tensor("q", {3}, TensorProto::INT8, {-127, 0, 127}), "q");
  EXPECT_EQ(q.dtype, DType::i8);
  EXPECT_EQ(q.f32, (std::vector<float>{-127.0f, 0.0f, 127.0f}));
  const Value b = decode_tensor(int_tensor("b", {2}, TensorProto::INT32, {-5, 1 << 20}), "b");
  EXPECT_EQ(b.i64, (std::vector<int64_t>{-5, 1 << 20}));
  // Values exact in half precision come back unchanged.
  const std::vector<float> halfs = {0.5f, -1024.0f, 3.0f};
  EXPECT_EQ(decode_tensor(half_tensor("h", {3}, halfs, false), "h").f32, halfs);
  EXPECT_EQ(decode_tensor(half_tensor("h", {3}, halfs, true), "h").f32, halfs);
}

TEST(HalfConversions, RoundToNearestEvenByHand) {
  EXPECT_EQ(float_to_half(1.0f), 0x3c00);
  EXPECT_EQ(float_to_half(-2.0f), 0xc000);
  EXPECT_EQ(float_to_half(65504.0f), 0x7bff);
  EXPECT_EQ(float_to_half(65520.0f), 0x7c00);  // halfway to 2^16 rounds to infinity
  EXPECT_EQ(float_to_half(0.1f), 0x2e66);      // 0.0999755859375
  EXPECT_EQ(float_to_half(std::ldexp(1.0f, -24)), 0x0001);
  EXPECT_EQ(float_to_half(std::ldexp(1.0f, -25)), 0x0000);             // tie: to even (zero)
  EXPECT_EQ(float_to_half(1.0f + std::ldexp(1.0f, -11)), 0x3c00);      // tie: to even
  EXPECT_EQ(float_to_half(1.0f + 3 * std::ldexp(1.0f, -11)), 0x3c02);  // tie: to even (up)
  EXPECT_EQ(float_to_half(std::numeric_limits<float>::infinity()), 0x7c00);
  EXPECT_TRUE(std::isnan(half_to_float(float_to_half(std::nanf("")))));

  EXPECT_EQ(float_to_bf16(1.0f), 0x3f80);
  EXPECT_EQ(float_to_bf16(1.0f + std::ldexp(1.0f, -8)), 0x3f80);      // tie: to even
  EXPECT_EQ(float_to_bf16(1.0f + 3 * std::ldexp(1.0f, -8)), 0x3f82);  // tie: to even (up)
  EXPECT_EQ(bf16_to_float(0xc0a0), -5.0f);
}

TEST(HalfConversions, EveryFiniteHalfRoundTrips) {
  for (uint32_t h = 0; h < 0x10000; ++h) {
    const float f = half_to_float(static_cast<uint16_t>(h));
    if (std::isnan(f)) continue;
    ASSERT_EQ(float_to_half(f), h) << std::hex << h;
  }
}

}  // namespace
}  // namespace pitlane::onnx
