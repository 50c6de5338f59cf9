#include "pitlane/runtime/npy.h"

#include <cstring>

#include "pitlane/core/error.h"
#include "pitlane/core/files.h"

namespace pitlane::runtime {
namespace {

constexpr size_t kMaxHeader = 1 << 16;
constexpr int64_t kMaxElements = int64_t{1} << 32;

[[noreturn]] void fail(const std::string& source, const std::string& what) {
  throw InputError(source + ": " + what);
}

// The value of key 'name' in the header dict, as raw text up to the next top-level comma/brace.
std::string header_field(const std::string& header, const std::string& key,
                         const std::string& source) {
  const std::string quoted = "'" + key + "'";
  const size_t at = header.find(quoted);
  if (at == std::string::npos) fail(source, "npy header has no '" + key + "'; not a .npy file?");
  size_t pos = header.find(':', at + quoted.size());
  if (pos == std::string::npos) fail(source, "npy header is malformed near '" + key + "'");
  ++pos;
  while (pos < header.size() && header[pos] == ' ') ++pos;
  size_t end = pos;
  if (pos < header.size() && header[pos] == '(') {
    end = header.find(')', pos);
    if (end == std::string::npos) fail(source, "npy header shape is not closed");
    return header.substr(pos, end - pos + 1);
  }
  while (end < header.size() && header[end] != ',' && header[end] != '}') ++end;
  return header.substr(pos, end - pos);
}

}  // namespace

NpyArray parse_npy(std::string_view bytes, const std::string& source) {
  if (bytes.size() < 10 || bytes.substr(0, 6) != std::string_view("\x93NUMPY", 6))
    fail(source, "not a NumPy .npy file (bad magic); save it with numpy.save");
  const auto major = static_cast<uint8_t>(bytes[6]);
  size_t header_len = 0, start = 0;
  if (major == 1) {
    header_len = static_cast<uint8_t>(bytes[8]) | (static_cast<uint8_t>(bytes[9]) << 8);
    start = 10;
  } else if (major == 2 || major == 3) {
    if (bytes.size() < 12) fail(source, "truncated .npy header");
    uint32_t len = 0;
    std::memcpy(&len, bytes.data() + 8, 4);
    header_len = len;
    start = 12;
  } else {
    fail(source, "unsupported .npy version " + std::to_string(major));
  }
  if (header_len > kMaxHeader || start + header_len > bytes.size())
    fail(source, "truncated or oversized .npy header");
  const std::string header(bytes.substr(start, header_len));
  std::string descr = header_field(header, "descr", source);
  // uint8 / int8 arrays (pixels for uint8-input models) are read as exact floats.
  const bool u8 = descr == "'|u1'" || descr == "'uint8'";
  const bool i8 = descr == "'|i1'" || descr == "'int8'";
  if (descr != "'<f4'" && descr != "'float32'" && !u8 && !i8)
    fail(source,
         "dtype " + descr + " is not supported; save the array as float32 ('<f4'), or uint8/int8");
  const size_t element_bytes = u8 || i8 ? 1 : sizeof(float);
  if (header_field(header, "fortran_order", source) != "False")
    fail(source, "Fortran-ordered arrays are not supported; save a C-ordered array");
  const std::string shape_text = header_field(header, "shape", source);
  NpyArray out;
  int64_t count = 1;
  {
    size_t i = 1;  // after '('
    while (i < shape_text.size()) {
      while (i < shape_text.size() && (shape_text[i] == ' ' || shape_text[i] == ',')) ++i;
      if (i >= shape_text.size() || shape_text[i] == ')') break;
      int64_t d = 0;
      size_t digits = 0;
      while (i < shape_text.size() && shape_text[i] >= '0' && shape_text[i] <= '9') {
        d = d * 10 + (shape_text[i] - '0');
        if (++digits > 12) fail(source, "npy shape dimension too large");
        ++i;
      }
      if (digits == 0) fail(source, "npy shape " + shape_text + " is malformed");
      if (out.shape.size() >= 8) fail(source, "npy arrays of more than 8 dimensions unsupported");
      out.shape.push_back(d);
      count *= d;
      if (count > kMaxElements) fail(source, "npy array too large");
    }
  }
  const size_t payload = start + header_len;
  const size_t need = static_cast<size_t>(count) * element_bytes;
  if (bytes.size() - payload != need)
    fail(source, "holds " + std::to_string(bytes.size() - payload) + " data bytes, shape " +
                     shape_text + " needs " + std::to_string(need) +
                     "; the file is truncated or corrupt");
  out.data.resize(static_cast<size_t>(count));
  if (u8 || i8) {
    for (int64_t k = 0; k < count; ++k) {
      const char c = bytes[payload + k];
      out.data[k] = u8 ? static_cast<float>(static_cast<uint8_t>(c))
                       : static_cast<float>(static_cast<int8_t>(c));
    }
  } else if (need) {
    std::memcpy(out.data.data(), bytes.data() + payload, need);
  }
  return out;
}

NpyArray read_npy(const std::filesystem::path& path) {
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  if (ec) throw InputError(path.string() + ": cannot read (" + ec.message() + ")");
  if (size > static_cast<uintmax_t>(kMaxElements) * 4 + kMaxHeader)
    throw InputError(path.string() + ": file too large for a .npy input");
  return parse_npy(read_file(path), path.string());
}

std::string format_npy(std::span<const int64_t> shape, std::span<const float> data) {
  std::string dims;
  for (size_t i = 0; i < shape.size(); ++i) {
    dims += std::to_string(shape[i]);
    if (shape.size() == 1 || i + 1 < shape.size()) dims += shape.size() == 1 ? "," : ", ";
  }
  std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': (" + dims + "), }";
  const size_t total = 10 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header += '\n';
  std::string out("\x93NUMPY\x01\x00", 8);
  out += static_cast<char>(header.size() & 0xff);
  out += static_cast<char>(header.size() >> 8);
  out += header;
  out.append(reinterpret_cast<const char*>(data.data()), data.size_bytes());
  return out;
}

void write_npy(const std::filesystem::path& path, std::span<const int64_t> shape,
               std::span<const float> data) {
  write_file_atomic(path, format_npy(shape, data));
}

}  // namespace pitlane::runtime
