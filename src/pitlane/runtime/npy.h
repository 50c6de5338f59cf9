// NumPy .npy files: float32 arrays in and out of the runtime, the CLI and the tests.
//
// Reading is bounded and validated (magic, version, header length, dtype '<f4' (or '|u1' / '|i1',
// read as exact floats: pixels for uint8-input models), C order, shape against the file's size);
// every problem is an InputError naming the file and the fix.
//
//   NpyArray x = read_npy("x.npy");                 // x.shape = {1, 3, 66, 200}
//   write_npy("y.npy", {1, 2}, y_values);            // atomic: temporary file, then rename
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace pitlane::runtime {

struct NpyArray {
  std::vector<int64_t> shape;  // C-order dimensions; {} for a scalar
  std::vector<float> data;     // product(shape) values
};

// Parses the bytes of a .npy file; `source` names it in errors.
NpyArray parse_npy(std::string_view bytes, const std::string& source);
NpyArray read_npy(const std::filesystem::path& path);

// The bytes of a version 1.0 .npy file holding `data` with `shape` (float32, C order).
std::string format_npy(std::span<const int64_t> shape, std::span<const float> data);
void write_npy(const std::filesystem::path& path, std::span<const int64_t> shape,
               std::span<const float> data);

}  // namespace pitlane::runtime
