// SHA-256 (FIPS 180-4), for content addresses: a model's parent in its metadata and the keys
// of the study's stage cache. Streaming, so large files hash without being held twice.
//
//   Sha256 h;  h.update("abc");  std::string hex = h.hex_digest();
//   std::string file_hash = sha256_file("model.onnx");   // hex
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

namespace pitlane {

class Sha256 {
 public:
  Sha256();
  void update(std::string_view bytes);
  // The digest as 64 lowercase hex digits; the object is finished afterwards.
  std::string hex_digest();

 private:
  void compress(const uint8_t* block);

  std::array<uint32_t, 8> state_;
  std::array<uint8_t, 64> buffer_{};
  size_t buffered_ = 0;
  uint64_t total_bytes_ = 0;
};

std::string sha256_hex(std::string_view bytes);
// Hash of a file's contents; InputError naming the path if it cannot be read.
std::string sha256_file(const std::filesystem::path& path);

}  // namespace pitlane
