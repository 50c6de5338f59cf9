// Compressed sizes, as peers report model sizes (TFLite's gzipped file, `gzip -6`).
//
//   int64_t packed = gzip_size(read_file("model.onnx"));
#pragma once

#include <cstdint>
#include <string_view>

namespace pitlane {

// Size of `bytes` after gzip compression at level 6 (the gzip tool's default).
int64_t gzip_size(std::string_view bytes);

}  // namespace pitlane
