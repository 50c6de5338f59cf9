#include "pitlane/core/sha256.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <string>

#include "../temp_dir.h"
#include "pitlane/core/error.h"
#include "pitlane/core/files.h"
#include "pitlane/core/rng.h"

namespace pitlane {
namespace {

// FIPS 180-4 example vectors (NIST CSRC "SHA_All" examples).
TEST(Sha256, MatchesTheStandardsExamples) {
  EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

TEST(Sha256, StreamingInPiecesEqualsOneShot) {
  Rng rng(5);
  std::string bytes(10'000, '\0');
  for (char& c : bytes) c = static_cast<char>(rng.below(256));
  Sha256 h;
  for (size_t at = 0; at < bytes.size();) {
    const size_t n = std::min<size_t>(1 + rng.below(150), bytes.size() - at);
    h.update(std::string_view(bytes).substr(at, n));
    at += n;
  }
  EXPECT_EQ(h.hex_digest(), sha256_hex(bytes));
}

// The system's sha256sum is an independent implementation; lengths around block boundaries.
TEST(Sha256, FileHashAgreesWithSha256sum) {
  testing::TempDir dir("sha256");
  Rng rng(9);
  for (size_t len : {55u, 56u, 63u, 64u, 65u, 119u, 70'001u}) {
    std::string bytes(len, '\0');
    for (char& c : bytes) c = static_cast<char>(rng.below(256));
    const auto path = dir.path() / ("f" + std::to_string(len));
    write_file_atomic(path, bytes);
    FILE* p = popen(("sha256sum " + path.string()).c_str(), "r");
    ASSERT_NE(p, nullptr);
    char out[65] = {};
    ASSERT_EQ(fread(out, 1, 64, p), 64u);
    pclose(p);
    EXPECT_EQ(sha256_file(path), std::string(out, 64)) << "length " << len;
  }
}

TEST(Sha256, MissingFileIsAnInputError) {
  EXPECT_THROW(sha256_file("/nonexistent/x.onnx"), InputError);
}

}  // namespace
}  // namespace pitlane
